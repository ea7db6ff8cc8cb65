"""Following one agent's events live over the control API's SSE stream, with a bound.

A stream that ends early (a dropped slow subscriber) is reopened after the last
seq seen, so no event is missed or seen twice.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from sysward.control.client import ControlClient, ControlError, EventStream, StreamTimeout
from sysward.demo.errors import DemoError
from sysward.events.record import Event

MAX_RECONNECTS = 5

StopWhen = Callable[[list[Event]], bool]
OnEvent = Callable[[Event], None]


def follow_events(
    client: ControlClient,
    *,
    agent: str,
    since: int,
    stop_when: StopWhen,
    on_event: OnEvent,
    timeout_s: float,
) -> list[Event]:
    """The agent's events after `since`, until `stop_when(events so far)` holds."""
    deadline = time.monotonic() + timeout_s
    seen: list[Event] = []
    for _ in range(MAX_RECONNECTS):
        remaining_s = deadline - time.monotonic()
        if remaining_s <= 0:
            break
        after = seen[-1].seq if seen else since
        query: dict[str, str | int | None] = {"agent": agent, "since": after}
        try:
            with client.stream(
                "GET", "/v1/events/stream", query=query, read_timeout_s=remaining_s
            ) as stream:
                if _read(stream, seen, stop_when, on_event, deadline):
                    return seen
        except StreamTimeout:
            break
        except ControlError as exc:
            raise DemoError(f"lost the daemon's event stream: {exc}") from None
    raise DemoError(f"the turn did not get where expected within {timeout_s:.0f} s")


def _read(
    stream: EventStream, seen: list[Event], stop_when: StopWhen, on_event: OnEvent, deadline: float
) -> bool:
    """Take events until `stop_when` holds (True) or the stream or the time ends (False)."""
    for message in stream:
        if message.event == "dropped":
            return False
        event = Event.model_validate(message.json())
        if seen and event.seq <= seen[-1].seq:
            continue
        seen.append(event)
        on_event(event)
        if stop_when(seen):
            return True
        if time.monotonic() > deadline:
            return False
    return False
