"""The control API's routes, one module per resource (agents, events, system)."""
