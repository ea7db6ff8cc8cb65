"""Agents: the durable turn loop, conversation history, roles and the supervisor."""
