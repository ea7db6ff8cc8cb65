"""`sysward`: the control CLI. Parses the command line, runs one command, maps errors to exits.

Exit codes (SPEC.md): 0 success, 1 failure reported by the daemon, 2 usage
error, 3 daemon unreachable, 4 permission denied. Only the standard library
is imported on the way to a command, so `sysward status` starts in tens of ms.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from sysward import __version__
from sysward.cli import (
    agents,
    approvals,
    ask,
    chat,
    events,
    history,
    log,
    status,
    tools,
    triggers,
)
from sysward.cli.command import CommandSet, Context, Handler
from sysward.cli.output import print_json
from sysward.control.client import (
    DEFAULT_SOCKET,
    SOCKET_ENV,
    ApiError,
    ControlClient,
    ControlError,
    DaemonUnreachable,
    PermissionDenied,
    ProtocolError,
    socket_path_from,
)

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_UNREACHABLE = 3
EXIT_PERMISSION = 4
EXIT_INTERRUPTED = 130

COMMAND_GROUPS = (status, agents, ask, chat, history, events, approvals, triggers, tools, log)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sysward",
        description="Drive the sysward daemon through its control socket.",
        epilog="exit codes: 0 ok, 1 the daemon reported a failure, 2 usage error, "
        "3 daemon unreachable, 4 permission denied",
    )
    parser.add_argument("--version", action="version", version=f"sysward {__version__}")
    add_global_options(parser, default_socket=None, default_json=False)
    # Each command takes the global options too (`sysward agents --json`); there
    # they default to SUPPRESS so they never overwrite what came before the command.
    common = argparse.ArgumentParser(add_help=False)
    add_global_options(common, default_socket=argparse.SUPPRESS, default_json=argparse.SUPPRESS)
    subparsers = parser.add_subparsers(title="commands", metavar="COMMAND", required=True)
    commands = CommandSet(subparsers, common)
    for group in COMMAND_GROUPS:
        group.register(commands)
    return parser


def add_global_options(
    parser: argparse.ArgumentParser, *, default_socket: object, default_json: object
) -> None:
    parser.add_argument(
        "--socket",
        metavar="PATH",
        default=default_socket,
        help=f"the daemon's control socket (default: ${SOCKET_ENV}, else {DEFAULT_SOCKET})",
    )
    parser.add_argument(
        "--json",
        action="store_true",
        default=default_json,
        help="print one JSON document (JSON lines when following) for scripts",
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    handler: Handler = args.handler
    context = Context(ControlClient(socket_path_from(args.socket)), is_json=args.json)
    try:
        return run(handler, context, args)
    except BrokenPipeError:
        # The reader went away (`sysward events | head`): stop quietly, as cat does.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK


def run(handler: Handler, context: Context, args: argparse.Namespace) -> int:
    """Run a command; every error it can meet becomes a message and an exit code."""
    try:
        return handler(context, args)
    except DaemonUnreachable as exc:
        details = {"socket": exc.socket_path, "reason": exc.reason}
        return report(context, EXIT_UNREACHABLE, "daemon_unreachable", str(exc), details)
    except PermissionDenied as exc:
        return report(context, EXIT_PERMISSION, exc.code, exc.message, exc.details)
    except ApiError as exc:
        return report(context, EXIT_FAILED, exc.code, exc.message, exc.details)
    except ControlError as exc:
        code = "protocol_error" if isinstance(exc, ProtocolError) else "stream_error"
        return report(context, EXIT_FAILED, code, str(exc), {})
    except (KeyError, TypeError) as exc:
        message = f"the daemon's answer is not in the expected shape ({exc!r}); same version?"
        return report(context, EXIT_FAILED, "protocol_error", message, {})
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED


def report(context: Context, exit_code: int, code: str, message: str, details: object) -> int:
    """An error: its JSON body on stdout with --json, else a message on stderr."""
    if context.is_json:
        print_json({"error": {"code": code, "message": message, "details": details}})
    else:
        sys.stderr.write(
            f"sysward: {message}\n" if code in _PLAIN else f"sysward: {code}: {message}\n"
        )
    return exit_code


# Codes whose message already says it all.
_PLAIN = frozenset({"daemon_unreachable", "protocol_error", "stream_error"})


if __name__ == "__main__":
    sys.exit(main())
