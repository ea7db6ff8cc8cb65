"""What a trigger source hands the service: one matching host event, and how sources fail."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from sysward.errors import SyswardError

# A field's value in a prompt and in the log is cut to this many characters: a
# source event's text (a journal message, a file name) must not flood the model.
MAX_FIELD_CHARS = 1000


@dataclass(frozen=True, slots=True)
class SourceEvent:
    """One host event that matched a trigger.

    `key` names the event itself (unit + invocation id + state, a journal cursor,
    a udev seqnum, a due time): a key that fired once never fires again, also
    after a restart. None where the source has no such identity (inotify).
    `cursor` is where a source resumes after a restart (the journal's cursor).
    """

    key: str | None
    fields: dict[str, str] = field(default_factory=dict)
    cursor: str | None = None


Emit = Callable[[SourceEvent], None]


class SourceUnavailable(SyswardError):
    """The source cannot watch here (no bus, no journal, no permission); says what to do."""


class Source(Protocol):
    """A watcher of one real interface for one trigger."""

    async def run(self, emit: Emit) -> None:
        """Watch until cancelled, calling `emit` (on the loop) for every matching event.

        Raises SourceUnavailable when it cannot start or loses its interface for good.
        """
        ...


def clip(value: object) -> str:
    """A field value as text, at most MAX_FIELD_CHARS."""
    text = value if isinstance(value, str) else str(value)
    return text if len(text) <= MAX_FIELD_CHARS else text[:MAX_FIELD_CHARS] + "…"
