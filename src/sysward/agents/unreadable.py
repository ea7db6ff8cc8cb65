"""An agent's records whose data does not parse as their topic's payload ("poison" events).

Such a record would fail every fold of the agent, so a restart cannot cure it:
the agent skips it and appends one `agent.error` (kind `unreadable_event`) naming its
seq. That error is itself in the agent's log, so later folds know the record
was reported and do not report it again.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import ValidationError

from sysward.agents.payloads import AgentFailed
from sysward.events import topics
from sysward.events.record import Event

KIND = "unreadable_event"
SEQ_DETAIL = "unreadable_seq"


@dataclass(frozen=True, slots=True)
class UnreadableEvent:
    """A skipped record and the `agent.error` that reports it."""

    seq: int
    turn: str | None
    error: AgentFailed


def unreadable_event(event: Event, exc: ValidationError) -> UnreadableEvent:
    first = exc.errors()[0]
    where = ".".join(str(part) for part in first["loc"]) or "data"
    message = (
        f"event {event.seq} ({event.topic}) of agent {event.agent!r} does not parse as its "
        f"payload ({where}: {first['msg']}); the agent skipped it. Inspect it with "
        f"`sysward events --since {event.seq - 1}`; it was written by another program "
        "or a different sysward version"
    )
    details = {SEQ_DETAIL: event.seq, "topic": event.topic, "errors": exc.error_count()}
    return UnreadableEvent(
        event.seq, event.turn, AgentFailed(kind=KIND, message=message, details=details)
    )


def reported_seq(event: Event) -> int | None:
    """The seq an `agent.error` reports as unreadable, if it is such a report."""
    if event.topic != topics.AGENT_ERROR:
        return None
    details = event.data.get("details")
    seq = details.get(SEQ_DETAIL) if isinstance(details, dict) else None
    return seq if isinstance(seq, int) else None
