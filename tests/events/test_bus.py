"""The EventBus: patterns, agent filter, live delivery, replay-then-live, slow subscribers."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence
from typing import Any

import pytest

from sysward.events.bus import REPLAY_PAGE_SIZE, EventBus, SubscriberDropped, Subscription
from sysward.events.log import EventLog
from sysward.events.patterns import InvalidTopicError
from sysward.events.record import Event, NewEvent
from sysward.events.store import EventStore

from .drafts import draft, numbered, wait_for_seq

TIMEOUT_S = 20


async def collect(subscription: Subscription, count: int) -> list[Event]:
    """The next `count` events of a subscription (bounded)."""
    events: list[Event] = []
    async with asyncio.timeout(TIMEOUT_S):
        async for event in subscription:
            events.append(event)
            if len(events) == count:
                break
    return events


async def collect_through(subscription: Subscription, last_seq: int) -> list[int]:
    """Seqs delivered up to and including `last_seq` (bounded)."""
    seqs: list[int] = []
    async with asyncio.timeout(TIMEOUT_S):
        async for event in subscription:
            seqs.append(event.seq)
            if event.seq >= last_seq:
                break
    return seqs


async def test_star_matches_exactly_one_segment(log: EventLog, bus: EventBus) -> None:
    subscription = bus.subscribe("tool.*")
    await log.append_many(
        [draft("tool.bash"), draft("tool.inotify.event"), draft("agent.prompt"), draft("tool.file")]
    )
    assert [e.topic for e in await collect(subscription, 2)] == ["tool.bash", "tool.file"]


async def test_rest_matches_one_or_more_trailing_segments(log: EventLog, bus: EventBus) -> None:
    subscription = bus.subscribe("agent.>")
    await log.append_many(
        [
            draft("agent.prompt"),
            draft("agent"),
            draft("agent.a.b"),
            draft("tool.x"),
            draft("agent.z"),
        ]
    )
    topics = [e.topic for e in await collect(subscription, 3)]
    assert topics == ["agent.prompt", "agent.a.b", "agent.z"]


async def test_lone_star_matches_single_segment_topics(log: EventLog, bus: EventBus) -> None:
    subscription = bus.subscribe("*")
    await log.append_many([draft("daemon.started"), draft("solo"), draft("a.b.c"), draft("end")])
    assert [e.topic for e in await collect(subscription, 2)] == ["solo", "end"]


async def test_agent_filter_delivers_only_that_agents_events(log: EventLog, bus: EventBus) -> None:
    await log.append_many([draft(agent="ops"), draft(agent="ops2"), draft()])
    subscription = bus.subscribe(agent="ops", since=0)
    await log.append_many([draft(agent="op"), draft(agent="ops"), draft(agent="db")])
    events = await collect(subscription, 2)
    assert [(e.seq, e.agent) for e in events] == [(1, "ops"), (5, "ops")]


async def test_without_since_only_events_committed_later_are_delivered(
    log: EventLog, bus: EventBus
) -> None:
    await log.append_many(numbered(3))
    subscription = bus.subscribe()
    await log.append_many(numbered(2, start=3))
    assert [e.seq for e in await collect(subscription, 2)] == [4, 5]


async def test_since_replays_later_events_then_goes_live(log: EventLog, bus: EventBus) -> None:
    await log.append_many(numbered(5))
    subscription = bus.subscribe(since=2)
    await log.append(draft())
    assert [e.seq for e in await collect(subscription, 4)] == [3, 4, 5, 6]


async def test_next_steps_through_a_replayed_page_one_event_at_a_time(
    log: EventLog, bus: EventBus
) -> None:
    await log.append_many(numbered(10))
    subscription = bus.subscribe(since=0)
    assert [(await subscription.next(TIMEOUT_S)).seq for _ in range(10)] == list(range(1, 11))


async def test_iterating_again_after_a_break_continues_where_it_stopped(
    log: EventLog, bus: EventBus
) -> None:
    await log.append_many(numbered(10))
    subscription = bus.subscribe(since=0)
    first = await collect(subscription, 3)
    rest = await collect(subscription, 7)
    assert [e.seq for e in first + rest] == list(range(1, 11))


async def test_next_times_out_when_nothing_arrives(bus: EventBus) -> None:
    subscription = bus.subscribe()
    with pytest.raises(TimeoutError):
        await subscription.next(0.05)


async def test_slow_subscriber_is_dropped_and_resumes_with_no_gap(
    log: EventLog, bus: EventBus
) -> None:
    await log.append_many(numbered(5))
    slow = bus.subscribe(max_queue=4)
    await log.append_many(numbered(2, start=5))
    assert [e.seq for e in await collect(slow, 2)] == [6, 7]

    await log.append_many(numbered(10, start=7))
    assert bus.subscriber_count == 0
    with pytest.raises(SubscriberDropped) as dropped:
        await slow.next(TIMEOUT_S)
    assert dropped.value.resume_after_seq == 7
    assert "since=7" in str(dropped.value)

    resumed = bus.subscribe(since=dropped.value.resume_after_seq)
    await log.append(draft())
    assert [e.seq for e in await collect(resumed, 11)] == list(range(8, 19))


async def test_writers_never_wait_for_a_subscriber_that_does_not_read(
    log: EventLog, bus: EventBus
) -> None:
    stalled = bus.subscribe(max_queue=1)
    reader = bus.subscribe(max_queue=5000)
    async with asyncio.timeout(TIMEOUT_S):
        for start in range(0, 2000, 100):
            await log.append_many(numbered(100, start=start))
    assert bus.subscriber_count == 1
    assert [e.seq for e in await collect(reader, 2000)] == list(range(1, 2001))
    with pytest.raises(SubscriberDropped) as dropped:
        await stalled.next(TIMEOUT_S)
    assert dropped.value.resume_after_seq == 0


async def test_replay_then_live_has_no_gap_and_no_duplicate_under_concurrent_appends(
    log: EventLog, bus: EventBus
) -> None:
    # Event n gets seq n + 1; odd n are "test.a", so the last one (n = 2299) is too.
    def batch(start: int) -> list[NewEvent]:
        return [
            draft("test.a" if n % 2 else "test.b", data={"n": n}) for n in range(start, start + 20)
        ]

    for start in range(0, 300, 20):
        await log.append_many(batch(start))

    async def keep_appending() -> None:
        for start in range(300, 2300, 20):
            await log.append_many(batch(start))

    appender = asyncio.create_task(keep_appending())
    try:
        await wait_for_seq(log, 600)
        subscription = bus.subscribe("test.a", since=0, max_queue=5000)
        assert not appender.done(), "the subscription must start while appends are running"
        seqs = await collect_through(subscription, 2300)
    finally:
        await appender
    assert seqs == list(range(2, 2301, 2))


async def test_subscribing_while_a_commit_awaits_delivery_neither_repeats_nor_skips(
    log: EventLog, bus: EventBus, monkeypatch: pytest.MonkeyPatch
) -> None:
    await log.append_many(numbered(3))
    committed = threading.Event()
    commit = EventStore.append_batch

    def append_batch_and_tell(store: EventStore, drafts: Sequence[Any]) -> list[Event]:
        events = commit(store, drafts)
        committed.set()
        return events

    monkeypatch.setattr(EventStore, "append_batch", append_batch_and_tell)
    appending = asyncio.create_task(log.append_many(numbered(2, start=3)))
    await asyncio.sleep(0)  # the batch reaches the writer thread
    # Block the loop until seqs 4-5 are committed: their delivery is now pending.
    assert committed.wait(timeout=TIMEOUT_S)
    live = bus.subscribe()
    replaying = bus.subscribe(since=0)
    await appending
    await log.append(draft())
    assert [e.seq for e in await collect(live, 1)] == [6]
    assert [e.seq for e in await collect(replaying, 6)] == [1, 2, 3, 4, 5, 6]


async def test_queue_overflow_during_replay_is_caught_up_from_the_log(
    log: EventLog, bus: EventBus
) -> None:
    await log.append_many(numbered(REPLAY_PAGE_SIZE + 500))
    subscription = bus.subscribe(since=0, max_queue=10)
    first = await collect(subscription, 500)
    # Still replaying: 100 live events overflow the 10-slot queue; they must come from the log.
    await log.append_many(numbered(100, start=REPLAY_PAGE_SIZE + 500))
    assert bus.subscriber_count == 1
    rest = await collect(subscription, REPLAY_PAGE_SIZE + 100)
    assert [e.seq for e in first + rest] == list(range(1, REPLAY_PAGE_SIZE + 601))
    await log.append(draft())
    assert (await subscription.next(TIMEOUT_S)).seq == REPLAY_PAGE_SIZE + 601


async def test_overflow_before_reading_anything_is_caught_up_too(
    log: EventLog, bus: EventBus
) -> None:
    await log.append_many(numbered(50))
    subscription = bus.subscribe(since=0, max_queue=5)
    for start in range(50, 250, 10):
        await log.append_many(numbered(10, start=start))
    assert bus.subscriber_count == 1
    assert [e.data["n"] for e in await collect(subscription, 250)] == list(range(250))


async def test_closing_a_subscription_ends_its_iteration(log: EventLog, bus: EventBus) -> None:
    subscription = bus.subscribe()
    consumer = asyncio.create_task(collect(subscription, 10))
    await log.append(draft())
    await wait_for_seq(log, 1)
    subscription.close()
    async with asyncio.timeout(TIMEOUT_S):
        delivered = await consumer
    assert [e.seq for e in delivered] == [1]
    assert bus.subscriber_count == 0


async def test_async_with_closes_the_subscription(bus: EventBus) -> None:
    async with bus.subscribe() as subscription:
        assert bus.subscriber_count == 1
    assert bus.subscriber_count == 0
    assert await collect(subscription, 1) == []


async def test_closing_the_bus_closes_every_subscription(log: EventLog) -> None:
    bus = EventBus(log)
    subscriptions = [bus.subscribe(), bus.subscribe("tool.*")]
    bus.close()
    assert bus.subscriber_count == 0
    await log.append(draft("tool.bash"))
    for subscription in subscriptions:
        assert await collect(subscription, 1) == []


async def test_invalid_pattern_is_rejected(bus: EventBus) -> None:
    with pytest.raises(InvalidTopicError):
        bus.subscribe("tool.>.x")


async def test_since_beyond_the_tail_skips_every_seq_up_to_since(
    log: EventLog, bus: EventBus
) -> None:
    await log.append_many(numbered(3))
    subscription = bus.subscribe(">", since=5)
    await log.append_many(numbered(4, start=3))  # seqs 4..7
    got = [(await subscription.next(timeout_s=5)).seq for _ in range(2)]
    assert got == [6, 7]
    subscription.close()
