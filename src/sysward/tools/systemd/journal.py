"""Reading a unit's journal entries with systemd-python, newest first, bounded in count and size.

``read_journal`` blocks (it reads journal files): run it with ``asyncio.to_thread``.
When the host keeps no journal at all (no journald, as in some containers) it
raises ``ToolFailed("unavailable")`` rather than returning an empty list, so
"no journal here" never reads as "the unit logged nothing".
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from pydantic import BaseModel, ConfigDict
from systemd.journal import Reader

from sysward.tools.systemd.units import iso_utc
from sysward.tools.tool import ToolFailed

# Where journald keeps volatile and persistent journals on every distribution.
DEFAULT_JOURNAL_DIRS = (Path("/run/log/journal"), Path("/var/log/journal"))
MAX_MESSAGE_CHARS = 2048
# Total message text per result, under the registry's 64 KiB cap with room for the fields.
MAX_TOTAL_MESSAGE_CHARS = 40_000

_RELATIVE = re.compile(r"^-(\d{1,5})([smhdw])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


class JournalEntry(BaseModel):
    """One log entry; ``unit`` is the unit that logged it or that the entry is about."""

    model_config = ConfigDict(frozen=True)

    ts: str
    priority: int | None
    message: str
    is_message_truncated: bool
    pid: int | None
    identifier: str | None
    unit: str | None


class JournalEntries(BaseModel):
    """Entries oldest first; ``truncated`` when older matching entries were left out."""

    model_config = ConfigDict(frozen=True)

    unit: str
    entries: list[JournalEntry]
    truncated: bool


@dataclass(frozen=True)
class JournalQuery:
    """What to read: a unit's entries since a time, at most ``limit`` of the newest."""

    unit: str
    is_user_unit: bool
    since: datetime | None
    priority: int | None
    limit: int


def parse_since(text: str, now: datetime) -> datetime:
    """An ISO 8601 time (UTC when it has no offset) or a relative one like ``-2h``."""
    relative = _RELATIVE.match(text)
    try:
        if relative:
            return now - timedelta(**{_UNITS[relative[2]]: int(relative[1])})
        moment = datetime.fromisoformat(text)
    except (ValueError, OverflowError):
        raise ValueError(
            "since must be an ISO 8601 time like 2026-01-31T12:00:00Z or relative like "
            "-30s, -15m, -2h, -7d, -1w"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def read_journal(directory: Path | None, query: JournalQuery) -> JournalEntries:
    """The newest matching entries of ``directory`` (None: the host's journal)."""
    _require_journal(directory)
    reader = Reader() if directory is None else Reader(path=str(directory))
    with reader:
        _add_matches(reader, query)
        reader.seek_tail()
        entries, truncated = _collect(reader, query)
    return JournalEntries(unit=query.unit, entries=entries, truncated=truncated)


def _require_journal(directory: Path | None) -> None:
    directories = DEFAULT_JOURNAL_DIRS if directory is None else (directory,)
    if not any(_has_journal_files(path) for path in directories):
        raise ToolFailed(
            "unavailable",
            f"no journal files in {', '.join(map(str, directories))}: journald does not run "
            "on this host or keeps no journal; the unit's output may be in syslog files",
            {"journal_dirs": [str(path) for path in directories]},
        )


def _has_journal_files(directory: Path) -> bool:
    # journald writes <dir>/<machine-id>/*.journal; a directory given by hand may hold them.
    return any(directory.glob("*.journal")) or any(directory.glob("*/*.journal"))


def _add_matches(reader: Reader, query: JournalQuery) -> None:
    """(what the unit logged) OR (what its manager logged about it) [AND priority <= max]."""
    if query.is_user_unit:
        uid = f"_UID={os.getuid()}"
        reader.add_match(f"_SYSTEMD_USER_UNIT={query.unit}", uid)
        reader.add_disjunction()
        reader.add_match(f"USER_UNIT={query.unit}", uid)
    else:
        reader.add_match(f"_SYSTEMD_UNIT={query.unit}")
        reader.add_disjunction()
        reader.add_match(f"UNIT={query.unit}", "_PID=1")
    if query.priority is not None:
        reader.add_conjunction()
        for level in range(query.priority + 1):
            reader.add_match(f"PRIORITY={level}")


def _collect(reader: Reader, query: JournalQuery) -> tuple[list[JournalEntry], bool]:
    entries: list[JournalEntry] = []
    budget = MAX_TOTAL_MESSAGE_CHARS
    while raw := reader.get_previous():
        moment = raw.get("__REALTIME_TIMESTAMP")
        if query.since is not None and isinstance(moment, datetime) and moment < query.since:
            return entries[::-1], False
        if len(entries) == query.limit or budget <= 0:
            return entries[::-1], True
        entry = _entry(raw)
        budget -= len(entry.message)
        entries.append(entry)
    return entries[::-1], False


def _entry(raw: dict[str, object]) -> JournalEntry:
    message = _text(raw.get("MESSAGE")) or ""
    moment = raw.get("__REALTIME_TIMESTAMP")
    unit = (
        raw.get("_SYSTEMD_USER_UNIT")
        or raw.get("USER_UNIT")
        or raw.get("_SYSTEMD_UNIT")
        or raw.get("UNIT")
    )
    return JournalEntry(
        ts=iso_utc(moment) if isinstance(moment, datetime) else "",
        priority=_integer(raw.get("PRIORITY")),
        message=message[:MAX_MESSAGE_CHARS],
        is_message_truncated=len(message) > MAX_MESSAGE_CHARS,
        pid=_integer(raw.get("_PID")),
        identifier=_text(raw.get("SYSLOG_IDENTIFIER")),
        unit=_text(unit),
    )


def _text(value: object) -> str | None:
    """A field as text: the Reader gives bytes for non-UTF-8 data, lists for repeated fields."""
    if isinstance(value, list):
        value = value[-1] if value else None
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return value if isinstance(value, str) else None


def _integer(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None
