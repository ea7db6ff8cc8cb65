"""Triggers: host events (a unit failed, a device appeared, a file changed, a journal
entry, a schedule) that start an agent's turn, durably and exactly once."""
