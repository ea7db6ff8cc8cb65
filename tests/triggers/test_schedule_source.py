"""ScheduleSource and next_elapse with the real systemd-analyze and real statvfs.

Every wait is bounded; schedules fire every second or two so the tests stay short.
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from sysward.config import ScheduleTrigger
from sysward.triggers.source import SourceEvent, SourceUnavailable
from sysward.triggers.sources.schedule import ScheduleSource, next_elapse

DEADLINE_S = 5.0

pytestmark = pytest.mark.skipif(
    shutil.which("systemd-analyze") is None, reason="needs systemd-analyze (apt install systemd)"
)


def schedule(on_calendar: str, **disk: object) -> ScheduleTrigger:
    return ScheduleTrigger.model_validate(
        {"source": "schedule", "agent": "ops", "prompt": "due {due}", "on_calendar": on_calendar}
        | disk
    )


class Seen:
    """The events a source emitted, and a bounded wait for them."""

    def __init__(self) -> None:
        self.events: list[SourceEvent] = []
        self._changed = asyncio.Event()

    def emit(self, event: SourceEvent) -> None:
        self.events.append(event)
        self._changed.set()

    async def until(self, condition: Callable[[], bool]) -> None:
        async with asyncio.timeout(DEADLINE_S):
            while not condition():
                self._changed.clear()
                await self._changed.wait()


@asynccontextmanager
async def running(source: ScheduleSource, seen: Seen) -> AsyncIterator[asyncio.Task[None]]:
    task = asyncio.create_task(source.run(seen.emit))
    try:
        yield task
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task


def due_of(event: SourceEvent) -> datetime:
    return datetime.fromisoformat(event.fields["due"])


async def test_next_elapse_is_the_next_slot_strictly_after_the_base() -> None:
    base = datetime(2026, 12, 4, 22, 59, 32, 500000, tzinfo=UTC)
    assert await next_elapse("*:*:0/5", base) == datetime(2026, 12, 4, 22, 59, 35, tzinfo=UTC)
    on_slot = datetime(2026, 12, 4, 22, 59, 35, tzinfo=UTC)
    assert await next_elapse("*:*:0/5", on_slot) == on_slot + timedelta(seconds=5)


async def test_next_elapse_honours_a_time_zone_in_the_expression() -> None:
    base = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
    # 09:00 in Berlin is 08:00 UTC in winter.
    expected = datetime(2026, 12, 5, 8, 0, tzinfo=UTC)
    assert await next_elapse("*-*-* 09:00 Europe/Berlin", base) == expected


async def test_invalid_expression_is_unavailable_with_systemd_analyzes_reason() -> None:
    with pytest.raises(SourceUnavailable, match="systemd-analyze says: Failed to parse"):
        await next_elapse("every other tuesday", datetime.now(UTC))


async def test_expression_that_never_elapses_again_is_unavailable() -> None:
    with pytest.raises(SourceUnavailable, match="never elapses"):
        await next_elapse("2000-01-01", datetime.now(UTC))


async def test_due_schedule_emits_its_due_time_as_key() -> None:
    seen = Seen()
    async with running(ScheduleSource(schedule("*:*:0/2"), None), seen):
        await seen.until(lambda: bool(seen.events))
    event = seen.events[0]
    assert event.key == f"due:{event.fields['due']}"
    assert event.fields["due"].endswith("Z")
    assert due_of(event) <= datetime.now(UTC)


async def test_slot_missed_while_down_fires_once_at_start() -> None:
    started = datetime.now(UTC)
    last_due = started - timedelta(minutes=2)
    expected = await next_elapse("*:*:0/30", last_due)
    seen = Seen()
    async with running(ScheduleSource(schedule("*:*:0/30"), last_due), seen):
        await seen.until(lambda: bool(seen.events))
        # Were every missed slot fired, the other three would follow at once.
        await asyncio.sleep(0.5)
    missed = [event for event in seen.events if due_of(event) < started]
    assert [due_of(event) for event in missed] == [expected]
    assert seen.events[0] is missed[0]


async def test_disk_check_fires_when_the_filesystem_is_fuller(tmp_path: Path) -> None:
    seen = Seen()
    trigger = schedule("*:*:0/1", disk_path=tmp_path, disk_above_percent=0.0001)
    async with running(ScheduleSource(trigger, None), seen):
        await seen.until(lambda: bool(seen.events))
    fields = seen.events[0].fields
    assert fields["disk_path"] == str(tmp_path)
    assert 0.0 < float(fields["used_percent"]) <= 100.0
    assert int(fields["avail_bytes"]) >= 0


async def test_disk_check_holds_back_when_the_filesystem_is_emptier(tmp_path: Path) -> None:
    checked, unchecked = Seen(), Seen()
    trigger = schedule("*:*:0/1", disk_path=tmp_path, disk_above_percent=99.9999)
    async with (
        running(ScheduleSource(trigger, None), checked),
        running(ScheduleSource(schedule("*:*:0/1"), None), unchecked),
    ):
        # Two slots of the same schedule passed: the checked source decided the first.
        await unchecked.until(lambda: len(unchecked.events) >= 2)
    assert checked.events == []


async def test_unreadable_disk_path_is_unavailable(tmp_path: Path) -> None:
    trigger = schedule("*:*:0/1", disk_path=tmp_path / "gone", disk_above_percent=50)
    async with asyncio.timeout(DEADLINE_S):
        with pytest.raises(SourceUnavailable, match="cannot check the disk"):
            await ScheduleSource(trigger, None).run(Seen().emit)
