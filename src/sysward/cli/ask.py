"""`sysward ask AGENT TEXT`: one turn, its tool calls shown live, then the answer."""

from __future__ import annotations

import argparse
import sys

from sysward.cli.command import CommandSet, Context
from sysward.cli.output import note, print_json, print_json_line, say
from sysward.cli.progress import describe
from sysward.cli.shapes import Envelope, PromptAccepted
from sysward.cli.turns import OnEvent, TurnFollower, TurnRecord
from sysward.control.client import ApiError, ControlClient, PermissionDenied, path_segment

EXIT_INTERRUPTED = 130


def register(commands: CommandSet) -> None:
    parser = commands.add("ask", run_ask, "ask an agent once; shows each tool call as it runs")
    parser.add_argument("agent", metavar="AGENT")
    parser.add_argument("text", metavar="TEXT", help='the request; "-" reads it from stdin')
    parser.add_argument(
        "--stream",
        action="store_true",
        help="with --json: print every event of the turn as a JSON line as it happens",
    )
    parser.add_argument(
        "--no-wait", action="store_true", help="start the turn and print its id, do not wait"
    )


def run_ask(ctx: Context, args: argparse.Namespace) -> int:
    agent: str = args.agent
    text: str = sys.stdin.read() if args.text == "-" else args.text
    if args.no_wait:
        return start_turn(ctx, agent, text)
    follower = TurnFollower(ctx.client, agent, progress_printer(ctx, is_streaming=args.stream))
    try:
        record = follower.prompt(text)
    except KeyboardInterrupt:
        note(cancel_turn(ctx.client, follower.record))
        return EXIT_INTERRUPTED
    if ctx.is_json and not args.stream:
        print_json(record.summary())
    elif not ctx.is_json:
        show_outcome(record)
    return 0 if record.status == "completed" else 1


def start_turn(ctx: Context, agent: str, text: str) -> int:
    path = f"/v1/agents/{path_segment(agent)}/prompt"
    accepted: PromptAccepted = ctx.client.post(path, {"text": text, "wait": False})
    if ctx.is_json:
        print_json(accepted)
    else:
        say(accepted["turn"])
    return 0


def progress_printer(ctx: Context, *, is_streaming: bool) -> OnEvent:
    """What to do with each event: a progress line, a JSON line, or nothing (`--json`)."""

    def show_progress(event: Envelope) -> None:
        line = describe(event)
        if line is not None:
            note(line)

    def ignore(event: Envelope) -> None:
        pass

    if not ctx.is_json:
        return show_progress
    return print_json_line if is_streaming else ignore


def show_outcome(record: TurnRecord) -> None:
    """The answer on stdout; a failed turn's reason on stderr."""
    if record.status == "completed":
        say(record.answer or "")
        return
    note(f"turn {record.turn} {record.status}: {record.error or 'no reason given'}")


def cancel_turn(client: ControlClient, record: TurnRecord) -> str:
    """Ctrl-C: cancel the turn in the daemon (never the daemon itself) and say which."""
    if record.turn is None:
        return stopped_waiting(record)
    try:
        client.post(f"/v1/turns/{path_segment(record.turn)}/cancel", {})
    except PermissionDenied:
        raise
    except ApiError as exc:
        if exc.status == 409:
            return f"turn {record.turn} had already ended ({exc.message})"
        return f"{stopped_waiting(record)}; cancelling it failed: {exc.code}: {exc.message}"
    return f"cancelled turn {record.turn}"


def stopped_waiting(record: TurnRecord) -> str:
    if record.turn is None:
        return "stopped waiting; the turn may still start in the daemon"
    return (
        f"stopped waiting for turn {record.turn}; it continues in the daemon "
        f"(sysward turn {record.turn})"
    )
