"""Reading the journal through ``journalctl --output=json``, the interface systemd documents.

The entries are the Reader's (``journal_binding``): the same matches, the JSON
fields turned back into the Reader's values, the same ``EntryCollector``. What is
read is bounded: one JSON line at most ``MAX_LINE_BYTES``, and the collector stops
at the limit or the message budget; then journalctl is killed, and it is always reaped.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated

from pydantic import BeforeValidator, TypeAdapter

from sysward.tools.systemd.journal import (
    ENTRY_FIELDS,
    EntryCollector,
    JournalEntries,
    JournalQuery,
    RawEntry,
)
from sysward.tools.tool import ToolFailed

MAX_LINE_BYTES = 1 << 20
MAX_STDERR_BYTES = 4096
MAX_ERROR_CHARS = 200
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def _octets(value: object) -> object:
    # journalctl writes a value that is not printable UTF-8 as an array of its bytes.
    if isinstance(value, list):
        octets = [item for item in value if isinstance(item, int)]
        if len(octets) == len(value):
            return bytes(octets)  # ValueError past 255: pydantic reports the line as invalid
    return value


# A field's data; a string (printable UTF-8) arrives as its UTF-8 bytes.
FieldData = Annotated[bytes, BeforeValidator(_octets)]
# An array of values for a repeated field; null for a value journalctl does not show.
_LINE: TypeAdapter[dict[str, FieldData | list[FieldData] | None]] = TypeAdapter(
    dict[str, FieldData | list[FieldData] | None]
)


def parse_line(line: bytes) -> RawEntry:
    """One line of ``journalctl --output=json`` as the Reader gives the entry.

    Raises ``ValueError`` (a pydantic ``ValidationError``) for a line that is not an entry.
    """
    fields = _LINE.validate_json(line)
    # null, shown only for big values without --all, reads as absent: the Reader has no null.
    return {
        name: _field(name, value)
        for name in ENTRY_FIELDS
        if (value := fields.get(name)) is not None
    }


async def read_entries(directory: Path | None, query: JournalQuery) -> JournalEntries:
    """The newest matching entries of ``directory`` (None: the host's journal)."""
    process = await asyncio.create_subprocess_exec(
        *_argv(directory, query),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        limit=MAX_LINE_BYTES,
    )
    assert process.stdout is not None and process.stderr is not None
    # Drained alongside stdout so a chatty stderr can never block journalctl.
    errors = asyncio.create_task(head_of(process.stderr))
    collector = EntryCollector(query)
    try:
        reading = await _feed(process.stdout, collector)
        if not reading.is_complete:
            _kill(process)
        returncode = await process.wait()
    finally:
        if process.returncode is None:  # cancelled or failed while reading
            _kill(process)
            await process.wait()
        stderr = await errors  # ends at once: the only writer has exited
    if returncode != 0 and reading.is_complete and not reading.has_output:
        raise ToolFailed(
            "unavailable",
            f"journalctl failed: {first_line(stderr)}",
            {"journal_path": str(directory) if directory else None, "exit_code": returncode},
        )
    return collector.result()


def _argv(directory: Path | None, query: JournalQuery) -> list[str]:
    # One entry past the limit tells the collector that older entries were left out.
    argv = ["journalctl", "--output=json", "--all", "--no-pager", "--quiet", "--reverse"]
    argv += [f"--lines={query.limit + 1}", f"--output-fields={','.join(ENTRY_FIELDS)}"]
    if directory is not None:
        argv.append(f"--directory={directory}")
    # journalctl refuses times before 1970; no entry is older, so that bound is dropped.
    if query.since is not None and query.since >= _EPOCH:
        microseconds = (query.since - _EPOCH) // _MICROSECOND
        argv.append(f"--since=@{microseconds // 1_000_000}.{microseconds % 1_000_000:06d}")
    if query.priority is not None:
        # ANDed with the whole "+" disjunction below, as the Reader's add_conjunction.
        argv.append(f"--priority=0..{query.priority}")
    return [*argv, "--", *_matches(query)]


def _matches(query: JournalQuery) -> list[str]:
    """(what the unit logged) + (what its manager logged about it), as ``journal_binding``."""
    if query.is_user_unit:
        uid = f"_UID={os.getuid()}"
        return [f"_SYSTEMD_USER_UNIT={query.unit}", uid, "+", f"USER_UNIT={query.unit}", uid]
    return [f"_SYSTEMD_UNIT={query.unit}", "+", f"UNIT={query.unit}", "_PID=1"]


@dataclass(frozen=True)
class _Reading:
    has_output: bool
    is_complete: bool  # read to the end of the output, rather than stopped early


async def _feed(stdout: asyncio.StreamReader, collector: EntryCollector) -> _Reading:
    """Offer each line, newest first, until the output ends or the collector has enough."""
    has_output = False
    while True:
        try:
            line = await stdout.readuntil(b"\n")
        except asyncio.IncompleteReadError as end:
            # A last line without its newline is journalctl dying mid-write: not an entry.
            return _Reading(has_output or bool(end.partial), is_complete=True)
        except asyncio.LimitOverrunError:
            collector.cut_short()  # one entry too big to read; it and older ones are left out
            return _Reading(has_output=True, is_complete=False)
        has_output = True
        try:
            raw = parse_line(line)
        except ValueError as exc:
            raise ToolFailed(
                "unavailable", f"journalctl wrote a line that is not a JSON entry: {exc}"
            ) from exc
        if not collector.offer(raw):
            return _Reading(has_output=True, is_complete=False)


async def head_of(stream: asyncio.StreamReader) -> bytes:
    """The first ``MAX_STDERR_BYTES`` of ``stream``; the rest is read and dropped."""
    head = b""
    while chunk := await stream.read(65536):
        head = (head + chunk)[:MAX_STDERR_BYTES]
    return head


def first_line(stderr: bytes) -> str:
    lines = stderr.decode("utf-8", errors="replace").strip().splitlines()
    return lines[0][:MAX_ERROR_CHARS] if lines else "no message"


def _kill(process: asyncio.subprocess.Process) -> None:
    with contextlib.suppress(ProcessLookupError):  # it may have exited meanwhile
        process.kill()


def _field(name: str, value: bytes | list[bytes]) -> object:
    if isinstance(value, list):
        return [_convert(name, data) for data in value]
    return _convert(name, value)


def _convert(name: str, data: bytes) -> object:
    """As the Reader converts a field's data; the bytes themselves when that fails."""
    try:
        if name in ("PRIORITY", "_PID"):
            return int(data)
        if name == "__REALTIME_TIMESTAMP":
            return _EPOCH + int(data) * _MICROSECOND
        return data.decode("utf-8")
    except (ValueError, OverflowError):
        return data
