"""Reading a unit's journal entries, newest first, bounded in count and size.

Two readers give the same entries: systemd-python's Reader in-process (an
optional extra) and ``journalctl --output=json`` (present on every systemd host).
When the host keeps no journal at all (no journald, as in some containers)
``read_journal`` raises ``ToolFailed("unavailable")`` rather than returning an
empty list, so "no journal here" never reads as "the unit logged nothing".
"""

from __future__ import annotations

import asyncio
import importlib.util
import re
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from sysward.tools.systemd.units import iso_utc
from sysward.tools.tool import ToolFailed

# Where journald keeps volatile and persistent journals on every distribution.
DEFAULT_JOURNAL_DIRS = (Path("/run/log/journal"), Path("/var/log/journal"))
MAX_MESSAGE_CHARS = 2048
# Total message text per result, under the registry's 64 KiB cap with room for the fields.
MAX_TOTAL_MESSAGE_CHARS = 40_000
JOURNAL_TIMEOUT_S = 30.0
# The fields ``entry_from_raw`` reads; a reader may leave out every other one.
ENTRY_FIELDS = (
    "__REALTIME_TIMESTAMP",
    "PRIORITY",
    "MESSAGE",
    "_PID",
    "SYSLOG_IDENTIFIER",
    "_SYSTEMD_USER_UNIT",
    "USER_UNIT",
    "_SYSTEMD_UNIT",
    "UNIT",
)
INSTALL_HINT = (
    "reading the journal needs journalctl (Debian/Ubuntu: apt install systemd) or "
    "systemd-python (apt install python3-systemd, or pip install 'sysward[systemd]')"
)

_RELATIVE = re.compile(r"^-(\d{1,5})([smhdw])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}

# One entry as systemd-python's Reader gives it: str, or bytes for non-UTF-8 data,
# int for PRIORITY and _PID, an aware datetime for __REALTIME_TIMESTAMP, a list of
# those for a repeated field. journalctl's JSON is normalised to the same shape.
RawEntry = Mapping[str, object]


class JournalBackend(StrEnum):
    """How the journal is read."""

    BINDING = "systemd-python"
    JOURNALCTL = "journalctl"


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


def available_backends() -> list[JournalBackend]:
    """The readers this host has, fastest first (the binding reads in-process)."""
    backends = []
    if _has_binding():
        backends.append(JournalBackend.BINDING)
    if shutil.which("journalctl") is not None:
        backends.append(JournalBackend.JOURNALCTL)
    return backends


def missing_reader_reason() -> str | None:
    """What the operator must install to read the journal; None when nothing is missing."""
    return None if available_backends() else INSTALL_HINT


async def read_journal(
    directory: Path | None, query: JournalQuery, backend: JournalBackend | None = None
) -> JournalEntries:
    """The newest matching entries of ``directory`` (None: the host's journal), oldest first.

    ``backend`` None uses the first of ``available_backends()``. Raises ``ToolFailed``:
    unavailable (no journal, no reader, unreadable) or timeout (after ``JOURNAL_TIMEOUT_S``).
    """
    deadline = asyncio.timeout(JOURNAL_TIMEOUT_S)
    try:
        async with deadline:
            # Off the loop: both checks look at the filesystem (journal files, PATH, modules).
            chosen = await asyncio.to_thread(_prepare, directory, backend)
            return await _read_with(chosen, directory, query)
    except OSError as exc:
        raise ToolFailed(
            "unavailable",
            f"cannot read the journal: {exc}",
            {"journal_path": str(directory) if directory else None},
        ) from exc
    except TimeoutError as exc:
        if not deadline.expired():
            raise
        raise ToolFailed(
            "timeout",
            f"reading the journal took over {JOURNAL_TIMEOUT_S} s and was stopped",
            {"timeout_s": JOURNAL_TIMEOUT_S},
        ) from exc


def _has_binding() -> bool:
    try:
        return importlib.util.find_spec("systemd.journal") is not None
    except ModuleNotFoundError:  # find_spec imports the parent package, systemd
        return False


def _prepare(directory: Path | None, backend: JournalBackend | None) -> JournalBackend:
    """The reader to use, once there is a journal to read."""
    _require_journal(directory)
    return _choose(backend)


def _choose(backend: JournalBackend | None) -> JournalBackend:
    available = available_backends()
    if backend is None and available:
        return available[0]
    if backend is not None and backend in available:
        return backend
    raise ToolFailed(
        "unavailable",
        INSTALL_HINT if backend is None else f"{backend} is not installed; {INSTALL_HINT}",
        {"journal_readers": [str(reader) for reader in JournalBackend]},
    )


async def _read_with(
    backend: JournalBackend, directory: Path | None, query: JournalQuery
) -> JournalEntries:
    # Imported here: the binding may be absent, and both modules build on this one.
    if backend is JournalBackend.JOURNALCTL:
        from sysward.tools.systemd import journalctl

        return await journalctl.read_entries(directory, query)
    try:
        from sysward.tools.systemd import journal_binding
    except ImportError as exc:  # found by find_spec, yet broken (e.g. libsystemd missing)
        raise ToolFailed(
            "unavailable", f"systemd-python is installed but does not load: {exc}; {INSTALL_HINT}"
        ) from exc
    return await asyncio.to_thread(journal_binding.read_entries, directory, query)


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


class EntryCollector:
    """Takes matching entries newest first and decides where the result ends.

    Both readers feed it, so since, limit and the message budget mean the same for both.
    """

    def __init__(self, query: JournalQuery) -> None:
        self._query = query
        self._newest_first: list[JournalEntry] = []
        self._budget = MAX_TOTAL_MESSAGE_CHARS
        self._is_truncated = False

    def offer(self, raw: RawEntry) -> bool:
        """Keep ``raw`` if it belongs to the result; False once the result is complete."""
        moment = raw.get("__REALTIME_TIMESTAMP")
        since = self._query.since
        if since is not None and isinstance(moment, datetime) and moment < since:
            return False
        if len(self._newest_first) == self._query.limit or self._budget <= 0:
            self.cut_short()
            return False
        entry = entry_from_raw(raw)
        self._budget -= len(entry.message)
        self._newest_first.append(entry)
        return True

    def cut_short(self) -> None:
        """Older matching entries exist but are left out."""
        self._is_truncated = True

    def result(self) -> JournalEntries:
        return JournalEntries(
            unit=self._query.unit, entries=self._newest_first[::-1], truncated=self._is_truncated
        )


def entry_from_raw(raw: RawEntry) -> JournalEntry:
    """The entry of one journal record in the Reader's shape (see ``RawEntry``)."""
    message = _text(raw.get("MESSAGE")) or ""
    moment = _last(raw.get("__REALTIME_TIMESTAMP"))
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


def _last(value: object) -> object:
    """A repeated field comes as a list of its values: the last one counts."""
    if isinstance(value, list):
        return value[-1] if value else None
    return value


def _text(value: object) -> str | None:
    value = _last(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return value if isinstance(value, str) else None


def _integer(value: object) -> int | None:
    value = _last(value)
    return value if isinstance(value, int) and not isinstance(value, bool) else None
