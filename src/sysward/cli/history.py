"""`sysward history AGENT` (the conversation) and `sysward turn ID` (one turn)."""

from __future__ import annotations

import argparse
import json

from sysward.cli.command import CommandSet, Context
from sysward.cli.output import clip, compact, print_json, say
from sysward.cli.progress import describe
from sysward.cli.shapes import History, HistoryMessage, TurnInfo
from sysward.control.client import path_segment

TOOL_OUTPUT_CHARS = 200
SYSTEM_CHARS = 100


def register(commands: CommandSet) -> None:
    history = commands.add("history", run_history, "an agent's conversation, turn by turn")
    history.add_argument("agent", metavar="AGENT")
    turn = commands.add("turn", run_turn, "one turn: its status, answer and events")
    turn.add_argument("turn", metavar="ID")


def run_history(ctx: Context, args: argparse.Namespace) -> int:
    history: History = ctx.client.get(f"/v1/agents/{path_segment(args.agent)}/history")
    if ctx.is_json:
        print_json(history)
        return 0
    if not history["messages"]:
        say(f"{history['agent']} has no conversation yet")
    current_turn: str | None = None
    for message in history["messages"]:
        if message["turn"] != current_turn and message["turn"] is not None:
            current_turn = message["turn"]
            say(f"── turn {current_turn} ──")
        for line in message_lines(history["agent"], message):
            say(line)
    return 0


def message_lines(agent: str, message: HistoryMessage) -> list[str]:
    """How one message reads: who said it, and the calls an assistant made."""
    role, content = message["role"], message["content"] or ""
    if role == "system":
        return [f"system: {clip(content, SYSTEM_CHARS)}"]
    if role == "user":
        return [f"you: {content}"]
    if role == "tool":
        return [f"  ← {describe_tool_message(content)}"]
    lines = [f"{agent}: {content}"] if content else []
    for call in message.get("tool_calls", []):
        lines.append(f"  → {call['tool']}.{call['action']} {compact(call.get('args', {}))}")
    return lines


def describe_tool_message(content: str) -> str:
    """A tool message holds the result as JSON: `ok <output>` or `error code: message`."""
    try:
        result = json.loads(content)
        if result["ok"]:
            return clip(f"ok {compact(result.get('output'))}", TOOL_OUTPUT_CHARS)
        error = result["error"]
        return clip(f"error {error['code']}: {error['message']}", TOOL_OUTPUT_CHARS)
    except (ValueError, KeyError, TypeError):
        return clip(content, TOOL_OUTPUT_CHARS)


def run_turn(ctx: Context, args: argparse.Namespace) -> int:
    turn: TurnInfo = ctx.client.get(f"/v1/turns/{path_segment(args.turn)}")
    if ctx.is_json:
        print_json(turn)
        return 0 if turn["status"] != "failed" else 1
    say(f"turn {turn['turn']} of {turn['agent']}: {turn['status']}, {turn.get('steps', 0)} steps")
    if turn.get("prompt"):
        say(f"you: {turn.get('prompt')}")
    for event in turn.get("events", []):
        for line in (describe(event) or "").splitlines():
            say(f"  {line}")
    if turn.get("answer"):
        say(f"{turn['agent']}: {turn.get('answer')}")
    if turn.get("error"):
        say(f"error: {turn.get('error')}")
    return 0 if turn["status"] != "failed" else 1
