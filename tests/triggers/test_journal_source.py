"""JournalSource against a real journald (an isolated systemd --user's), for each follower.

Entries are written with journald's native protocol. A follower gives no "ready"
signal, so ``running`` writes marker entries until one comes through: from then on,
every entry written is one the source follows.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path

import pytest

from sysward.config import JournalTrigger
from sysward.tools.systemd.journal import INSTALL_HINT, JournalBackend, available_backends
from sysward.triggers.source import SourceEvent, SourceUnavailable
from sysward.triggers.sources.journal import JournalSource
from tools.test_systemd_journal import journalctl_children, send_to_journal
from tools.user_systemd import UserManager

DEADLINE_S = 10.0
MARKER_EVERY_S = 0.05
IDENTIFIER = "sysward-trigger-test"
MARKER = "marker failed"


def trigger(manager: UserManager, *, unit: str | None = None) -> JournalTrigger:
    return JournalTrigger(
        source="journal",
        agent="ops",
        prompt="{message}",
        priority=3,
        message=r"\bfailed$",
        identifier=IDENTIFIER,
        unit=unit,
        directory=manager.journal_dir,
    )


def write(
    manager: UserManager,
    message: bytes,
    *,
    priority: int = 3,
    identifier: str = IDENTIFIER,
    unit: str = "disk-check.service",
) -> None:
    """One entry about ``unit``, as a root process logs it."""
    send_to_journal(
        manager,
        [
            ("MESSAGE", message),
            ("PRIORITY", b"%d" % priority),
            ("SYSLOG_IDENTIFIER", identifier.encode()),
            ("UNIT", unit.encode()),
        ],
    )


class Seen:
    """The events a source emitted, and bounded waits for them."""

    def __init__(self) -> None:
        self.events: list[SourceEvent] = []
        self._changed = asyncio.Event()

    def emit(self, event: SourceEvent) -> None:
        self.events.append(event)
        self._changed.set()

    @property
    def messages(self) -> list[str]:
        """What was emitted, markers left out."""
        return [
            event.fields["message"] for event in self.events if event.fields["message"] != MARKER
        ]

    def has_messages(self) -> bool:
        return bool(self.messages)

    async def until(
        self, condition: Callable[[], bool], tick: Callable[[], None] | None = None
    ) -> None:
        """Wait until ``condition`` holds, calling ``tick`` meanwhile; fails after DEADLINE_S."""
        async with asyncio.timeout(DEADLINE_S):
            while not condition():
                self._changed.clear()
                if tick is not None:
                    tick()
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(MARKER_EVERY_S if tick else None):
                        await self._changed.wait()


@pytest.fixture(params=list(JournalBackend), ids=str)
def backend(request: pytest.FixtureRequest) -> JournalBackend:
    chosen = JournalBackend(request.param)
    if chosen not in available_backends():
        pytest.skip(f"{chosen} is not installed here")
    return chosen


@asynccontextmanager
async def running(source: JournalSource, seen: Seen, manager: UserManager) -> AsyncIterator[None]:
    """Run the source in a task until it follows new entries; cancel it at the end."""
    task = asyncio.create_task(source.run(seen.emit))
    try:
        await seen.until(
            lambda: task.done() or MARKER in (e.fields["message"] for e in seen.events),
            tick=lambda: write(manager, MARKER.encode()),
        )
        if task.done():
            task.result()  # its error, rather than a timeout
        yield
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert journalctl_children() == []  # killed and reaped


async def test_matching_entry_fires_once_with_its_fields(
    journaled_user_manager: UserManager, backend: JournalBackend
) -> None:
    seen = Seen()
    source = JournalSource(trigger(journaled_user_manager), None, backend)
    async with running(source, seen, journaled_user_manager):
        write(journaled_user_manager, b"disk sda failed")
        write(journaled_user_manager, b"disk sdb failed")  # the later one shows the first is done
        await seen.until(lambda: len(seen.messages) == 2)
    event = next(e for e in seen.events if e.fields["message"] == "disk sda failed")
    assert seen.messages == ["disk sda failed", "disk sdb failed"]
    assert event.key == event.cursor == event.fields["cursor"]
    assert event.fields["priority"] == "3"
    assert event.fields["unit"] == "disk-check.service"  # what the entry says, shown as such
    assert event.fields["identifier"] == IDENTIFIER
    assert int(event.fields["pid"]) > 0
    assert datetime.fromisoformat(event.fields["ts"]).utcoffset() is not None
    assert event.fields["ts"].endswith("Z")


async def test_entries_outside_priority_regex_identifier_or_unit_do_not_fire(
    journaled_user_manager: UserManager, backend: JournalBackend
) -> None:
    seen = Seen()
    source = JournalSource(trigger(journaled_user_manager), None, backend)
    async with running(source, seen, journaled_user_manager):
        write(journaled_user_manager, b"disk sda failed", priority=6)
        write(journaled_user_manager, b"disk sda is fine")
        write(journaled_user_manager, b"disk sda failed", identifier="someone-else")
        write(journaled_user_manager, b"disk sdc failed")
        await seen.until(lambda: bool(seen.messages))
    assert seen.messages == ["disk sdc failed"]


async def test_a_unit_named_by_a_process_other_than_the_manager_does_not_match(
    journaled_user_manager: UserManager, backend: JournalBackend
) -> None:
    """UNIT= is any writer's claim; only journald's own _SYSTEMD_UNIT fields, and UNIT= from
    PID 1, name the unit: a local process cannot fake "disk-check.service failed"."""
    seen = Seen()
    source = JournalSource(trigger(journaled_user_manager, unit="disk-*.service"), None, backend)
    matched = JournalSource(trigger(journaled_user_manager), None, backend)
    async with running(matched, seen, journaled_user_manager):
        write(journaled_user_manager, b"disk sda failed", unit="disk-check.service")
        await seen.until(lambda: bool(seen.messages))
    [event] = [e for e in seen.events if e.fields["message"] == "disk sda failed"]
    assert not source.matches(_raw(event))


def _raw(event: SourceEvent) -> dict[str, object]:
    """The fields a forged entry carries, as a reader gives them (its pid is the writer's)."""
    return {
        "MESSAGE": event.fields["message"],
        "PRIORITY": int(event.fields["priority"]),
        "SYSLOG_IDENTIFIER": event.fields["identifier"],
        "UNIT": event.fields["unit"],
        "_PID": int(event.fields["pid"]),
    }


async def test_non_utf8_message_is_decoded_best_effort(
    journaled_user_manager: UserManager, backend: JournalBackend
) -> None:
    seen = Seen()
    source = JournalSource(trigger(journaled_user_manager), None, backend)
    async with running(source, seen, journaled_user_manager):
        write(journaled_user_manager, b"disk \xff\xfe failed")
        await seen.until(lambda: bool(seen.messages))
    assert seen.messages == ["disk \ufffd\ufffd failed"]


async def test_resume_gives_exactly_the_entries_after_the_cursor(
    journaled_user_manager: UserManager, backend: JournalBackend
) -> None:
    settings = trigger(journaled_user_manager)
    first = Seen()
    async with running(JournalSource(settings, None, backend), first, journaled_user_manager):
        write(journaled_user_manager, b"disk one failed")
        await first.until(lambda: first.messages == ["disk one failed"])
    cursor = first.events[-1].cursor
    write(journaled_user_manager, b"disk two failed")
    write(journaled_user_manager, b"disk three failed")
    resumed = Seen()
    task = asyncio.create_task(JournalSource(settings, cursor, backend).run(resumed.emit))
    try:
        await resumed.until(lambda: len(resumed.events) >= 2)
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    assert [e.fields["message"] for e in resumed.events] == ["disk two failed", "disk three failed"]


async def test_first_start_does_not_replay_history(
    journaled_user_manager: UserManager, backend: JournalBackend
) -> None:
    write(journaled_user_manager, b"disk old failed")
    # A first follower seeing a marker written after it proves the old entry is stored.
    witness = Seen()
    settings = trigger(journaled_user_manager)
    async with running(JournalSource(settings, None, backend), witness, journaled_user_manager):
        pass
    seen = Seen()
    async with running(JournalSource(settings, None, backend), seen, journaled_user_manager):
        write(journaled_user_manager, b"disk new failed")
        await seen.until(lambda: bool(seen.messages))
    assert seen.messages == ["disk new failed"]


async def test_both_followers_emit_identical_events(journaled_user_manager: UserManager) -> None:
    if len(available_backends()) < 2:
        pytest.skip("needs both systemd-python and journalctl")
    settings = trigger(journaled_user_manager)
    seen = {backend: Seen() for backend in JournalBackend}
    async with (
        running(
            JournalSource(settings, None, JournalBackend.BINDING),
            seen[JournalBackend.BINDING],
            journaled_user_manager,
        ),
        running(
            JournalSource(settings, None, JournalBackend.JOURNALCTL),
            seen[JournalBackend.JOURNALCTL],
            journaled_user_manager,
        ),
    ):
        write(journaled_user_manager, b"disk \xff both failed")
        for each in seen.values():
            await each.until(each.has_messages)
    by_binding, by_journalctl = (
        [e for e in s.events if e.fields["message"] != MARKER] for s in seen.values()
    )
    assert by_binding == by_journalctl


async def test_invalid_resume_cursor_is_unavailable_with_the_reason(
    journaled_user_manager: UserManager, backend: JournalBackend
) -> None:
    source = JournalSource(trigger(journaled_user_manager), "not-a-cursor", backend)
    async with asyncio.timeout(DEADLINE_S):
        with pytest.raises(SourceUnavailable) as raised:
            await source.run(Seen().emit)
    assert "journal" in str(raised.value)


async def test_no_journal_reader_is_unavailable_with_the_install_hint(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # As tests/tools/test_systemd_journal.py's no_journal_readers: an empty PATH hides
    # journalctl, None in sys.modules makes the import system refuse systemd.
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delitem(sys.modules, "systemd.journal", raising=False)
    monkeypatch.setitem(sys.modules, "systemd", None)
    settings = JournalTrigger(source="journal", agent="ops", prompt="{message}")
    with pytest.raises(SourceUnavailable) as raised:
        await JournalSource(settings, None).run(Seen().emit)
    assert str(raised.value) == INSTALL_HINT
