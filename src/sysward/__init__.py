"""sysward: a durable LLM agent daemon for Linux servers."""

__version__ = "0.1.0"
