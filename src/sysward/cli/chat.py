"""`sysward chat AGENT`: an interactive session, one turn per line.

Ctrl-C during a turn cancels that turn in the daemon (the daemon goes on) and
returns to the prompt; Ctrl-C at the prompt clears the line; Ctrl-D or /quit exits.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from typing import TYPE_CHECKING

from sysward.cli.ask import cancel_turn, progress_printer, show_outcome
from sysward.cli.command import CommandSet, Context
from sysward.cli.output import note, print_json_line
from sysward.cli.turns import TurnFollower
from sysward.control.client import ApiError, PermissionDenied

if TYPE_CHECKING:
    from pathlib import Path

QUIT_WORDS = frozenset({"/quit", "/exit"})
HISTORY_LINES = 1000


def register(commands: CommandSet) -> None:
    parser = commands.add("chat", run_chat, "an interactive session with an agent")
    parser.add_argument("agent", metavar="AGENT")


def run_chat(ctx: Context, args: argparse.Namespace) -> int:
    agent: str = args.agent
    is_interactive = sys.stdin.isatty()
    history = open_history() if is_interactive else None
    if is_interactive:
        note(f"chatting with {agent}; Ctrl-C cancels a running turn, Ctrl-D exits")
    follower = TurnFollower(ctx.client, agent, progress_printer(ctx, is_streaming=False))
    try:
        while (text := read_line(f"{agent}> " if is_interactive else "")) is not None:
            if text in QUIT_WORDS:
                break
            if text:
                run_turn(ctx, follower, text)
    finally:
        if history is not None:
            save_history(history)
    return 0


def read_line(prompt: str) -> str | None:
    """The next request, stripped; None at end of input. Ctrl-C here clears the line."""
    while True:
        try:
            return input(prompt).strip()
        except EOFError:
            if prompt:
                sys.stdout.write("\n")
            return None
        except KeyboardInterrupt:
            sys.stdout.write("\n")


def run_turn(ctx: Context, follower: TurnFollower, text: str) -> None:
    """One turn; errors the daemon reports about it are shown and the session goes on."""
    try:
        record = follower.prompt(text)
    except KeyboardInterrupt:
        note(cancel_turn(ctx.client, follower.record))
        return
    except PermissionDenied:
        raise
    except ApiError as exc:
        note(f"error {exc.code}: {exc.message}")
        return
    if ctx.is_json:
        print_json_line(record.summary())
    else:
        show_outcome(record)


def history_path() -> Path:
    from pathlib import Path  # only chat needs it: kept off the other commands' startup

    state = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(state) / "sysward" / "chat_history"


def open_history() -> Path | None:
    """Load readline's line history; None when readline is unavailable."""
    try:
        import readline
    except ImportError:
        return None
    path = history_path()
    readline.set_history_length(HISTORY_LINES)
    with contextlib.suppress(OSError):  # no history yet, or unreadable: start afresh
        readline.read_history_file(path)
    return path


def save_history(path: Path) -> None:
    import readline

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        readline.write_history_file(path)
    except OSError as exc:
        note(f"could not save chat history to {path}: {exc.strerror}")
