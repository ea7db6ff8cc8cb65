"""Reference documentation generated from the code, so it cannot drift from it.

`python -m sysward.reference` (or `make docs`) rewrites docs/api.md,
docs/events.md, docs/configuration.md and docs/tools.md; tests/reference fails
when a committed page differs from what the code renders.
"""
