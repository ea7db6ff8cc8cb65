"""`make demo`: a durable agent turn, a `kill -9` of the daemon mid-turn, and the resume."""
