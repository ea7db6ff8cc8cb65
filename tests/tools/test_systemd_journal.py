"""Both journal readers (systemd-python, journalctl) against a real journald collecting an
isolated systemd --user's units; every behaviour is asserted for each reader alike."""

from __future__ import annotations

import asyncio
import fcntl
import os
import socket
import struct
import sys
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sysward.tools import ToolErr, ToolRegistry
from sysward.tools.systemd import SystemdTool
from sysward.tools.systemd.journal import (
    JournalBackend,
    JournalEntries,
    JournalEntry,
    JournalQuery,
    available_backends,
    entry_from_raw,
    missing_reader_reason,
    parse_since,
    read_journal,
)
from sysward.tools.systemd.journalctl import MAX_LINE_BYTES, parse_line
from sysward.tools.systemd.models import JournalArgs
from sysward.tools.tool import ToolFailed

from .systemd_calls import call, fail, offline_registry, tool_for, wait_until
from .user_systemd import UserManager


@dataclass
class Journal:
    """One reader of the isolated manager's journal, and the registry that starts its units."""

    registry: ToolRegistry
    manager: UserManager
    backend: JournalBackend

    async def read(self, unit: str, **args: object) -> JournalEntries:
        """What the journal action answers to ``args`` (user bus unless given), by this reader."""
        parsed = JournalArgs.model_validate({"bus": "user", "unit": unit, **args})
        since = parse_since(parsed.since, datetime.now(UTC)) if parsed.since else None
        query = JournalQuery(
            unit=parsed.unit,
            is_user_unit=parsed.bus == "user",
            since=since,
            priority=parsed.priority,
            limit=parsed.limit,
        )
        return await read_journal(self.manager.journal_dir, query, self.backend)

    async def wait_for(self, unit: str, last_message: str) -> None:
        """Wait until journald has stored ``last_message`` of ``unit``."""

        async def stored() -> bool:
            entries = (await self.read(unit, limit=1)).entries
            return [entry.message[:32] for entry in entries] == [last_message[:32]]

        await wait_until(stored, f"{last_message[:32]!r} from {unit} in the journal")


@pytest.fixture
def offline(tmp_path: Path) -> ToolRegistry:
    return offline_registry(tmp_path)


@pytest.fixture(params=list(JournalBackend), ids=str)
async def journaled(
    request: pytest.FixtureRequest, journaled_user_manager: UserManager
) -> AsyncIterator[Journal]:
    backend = JournalBackend(request.param)
    if backend not in available_backends():
        pytest.skip(f"{backend} is not installed here")
    registry = ToolRegistry([tool_for(journaled_user_manager)])
    try:
        yield Journal(registry, journaled_user_manager, backend)
    finally:
        await registry.aclose()


