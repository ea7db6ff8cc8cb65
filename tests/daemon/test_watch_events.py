"""The inotify tool's changes as `tool.inotify.event` events: real kernel events from a
real InotifyTool, appended to a real LMDB log without blocking; overflow is counted."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sysward.agents.payloads import ToolFinished
from sysward.daemon.watch_events import WatchEventRecorder
from sysward.events import topics
from sysward.events.bus import EventBus
from sysward.events.log import EventLog
from sysward.events.query import EventQuery
from sysward.events.record import Event, NewEvent
from sysward.tools.inotify import InotifyTool
from sysward.tools.inotify.models import InotifyEventOut, WatchArgs
from sysward.tools.result import ToolOk

WAIT_S = 10.0


async def logged_changes(log: EventLog, count: int) -> list[Event]:
    """The first `count` `tool.inotify.event` events, waiting (bounded) for them."""
    bus = EventBus(log)
    try:
        async with bus.subscribe(topics.TOOL_INOTIFY_EVENT, since=0) as subscription:
            return [await subscription.next(WAIT_S) for _ in range(count)]
    finally:
        bus.close()


def change(watch_id: str, path: str) -> InotifyEventOut:
    return InotifyEventOut(
        watch_id=watch_id,
        ts=datetime.now(UTC),
        path=path,
        kinds=["modify"],
        is_dir=False,
        cookie=None,
        synthetic=False,
    )


async def record_watch_result(log: EventLog, agent: str, output: dict[str, Any]) -> None:
    """What an agent's `inotify watch` call leaves in the log."""
    finished = ToolFinished(
        call_id="c1", action="watch", result=ToolOk(output=output), duration_ms=1
    )
    draft = NewEvent(
        topic="tool.inotify", type="result", agent=agent, source="test", data=finished.to_data()
    )
    await log.append(draft)


async def test_a_kernel_event_is_logged_with_its_watch_and_agent(
    log: EventLog, tmp_path: Path
) -> None:
    watched = tmp_path / "watched"
    watched.mkdir()
    recorder = WatchEventRecorder()
    tool = InotifyTool(on_event=recorder.record)
    try:
        async with recorder.running(log):
            started = await tool.watch(WatchArgs(path=str(watched)))
            await record_watch_result(log, "ops", started.model_dump(mode="json"))
            (watched / "sub").mkdir()
            (event,) = await logged_changes(log, 1)
    finally:
        await tool.aclose()
    assert event.type == "changed"
    assert event.source == "sysward.tools.inotify"
    assert event.data == {
        "watch_id": started.watch_id,
        "path": str(watched / "sub"),
        "name": "sub",
        "kinds": ["create"],
        "is_dir": True,
        "cookie": None,
        "synthetic": False,
        "read_at": event.data["read_at"],
        "agent": "ops",
    }


async def test_a_watch_nobody_is_known_to_own_has_no_agent(log: EventLog) -> None:
    recorder = WatchEventRecorder()
    async with recorder.running(log):
        recorder.record(change("w_00000000", "/srv/x"))
        (event,) = await logged_changes(log, 1)
    assert event.data["agent"] is None
    assert event.data["name"] is None


async def test_a_failed_watch_call_teaches_no_owner(log: EventLog) -> None:
    recorder = WatchEventRecorder()
    async with recorder.running(log):
        await record_watch_result(log, "ops", {"unexpected": True})
        recorder.record(change("w_00000001", "/srv/x"))
        (event,) = await logged_changes(log, 1)
    assert event.data["agent"] is None


async def test_a_full_queue_drops_and_then_says_how_many(log: EventLog) -> None:
    recorder = WatchEventRecorder(queue_size=2)
    async with recorder.running(log):
        # No await in between: the appending task cannot drain the queue meanwhile.
        for index in range(5):
            recorder.record(change("w_0000000a", f"/srv/f{index}"))
        events = await logged_changes(log, 3)
    assert [event.type for event in events] == ["changed", "changed", "dropped"]
    assert [event.data["path"] for event in events[:2]] == ["/srv/f0", "/srv/f1"]
    assert events[2].data == {"dropped": 3, "reason": "the queue of events to log was full"}
    assert (recorder.recorded, recorder.dropped_total) == (2, 3)


async def test_events_after_stopping_are_counted_not_raised(log: EventLog) -> None:
    recorder = WatchEventRecorder()
    async with recorder.running(log):
        pass
    recorder.record(change("w_0000000b", "/srv/late"))
    assert recorder.dropped_total == 1
    assert (await log.query(EventQuery(topic=topics.TOOL_INOTIFY_EVENT))).events == []


async def test_the_backlog_is_written_before_the_recorder_stops(log: EventLog) -> None:
    recorder = WatchEventRecorder()
    async with recorder.running(log):
        for index in range(50):
            recorder.record(change("w_0000000c", f"/srv/f{index}"))
    events = (await log.query(EventQuery(topic=topics.TOOL_INOTIFY_EVENT))).events
    assert [event.data["path"] for event in events] == [f"/srv/f{index}" for index in range(50)]
