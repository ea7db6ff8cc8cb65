"""The durable event log, its record model and the in-process event bus."""
