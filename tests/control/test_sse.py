"""Server-Sent Events over a bus subscription: framing, heartbeats, drops, closing."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator

import pytest

from sysward.control.sse import event_message, follow, sse_message, stream_events
from sysward.events.bus import EventBus
from sysward.events.log import EventLog
from sysward.events.query import EventQuery
from sysward.events.record import Event, NewEvent


def draft(index: int) -> NewEvent:
    return NewEvent(topic="test.sse", type="made", source="test", data={"index": index})


@pytest.fixture
async def bus(log: EventLog) -> AsyncIterator[EventBus]:
    created = EventBus(log)
    try:
        yield created
    finally:
        created.close()


def test_a_message_has_id_event_and_one_data_line() -> None:
    assert sse_message(b'{"a":1}', event="t.x", id_=7) == b'id: 7\nevent: t.x\ndata: {"a":1}\n\n'
    assert sse_message(b"{}") == b"data: {}\n\n"


async def test_an_event_is_sent_as_its_stored_bytes(log: EventLog) -> None:
    event = await log.append(draft(1))
    stored = (await log.query_raw(EventQuery())).records[0].raw
    assert event_message(event) == b"id: 1\nevent: test.sse\ndata: " + stored + b"\n\n"


async def test_follow_replays_then_goes_live_with_heartbeats_between(
    log: EventLog, bus: EventBus
) -> None:
    await log.append(draft(1))
    closing = asyncio.Event()
    seen: list[Event | None] = []
    stream = follow(bus.subscribe(since=0), closing, heartbeat_s=0.02)
    async with asyncio.timeout(5), contextlib.aclosing(stream):
        async for item in stream:
            seen.append(item)
            if item is None and len(seen) == 2:
                await log.append(draft(2))
            if isinstance(item, Event) and item.seq == 2:
                break
    assert isinstance(seen[0], Event)
    assert seen[0].seq == 1
    assert seen[1] is None
    assert isinstance(seen[-1], Event)
    assert bus.subscriber_count == 0


async def test_follow_flushes_what_is_committed_then_ends_when_closing(
    log: EventLog, bus: EventBus
) -> None:
    closing = asyncio.Event()
    subscription = bus.subscribe()
    await log.append_many([draft(index) for index in range(3)])
    closing.set()
    async with asyncio.timeout(5):
        seen = [item async for item in follow(subscription, closing, heartbeat_s=10)]
    assert [item.seq for item in seen if isinstance(item, Event)] == [1, 2, 3]
    assert bus.subscriber_count == 0


async def test_a_dropped_subscriber_gets_a_dropped_message_with_the_resume_seq(
    log: EventLog, bus: EventBus
) -> None:
    subscription = bus.subscribe(max_queue=2)
    await log.append_many([draft(index) for index in range(5)])
    chunks = []
    async with asyncio.timeout(5):
        async for chunk in stream_events(subscription, asyncio.Event(), heartbeat_s=10):
            chunks.append(chunk)
    assert chunks[0] == b": stream open\n\n"
    last = chunks[-1].decode()
    assert last.startswith("event: dropped\ndata: ")
    assert json.loads(last.split("data: ", 1)[1])["resume_after_seq"] == 0
