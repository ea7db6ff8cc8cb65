"""The journal trigger source: new journal entries matching a JournalTrigger, followed live.

Two followers give the same events, as the journal tool's two readers give the same
entries: systemd-python's Reader in a thread, or ``journalctl --follow --output=json``.
Both start after the resume cursor, or at the journal's end on a first start so that
history is never replayed. The priority is matched by the follower (journald's index);
unit, identifier and message are matched here, identically for both.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import threading
from collections.abc import Callable
from fnmatch import fnmatchcase
from typing import Protocol

from sysward.config import JournalTrigger
from sysward.tools.systemd.journal import (
    ENTRY_FIELDS,
    INSTALL_HINT,
    JournalBackend,
    RawEntry,
    available_backends,
    entry_from_raw,
)
from sysward.tools.systemd.journalctl import MAX_LINE_BYTES, first_line, head_of, parse_line
from sysward.triggers.source import Emit, SourceEvent, SourceUnavailable, clip

# How long the Reader's thread blocks in wait() before it looks at its stop flag:
# the bound on how long a cancelled binding follower keeps running.
READER_WAIT_S = 0.25
# The fields naming the unit an entry is from: journald sets these, no writer can.
TRUSTED_UNIT_FIELDS = ("_SYSTEMD_UNIT", "_SYSTEMD_USER_UNIT")
# The unit an entry is about ("Failed to start ..."): any process may write these, so
# they count only from the system manager itself (_PID 1), as the journal tool reads them.
MANAGER_UNIT_FIELDS = ("UNIT", "USER_UNIT")

Deliver = Callable[[RawEntry], None]


class _Reader(Protocol):
    """What the source uses of systemd-python's Reader (which has no type hints)."""

    def seek_tail(self) -> None: ...
    def seek_cursor(self, cursor: str) -> None: ...
    def get_next(self) -> RawEntry: ...
    def get_previous(self) -> RawEntry: ...


class JournalSource:
    """Follows the journal and emits one SourceEvent per new entry matching the trigger.

    ``backend`` None uses the first of ``available_backends()`` (the binding if installed).
    """

    def __init__(
        self,
        settings: JournalTrigger,
        resume_cursor: str | None,
        backend: JournalBackend | None = None,
    ) -> None:
        self.settings = settings
        self._resume_cursor = resume_cursor
        self._backend = backend
        self._message = re.compile(settings.message) if settings.message is not None else None

    async def run(self, emit: Emit) -> None:
        """Follow until cancelled; SourceUnavailable when the journal cannot be (or is no
        longer) read."""
        # Off the loop: choosing looks at PATH and at the installed modules.
        backend = await asyncio.to_thread(_choose, self._backend)
        if backend is JournalBackend.BINDING:
            await self._follow_binding(emit)
        else:
            await self._follow_journalctl(emit)

    def matches(self, raw: RawEntry) -> bool:
        """Whether an entry (already within the priority) is one the trigger asks for."""
        glob = self.settings.unit
        if glob is not None and not any(fnmatchcase(unit, glob) for unit in _units(raw)):
            return False
        identifier = self.settings.identifier
        if identifier is not None and identifier not in _texts(raw.get("SYSLOG_IDENTIFIER")):
            return False
        return self._message is None or any(
            self._message.search(message) for message in _texts(raw.get("MESSAGE"))
        )

    def _offer(self, raw: RawEntry, emit: Emit) -> None:
        cursor = raw.get("__CURSOR")
        # Without a cursor an entry can neither be keyed nor resumed after: never seen so far.
        if isinstance(cursor, str) and self.matches(raw):
            emit(event_from_raw(raw, cursor))

    async def _follow_binding(self, emit: Emit) -> None:
        loop = asyncio.get_running_loop()
        is_stopped = threading.Event()

        def offer_on_loop(raw: RawEntry) -> None:
            # Entries the thread read after cancellation are dropped: run() has ended.
            if not is_stopped.is_set():
                self._offer(raw, emit)

        def deliver(raw: RawEntry) -> None:
            loop.call_soon_threadsafe(offer_on_loop, raw)

        follower = asyncio.ensure_future(
            asyncio.to_thread(
                follow_with_reader, self.settings, self._resume_cursor, deliver, is_stopped
            )
        )
        try:
            await asyncio.shield(follower)
        except OSError as exc:
            raise SourceUnavailable(f"cannot read the journal: {exc}") from exc
        finally:
            is_stopped.set()
            # The thread owns the Reader: it leaves wait() within READER_WAIT_S and closes it.
            await asyncio.wait({follower})
        raise SourceUnavailable("the journal reader stopped without being asked to")

    async def _follow_journalctl(self, emit: Emit) -> None:
        try:
            process = await asyncio.create_subprocess_exec(
                *journalctl_argv(self.settings, self._resume_cursor),
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                limit=MAX_LINE_BYTES,
            )
        except FileNotFoundError as exc:  # removed since _choose looked
            raise SourceUnavailable(INSTALL_HINT) from exc
        assert process.stdout is not None and process.stderr is not None
        # Drained alongside stdout so a chatty stderr can never block journalctl.
        errors = asyncio.create_task(head_of(process.stderr))
        try:
            await self._read_lines(process.stdout, emit)
            returncode = await process.wait()
        finally:
            if process.returncode is None:  # cancelled, or a line that is not JSON
                with contextlib.suppress(ProcessLookupError):  # it may have exited meanwhile
                    process.kill()
                await process.wait()
            stderr = await errors  # ends at once: the only writer has exited
        raise SourceUnavailable(
            f"journalctl stopped following the journal (exit code {returncode}): "
            f"{first_line(stderr)}"
        )

    async def _read_lines(self, stdout: asyncio.StreamReader, emit: Emit) -> None:
        """Offer each entry until journalctl's output ends."""
        while True:
            try:
                line = await stdout.readuntil(b"\n")
            except asyncio.IncompleteReadError:
                return  # journalctl exited; a last line without newline is it dying mid-write
            except asyncio.LimitOverrunError:
                # One entry over MAX_LINE_BYTES: it is skipped, the follower goes on.
                if not await _skip_line(stdout):
                    return
                continue
            self._offer(raw_from_line(line), emit)


