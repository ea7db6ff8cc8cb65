"""Policy: the one chokepoint every tool call passes before it runs."""
