"""`sysward events`: query the event log, or follow it live (`--follow`)."""

from __future__ import annotations

import argparse
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from sysward.cli.command import CommandSet, Context
from sysward.cli.output import (
    compact,
    dash,
    note,
    print_json,
    print_json_line,
    say,
    table,
    timestamp,
)
from sysward.cli.progress import describe
from sysward.cli.shapes import Envelope, EventsPage
from sysward.control.client import ControlClient, ControlError, Query, StreamTimeout

COLUMNS = ("SEQ", "TIME (UTC)", "TOPIC", "AGENT", "WHAT")
SUMMARY_CHARS = 100
DEFAULT_PAGE = 100
MAX_RESUMES_WITHOUT_PROGRESS = 3
_RELATIVE = re.compile(r"^(\d+)([smhd])$")
_UNIT_S = {"s": 1, "m": 60, "h": 3600, "d": 86400}
# Following cannot align columns on rows it has not seen yet: fixed widths instead.
FOLLOW_WIDTHS = (8, 19, 24, 10, 0)

Show = Callable[[Envelope], bool]


def register(commands: CommandSet) -> None:
    parser = commands.add("events", run_events, "read the event log, or follow it live")
    parser.add_argument("--topic", metavar="P", help="topic pattern, e.g. tool.* or agent.>")
    parser.add_argument("--type", metavar="T", help="event type")
    parser.add_argument("--agent", metavar="A", help="only this agent's events")
    parser.add_argument(
        "--since",
        type=since_value,
        metavar="SEQ|TIME",
        help="after this seq, or from this time (2026-11-22T18:00:00Z, or 10m, 2h, 1d ago)",
    )
    parser.add_argument("--until", type=since_value, metavar="SEQ|TIME", help="up to this")
    parser.add_argument("--limit", type=int, metavar="N", help="at most N events (no --follow)")
    parser.add_argument("--follow", "-f", action="store_true", help="then keep printing new ones")
    parser.add_argument("--count", type=int, metavar="N", help="with --follow: stop after N")


def since_value(text: str) -> str:
    """A seq, an ISO-8601 time (UTC unless it says otherwise) or `10m`-style age, as sent."""
    if text.isdigit():
        return text
    relative = _RELATIVE.match(text)
    if relative:
        age = timedelta(seconds=int(relative[1]) * _UNIT_S[relative[2]])
        return iso(datetime.now(UTC) - age)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a seq, an ISO-8601 time or an age like 10m, 2h, 1d"
        ) from None
    return iso(moment if moment.tzinfo else moment.replace(tzinfo=UTC))


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def run_events(ctx: Context, args: argparse.Namespace) -> int:
    query: dict[str, str | int | None] = {
        "topic": args.topic,
        "type": args.type,
        "agent": args.agent,
        "since": args.since,
    }
    if args.follow:
        return follow(ctx, query, count=args.count)
    limit: int = args.limit or DEFAULT_PAGE
    query.update(until=args.until, limit=limit)
    page: EventsPage = ctx.client.get("/v1/events", query)
    if ctx.is_json:
        print_json(page)
        return 0
    say(table(COLUMNS, [event_row(event) for event in page["events"]]))
    if len(page["events"]) >= limit:
        note(f"more may follow: sysward events --since {page['next_since']}")
    return 0


def event_row(event: Envelope) -> list[str]:
    return [
        str(event["seq"]),
        timestamp(event["ts"]) if event.get("ts") else "-",
        event["topic"],
        dash(event.get("agent")),
        summarize(event),
    ]


def summarize(event: Envelope) -> str:
    """What an event says, in one line: its own words for agent topics, else its data."""
    summary = SUMMARIES.get(event["topic"])
    line = summary(event["data"]) if summary is not None else describe(event)
    return line or compact(event["data"], SUMMARY_CHARS)


def summarize_message(data: dict[str, Any]) -> str:
    message = data.get("message") or {}
    said = message.get("content") or call_names(message.get("tool_calls") or [])
    return f"{message.get('role', '?')}: {said}"


def summarize_llm_response(data: dict[str, Any]) -> str:
    calls = data.get("tool_calls") or []
    parts = [data.get("content") or "", f"→ {call_names(calls)}" if calls else ""]
    return f"step {data.get('step', '?')}: " + " ".join(part for part in parts if part)


def call_names(calls: list[dict[str, Any]]) -> str:
    return ", ".join(f"{call.get('tool')}.{call.get('action')}" for call in calls)


def summarize_completion(data: dict[str, Any]) -> str:
    return f"{data.get('status', '?')}: {data.get('answer') or data.get('error') or ''}".strip()


SUMMARIES: dict[str, Callable[[dict[str, Any]], str]] = {
    "agent.prompt": lambda data: f"prompt: {data.get('text', '')}",
    "agent.message": summarize_message,
    "agent.llm_response": summarize_llm_response,
    "agent.turn_completed": summarize_completion,
}


def follow_line(event: Envelope) -> str:
    cells = zip(event_row(event), FOLLOW_WIDTHS, strict=True)
    return "  ".join(cell.ljust(width) for cell, width in cells).rstrip()


def follow(ctx: Context, query: Query, *, count: int | None) -> int:
    """Print events as they are appended, resuming after the last seq when a stream ends."""
    printed = 0

    def show(event: Envelope) -> bool:
        nonlocal printed
        if ctx.is_json:
            print_json_line(event)
        else:
            say(follow_line(event))
        printed += 1
        return count is not None and printed >= count

    if count is not None and count <= 0:
        return 0
    subscription = Subscription(ctx.client, query)
    subscription.run(show)
    return 0


class Subscription:
    """`/v1/events/stream`, reconnected with Last-Event-ID when the server ends it."""

    def __init__(self, client: ControlClient, query: Query) -> None:
        self.client = client
        self.query = dict(query)
        self.last_id: str | None = None

    def run(self, show: Show) -> None:
        stalls = 0
        while True:
            seen = self.last_id
            if self._read_once(show):
                return
            stalls = stalls + 1 if self.last_id == seen else 0
            if stalls >= MAX_RESUMES_WITHOUT_PROGRESS:
                raise ControlError("the event stream keeps ending without new events")

    def _read_once(self, show: Show) -> bool:
        """One connection; True once `show` says it has seen enough."""
        query = self.query if self.last_id is None else {**self.query, "since": self.last_id}
        try:
            with self.client.stream(
                "GET", "/v1/events/stream", query=query, last_event_id=self.last_id
            ) as stream:
                for message in stream:
                    if message.event == "dropped":
                        note(f"the daemon dropped this slow reader; resuming after {self.last_id}")
                        return False
                    event = cast(Envelope, message.json())
                    self.last_id = str(event["seq"])
                    if show(event):
                        return True
        except StreamTimeout as exc:
            note(f"{exc}; reconnecting")
        return False