def journalctl_argv(settings: JournalTrigger, resume_cursor: str | None) -> list[str]:
    """The journalctl command line that follows what ``settings`` asks for."""
    # __CURSOR and __REALTIME_TIMESTAMP are always written, whatever --output-fields says.
    argv = ["journalctl", "--follow", "--output=json", "--all", "--no-pager", "--quiet"]
    argv.append(f"--output-fields={','.join(ENTRY_FIELDS)}")
    if settings.directory is not None:
        argv.append(f"--directory={settings.directory}")
    if settings.priority is not None:
        argv.append(f"--priority=0..{settings.priority}")
    # --lines=0: without a cursor, only entries written from now on.
    argv.append(f"--after-cursor={resume_cursor}" if resume_cursor else "--lines=0")
    return argv


def raw_from_line(line: bytes) -> RawEntry:
    """One JSON line as the Reader gives the entry, with its ``__CURSOR``."""
    try:
        raw = dict(parse_line(line))
        cursor = json.loads(line).get("__CURSOR")
    except ValueError as exc:
        raise SourceUnavailable(f"journalctl wrote a line that is not a JSON entry: {exc}") from exc
    if isinstance(cursor, str):
        raw["__CURSOR"] = cursor
    return raw


def follow_with_reader(
    settings: JournalTrigger,
    resume_cursor: str | None,
    deliver: Deliver,
    is_stopped: threading.Event,
) -> None:
    """Hand every new entry within the priority to ``deliver`` until ``is_stopped`` (blocking)."""
    try:
        from systemd.journal import Reader
    except ImportError as exc:  # found by find_spec, yet broken (e.g. libsystemd missing)
        raise SourceUnavailable(
            f"systemd-python is installed but does not load: {exc}; {INSTALL_HINT}"
        ) from exc
    reader = Reader() if settings.directory is None else Reader(path=str(settings.directory))
    with reader:
        if settings.priority is not None:
            # Matches on one field are ORed: PRIORITY=0 or 1 ... or N, as --priority=0..N.
            for level in range(settings.priority + 1):
                reader.add_match(f"PRIORITY={level}")
        _seek(reader, resume_cursor, deliver)
        while not is_stopped.is_set():
            while not is_stopped.is_set() and (raw := reader.get_next()):
                deliver(raw)
            reader.wait(READER_WAIT_S)


def _seek(reader: _Reader, resume_cursor: str | None, deliver: Deliver) -> None:
    """Place ``reader`` so that get_next() gives the first entry not yet seen."""
    if resume_cursor is None:
        reader.seek_tail()
        reader.get_previous()  # seek_tail alone leaves get_next() without a position
        return
    try:
        reader.seek_cursor(resume_cursor)
    except ValueError as exc:  # not a cursor at all; journalctl refuses it too
        raise SourceUnavailable(f"cannot seek the journal to {resume_cursor!r}: {exc}") from exc
    # seek_cursor lands on the cursor's entry, or on the next one when that entry is gone
    # (vacuumed, or outside the priority): only the cursor's own entry is skipped.
    raw = reader.get_next()
    if raw and raw.get("__CURSOR") != resume_cursor:
        deliver(raw)


def event_from_raw(raw: RawEntry, cursor: str) -> SourceEvent:
    """The SourceEvent of one matching entry; the cursor is its key and its resume point."""
    entry = entry_from_raw(raw)
    fields = {
        "message": entry.message,
        "priority": "" if entry.priority is None else str(entry.priority),
        "unit": entry.unit or "",
        "identifier": entry.identifier or "",
        "pid": "" if entry.pid is None else str(entry.pid),
        "ts": entry.ts,
        "cursor": cursor,
    }
    return SourceEvent(
        key=cursor, cursor=cursor, fields={name: clip(value) for name, value in fields.items()}
    )


def _choose(backend: JournalBackend | None) -> JournalBackend:
    available = available_backends()
    if backend is None and available:
        return available[0]
    if backend is not None and backend in available:
        return backend
    raise SourceUnavailable(
        INSTALL_HINT if backend is None else f"{backend} is not installed; {INSTALL_HINT}"
    )


def _texts(value: object) -> list[str]:
    """Every value of a field as text (a repeated field is a list; non-UTF-8 is bytes)."""
    values = value if isinstance(value, list) else [value]
    texts = []
    for item in values:
        if isinstance(item, bytes):
            texts.append(item.decode("utf-8", errors="replace"))
        elif isinstance(item, str):
            texts.append(item)
    return texts


async def _skip_line(stdout: asyncio.StreamReader) -> bool:
    """Drop the rest of an over-long line; False when the output ended inside it."""
    try:
        while True:
            try:
                await stdout.readuntil(b"\n")
                return True
            except asyncio.LimitOverrunError as exc:
                await stdout.readexactly(max(exc.consumed, 1))
    except asyncio.IncompleteReadError:
        return False


def _units(raw: RawEntry) -> list[str]:
    """The units an entry may be matched on (see TRUSTED_UNIT_FIELDS)."""
    names: tuple[str, ...] = TRUSTED_UNIT_FIELDS
    if raw.get("_PID") == 1:
        names += MANAGER_UNIT_FIELDS
    return [unit for name in names for unit in _texts(raw.get(name))]
