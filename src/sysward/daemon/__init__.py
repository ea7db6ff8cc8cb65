"""The daemon: the composition root that wires config, log, tools, agents and control."""

from __future__ import annotations

from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    """`syswardd`; imported lazily so importing this package stays cheap."""
    from sysward.daemon.main import main as run

    return run(argv)