@pytest.fixture
def no_journal_readers(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A host with neither reader. The one acceptable fake: the packages cannot be removed
    from a shared machine for a test, so PATH shows an empty directory and None in
    sys.modules makes Python's import system itself refuse systemd (find_spec fails)."""
    empty = tmp_path / "empty-path"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    monkeypatch.delitem(sys.modules, "systemd.journal", raising=False)
    monkeypatch.setitem(sys.modules, "systemd", None)


async def run_and_collect(journal: Journal, unit: str, last_message: str) -> None:
    """Start a unit and wait until journald has stored its ``last_message``."""
    assert (await call(journal.registry, "start", unit=unit))["result"] == "done"
    await journal.wait_for(unit, last_message)


def send_to_journal(manager: UserManager, fields: list[tuple[str, bytes]]) -> None:
    """Log one entry with journald's native protocol, in a sealed memfd (any size goes)."""
    payload = b"".join(
        name.encode() + b"\n" + struct.pack("<Q", len(data)) + data + b"\n" for name, data in fields
    )
    memfd = os.memfd_create("entry", os.MFD_ALLOW_SEALING)
    try:
        os.write(memfd, payload)
        seals = fcntl.F_SEAL_SHRINK | fcntl.F_SEAL_GROW | fcntl.F_SEAL_WRITE | fcntl.F_SEAL_SEAL
        fcntl.fcntl(memfd, fcntl.F_ADD_SEALS, seals)
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as journal:
            rights = [(socket.SOL_SOCKET, socket.SCM_RIGHTS, struct.pack("i", memfd))]
            journal.sendmsg([], rights, 0, str(manager.journal_socket))
    finally:
        os.close(memfd)


def about(unit: str, message: bytes, priority: int = 6) -> list[tuple[str, bytes]]:
    """An entry as a manager logs it about a unit (USER_UNIT), from this (root) process."""
    return [("MESSAGE", message), ("PRIORITY", b"%d" % priority), ("USER_UNIT", unit.encode())]


def journalctl_children() -> list[int]:
    """This process's journalctl children; a zombie counts (it is one nobody reaped)."""
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            head, _, tail = stat.read_text().rpartition(") ")
        except OSError:  # exited while we looked
            continue
        if head.partition(" (")[2] == "journalctl" and int(tail.split()[1]) == os.getpid():
            children.append(int(stat.parent.name))
    return children


def has_written(pid: int) -> bool:
    try:
        io = dict(line.split(": ") for line in Path(f"/proc/{pid}/io").read_text().splitlines())
    except OSError:  # exited while we looked
        return False
    return int(io["wchar"]) > 0


async def test_journal_returns_the_units_output_oldest_first(journaled: Journal) -> None:
    await run_and_collect(journaled, "talker.service", "an error line")
    output = await journaled.read("talker.service")
    assert [e.message for e in output.entries] == ["first line", "second line", "an error line"]
    first = output.entries[0]
    assert first.unit == "talker.service" and first.priority == 6
    assert isinstance(first.pid, int) and first.ts.endswith("Z")
    assert output.truncated is False


async def test_journal_priority_keeps_only_severe_entries(journaled: Journal) -> None:
    await run_and_collect(journaled, "talker.service", "an error line")
    output = await journaled.read("talker.service", priority=3)
    assert [(e.message, e.priority) for e in output.entries] == [("an error line", 3)]


async def test_journal_priority_also_filters_what_the_manager_logged(journaled: Journal) -> None:
    # Only the second term of the OR matches here: priority must bind to both terms.
    send_to_journal(journaled.manager, about("probe.service", b"probe started"))
    send_to_journal(journaled.manager, about("probe.service", b"probe failed", priority=3))
    await journaled.wait_for("probe.service", "probe failed")
    everything = await journaled.read("probe.service")
    assert [e.message for e in everything.entries] == ["probe started", "probe failed"]
    severe = await journaled.read("probe.service", priority=3)
    assert [e.message for e in severe.entries] == ["probe failed"]


async def test_journal_limit_keeps_the_newest_entries(journaled: Journal) -> None:
    await run_and_collect(journaled, "chatty.service", "line 300")
    output = await journaled.read("chatty.service", limit=3, since="-1h")
    assert [e.message for e in output.entries] == ["line 298", "line 299", "line 300"]
    assert output.truncated is True


async def test_journal_cuts_long_messages(journaled: Journal) -> None:
    await run_and_collect(journaled, "longline.service", "0" * 32)
    (entry,) = (await journaled.read("longline.service")).entries
    assert entry.message == "0" * 2048 and entry.is_message_truncated is True


async def test_journal_stops_at_the_total_message_budget(journaled: Journal) -> None:
    for index in range(25):
        send_to_journal(journaled.manager, about("budget.service", b"%02d" % index + b"x" * 2046))
    await journaled.wait_for("budget.service", "24" + "x" * 30)
    output = await journaled.read("budget.service")
    # 40,000 characters hold 19 messages of 2,048 and then one more, which overdraws them.
    assert [e.message[:2] for e in output.entries] == [f"{i:02d}" for i in range(5, 25)]
    assert output.truncated is True


async def test_journal_since_after_the_last_entry_is_empty(journaled: Journal) -> None:
    await run_and_collect(journaled, "talker.service", "an error line")
    output = await journaled.read("talker.service", since="2999-01-01T00:00:00")
    assert output.entries == [] and output.truncated is False


async def test_journal_of_a_system_unit_does_not_mix_in_user_units(journaled: Journal) -> None:
    await run_and_collect(journaled, "talker.service", "an error line")
    # Seen from the "system", the whole user manager is the unit user@0.service.
    system = await journaled.read("user@0.service", bus="system")
    user = await journaled.read("user@0.service", bus="user")
    assert "first line" in [e.message for e in system.entries]
    assert user.entries == []


async def test_readers_agree_on_non_utf8_and_repeated_fields(
    journaled_user_manager: UserManager,
) -> None:
    if len(available_backends()) < 2:
        pytest.skip("needs both readers to compare them")
    entry = [*about("odd.service", b"caf\xc3\xa9 \xff\tbad"), ("SYSLOG_IDENTIFIER", b"one")]
    send_to_journal(journaled_user_manager, [*entry, ("SYSLOG_IDENTIFIER", b"two")])
    readers = {
        backend: Journal(ToolRegistry([]), journaled_user_manager, backend)
        for backend in JournalBackend
    }
    await readers[JournalBackend.BINDING].wait_for("odd.service", "caf\u00e9 \ufffd\tbad")
    binding, journalctl = [await reader.read("odd.service") for reader in readers.values()]
    assert binding == journalctl
    (odd,) = journalctl.entries
    assert (odd.message, odd.identifier, odd.unit) == (
        "caf\u00e9 \ufffd\tbad",
        "two",
        "odd.service",
    )


def test_journalctl_json_converts_to_the_readers_entry() -> None:
    line = (
        b'{"MESSAGE":[99,97,102,195,169,32,255],"SYSLOG_IDENTIFIER":["one","two"],'
        b'"_SYSTEMD_USER_UNIT":null,"USER_UNIT":"probe.service","PRIORITY":"4","_PID":"4242",'
        b'"__REALTIME_TIMESTAMP":"1796385227085567","__CURSOR":"s=1;i=3"}\n'
    )
    assert entry_from_raw(parse_line(line)) == JournalEntry(
        ts="2026-12-04T11:53:47.085567Z",
        priority=4,
        message="caf\u00e9 \ufffd",
        is_message_truncated=False,
        pid=4242,
        identifier="two",
        unit="probe.service",  # the oversized (null) _SYSTEMD_USER_UNIT reads as absent
    )


@given(st.binary(max_size=3000))
def test_journalctl_message_bytes_read_as_the_reader_decodes_them(data: bytes) -> None:
    line = b'{"MESSAGE":[%s]}' % b",".join(b"%d" % octet for octet in data)
    entry = entry_from_raw(parse_line(line))
    text = data.decode("utf-8", errors="replace")
    assert (entry.message, entry.is_message_truncated) == (text[:2048], len(text) > 2048)


def test_journalctl_refuses_a_line_that_is_not_an_entry() -> None:
    with pytest.raises(ValueError):
        parse_line(b'{"MESSAGE": {"not": "a value"}}\n')


@pytest.fixture
def huge_entry(journaled_user_manager: UserManager) -> Iterator[UserManager]:
    """huge.service has a short entry and, newer, one too long for a journalctl line."""
    if JournalBackend.JOURNALCTL not in available_backends():
        pytest.skip("journalctl is not installed here")
    send_to_journal(journaled_user_manager, about("huge.service", b"short"))
    # Bigger than asyncio buffers unread (2 limits): journalctl blocks until read or killed.
    send_to_journal(journaled_user_manager, about("huge.service", b"h" * 3 * MAX_LINE_BYTES))
    # journald stores one socket's entries in order: once this one is in, the huge one is.
    send_to_journal(journaled_user_manager, about("marker.service", b"after the huge entry"))
    yield journaled_user_manager


async def test_journalctl_ends_the_result_at_a_line_too_long_to_read(
    huge_entry: UserManager,
) -> None:
    journal = Journal(ToolRegistry([]), huge_entry, JournalBackend.JOURNALCTL)
    await journal.wait_for("marker.service", "after the huge entry")
    output = await journal.read("huge.service")
    assert output.entries == [] and output.truncated is True
    assert journalctl_children() == []


async def test_journalctl_is_reaped_when_the_read_is_cancelled(huge_entry: UserManager) -> None:
    journal = Journal(ToolRegistry([]), huge_entry, JournalBackend.JOURNALCTL)
    await journal.wait_for("marker.service", "after the huge entry")
    reading = asyncio.create_task(journal.read("huge.service"))
    async with asyncio.timeout(10):
        # Polling: nothing signals it. Once journalctl has written, the read is past the
        # spawn (whose own cancellation asyncio cleans up) and the huge line is still coming.
        while not any(has_written(pid) for pid in journalctl_children()):  # noqa: ASYNC110
            await asyncio.sleep(0)
    reading.cancel()
    with pytest.raises(asyncio.CancelledError):
        async with asyncio.timeout(10):  # a journalctl left running blocks the read's cleanup
            await reading
    assert journalctl_children() == []


def test_missing_reader_reason_names_both_ways_to_install(no_journal_readers: None) -> None:
    assert available_backends() == []
    reason = missing_reader_reason()
    assert reason is not None
    assert "apt install systemd" in reason and "python3-systemd" in reason
    assert "sysward[systemd]" in reason


def test_missing_reader_reason_is_none_where_a_reader_exists() -> None:
    if not available_backends():
        pytest.skip("this host has no journal reader")
    assert missing_reader_reason() is None


async def test_read_journal_without_a_reader_is_unavailable(
    journaled_user_manager: UserManager, no_journal_readers: None
) -> None:
    query = JournalQuery("talker.service", is_user_unit=True, since=None, priority=None, limit=5)
    with pytest.raises(ToolFailed) as failure:
        await read_journal(journaled_user_manager.journal_dir, query)
    assert failure.value.code == "unavailable"
    assert failure.value.message == missing_reader_reason()


async def test_journal_action_reads_with_the_first_available_reader(
    journaled_user_manager: UserManager,
) -> None:
    manager = journaled_user_manager
    registry = ToolRegistry([tool_for(manager, journal_path=manager.journal_dir)])
    try:
        journal = Journal(registry, journaled_user_manager, available_backends()[0])
        await run_and_collect(journal, "talker.service", "an error line")
        output = await call(registry, "journal", unit="talker.service")
        assert output == (await journal.read("talker.service")).model_dump(mode="json")
    finally:
        await registry.aclose()


@pytest.mark.parametrize("since", ["yesterday", "-5y", "-1", "2026-13-01", "1h", "-" + "9" * 9])
async def test_journal_refuses_unparseable_since(offline: ToolRegistry, since: str) -> None:
    assert (await fail(offline, "journal", unit="talker.service", since=since)).error.code == (
        "invalid_args"
    )


@pytest.mark.parametrize("args", [{"limit": 1001}, {"limit": 0}, {"priority": 8}])
async def test_journal_bounds_its_arguments(offline: ToolRegistry, args: dict[str, object]) -> None:
    result = await fail(offline, "journal", unit="talker.service", **args)
    assert result.error.code == "invalid_args"


async def test_journal_without_journal_files_is_unavailable(
    user_manager: UserManager, tmp_path: Path
) -> None:
    registry = ToolRegistry([tool_for(user_manager, journal_path=tmp_path)])
    result = await registry.invoke("systemd", "journal", {"unit": "talker.service"})
    assert isinstance(result, ToolErr) and result.error.code == "unavailable"
    assert "journald" in result.error.message


async def test_journal_of_this_host_without_journald_is_unavailable() -> None:
    journals = [Path("/run/log/journal"), Path("/var/log/journal")]
    if any(any(path.rglob("*.journal")) for path in journals if path.exists()):
        pytest.skip("this host keeps a journal")
    result = await ToolRegistry([SystemdTool()]).invoke("systemd", "journal", {"unit": "x.service"})
    assert isinstance(result, ToolErr) and result.error.code == "unavailable"
