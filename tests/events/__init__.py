"""Tests of sysward.events: the LMDB event log, its envelope, queries and the bus."""
