"""Building draft events for tests, and waiting for a log to commit up to a seq."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from pydantic import JsonValue

from sysward.events.context import EventContext
from sysward.events.log import EventLog
from sysward.events.record import Event, NewEvent


def draft(
    topic: str = "test.event",
    *,
    type: str = "happened",
    agent: str | None = None,
    turn: str | None = None,
    data: dict[str, JsonValue] | None = None,
    context: EventContext | None = None,
) -> NewEvent:
    """A valid NewEvent with test defaults."""
    return NewEvent(
        topic=topic,
        type=type,
        agent=agent,
        turn=turn,
        source="tests",
        data=data or {},
        context=context,
    )


def numbered(count: int, *, start: int = 0, topic: str = "test.event") -> list[NewEvent]:
    """`count` drafts whose data carries `n`, counting from `start`."""
    return [draft(topic, data={"n": n}) for n in range(start, start + count)]


async def wait_for_seq(log: EventLog, seq: int, timeout_s: float = 10) -> None:
    """Return once the log has delivered a commit reaching `seq` (bounded)."""
    reached = asyncio.Event()

    def on_commit(events: Sequence[Event]) -> None:
        if events and events[-1].seq >= seq:
            reached.set()

    remove = log.add_listener(on_commit)
    try:
        if log.last_seq < seq:
            async with asyncio.timeout(timeout_s):
                await reached.wait()
    finally:
        remove()
