"""Request context carried by contextvars, so events emitted anywhere are enriched."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from pydantic import BaseModel, ConfigDict


class EventContext(BaseModel):
    """Who and what caused an event; copied onto every event a request produces."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    request_id: str | None = None
    trace_id: str | None = None
    correlation_id: str | None = None
    peer_uid: int | None = None
    # The trigger whose firing (the trigger.fired event at trigger_seq) started the turn.
    trigger: str | None = None
    trigger_seq: int | None = None
    # How many secrets the log's scrub replaced in this event's data (never which).
    redacted: int | None = None

    def merged(self, other: EventContext) -> EventContext:
        """This context with `other`'s set fields taking precedence."""
        return self.model_copy(update=other.model_dump(exclude_none=True))


_EMPTY = EventContext()
# The default is frozen (immutable), so sharing one instance is safe.
_current: ContextVar[EventContext] = ContextVar("sysward_event_context", default=_EMPTY)


def current_context() -> EventContext:
    """The context of the running request (empty outside one)."""
    return _current.get()


@contextmanager
def bound_context(**fields: str | int | None) -> Iterator[EventContext]:
    """Add fields to the current context for the duration of a block."""
    context = _current.get().merged(EventContext.model_validate(fields))
    token = _current.set(context)
    try:
        yield context
    finally:
        _current.reset(token)
