"""`syswardd`: the daemon's command line (see SPEC.md "Programs")."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from sysward.control.state import DEFAULT_HEARTBEAT_S
from sysward.daemon.lifecycle import DEFAULT_STOP_TIMEOUT_S, Daemon, DaemonOptions
from sysward.daemon.logs import configure_logging
from sysward.daemon.reload import ConfigSource
from sysward.errors import SyswardError

EXIT_OK, EXIT_FAILED, EXIT_INTERRUPTED = 0, 1, 130

_log = logging.getLogger("sysward.daemon")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    return build_parser().parse_args(argv)


def build_parser() -> argparse.ArgumentParser:
    """syswardd's command line; packaging/manpage.py renders it as syswardd(8)."""
    parser = argparse.ArgumentParser(
        prog="syswardd",
        description="The sysward daemon: durable LLM agents, controlled over a Unix socket.",
    )
    parser.add_argument(
        "--config",
        type=Path,
        help="config file (default $SYSWARD_CONFIG, else /etc/sysward/sysward.toml)",
    )
    parser.add_argument(
        "--state-dir",
        type=Path,
        help="dev mode: log, keys and socket (DIR/sysward.sock) under DIR; no root needed",
    )
    parser.add_argument(
        "--stop-timeout",
        type=_positive_seconds,
        default=DEFAULT_STOP_TIMEOUT_S,
        metavar="S",
        help="on SIGTERM, how long in-flight steps may take to become durable "
        "(default %(default)s)",
    )
    parser.add_argument(
        "--heartbeat",
        type=_positive_seconds,
        default=DEFAULT_HEARTBEAT_S,
        metavar="S",
        help="seconds between keepalive comments on idle event streams (default %(default)s)",
    )
    parser.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING"])
    return parser


def _positive_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not 0 < value <= 3600:
        raise argparse.ArgumentTypeError(f"must be > 0 and <= 3600, got {text}")
    return value


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    target = configure_logging(getattr(logging, args.log_level))
    source = ConfigSource.from_args(args.config, args.state_dir)
    options = DaemonOptions(
        source=source, stop_timeout_s=args.stop_timeout, heartbeat_s=args.heartbeat
    )
    _log.info("syswardd starting (config %s, logging to %s)", source.config_path, target)
    try:
        config = source.load()
        return asyncio.run(Daemon(options, config).run())
    except SyswardError as exc:
        _log.error("cannot start: %s", exc)
        return EXIT_FAILED
    except PermissionError as exc:
        _log.error("cannot start: %s (run as root, or unprivileged with --state-dir DIR)", exc)
        return EXIT_FAILED
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
