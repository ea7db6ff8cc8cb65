"""The checkpoint task: signs the head at start, on an interval when events are new, at stop."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path

import pytest

from sysward.daemon.checkpoints import Checkpointer
from sysward.events.log import EventLog
from sysward.events.query import EventQuery
from sysward.events.record import Event, NewEvent
from sysward.events.signing import KeyRing, LogSigningKey
from sysward.events.topics import LOG_CHECKPOINT

WAIT_S = 10.0


def event(n: int) -> NewEvent:
    return NewEvent(topic="test.event", type="happened", source="tests", data={"n": n})


@pytest.fixture
def key(tmp_path: Path) -> LogSigningKey:
    return LogSigningKey.load_or_create(tmp_path / "keys")


async def checkpoints_in(log: EventLog) -> list[Event]:
    return (await log.query(EventQuery(topic=LOG_CHECKPOINT))).events


async def test_start_signs_the_head(log: EventLog, key: LogSigningKey, tmp_path: Path) -> None:
    await log.append(event(1))
    checkpointer = Checkpointer(log, key, lambda: 3600)
    await checkpointer.start()
    try:
        [signed] = await checkpoints_in(log)
        assert (signed.seq, signed.data["covers_seq"], signed.data["key_id"]) == (2, 1, key.key_id)
        report = await log.verify(KeyRing.load(tmp_path / "keys"))
        assert (report.ok, report.checkpoints, report.last_signed_seq) == (True, 1, 1)
    finally:
        await checkpointer.stop()


async def test_nothing_new_means_no_new_checkpoint(log: EventLog, key: LogSigningKey) -> None:
    checkpointer = Checkpointer(log, key, lambda: 3600)
    assert await checkpointer.checkpoint() is None  # an empty log has nothing to sign
    await log.append(event(1))
    assert await checkpointer.checkpoint() is not None
    assert await checkpointer.checkpoint() is None  # only the checkpoint itself came after


async def test_new_events_are_signed_at_the_next_interval(
    log: EventLog, key: LogSigningKey
) -> None:
    await log.append(event(1))
    committed: list[Event] = []
    signed_new = asyncio.Event()

    def on_commit(events: Sequence[Event]) -> None:
        committed.extend(events)
        if any(e.topic == LOG_CHECKPOINT and e.data["covers_seq"] == 3 for e in events):
            signed_new.set()

    remove = log.add_listener(on_commit)
    checkpointer = Checkpointer(log, key, lambda: 0.05)
    await checkpointer.start()  # seq 2 covers 1
    try:
        await log.append(event(2))  # seq 3
        async with asyncio.timeout(WAIT_S):
            await signed_new.wait()
        # Idle for several intervals: no checkpoints of checkpoints.
        await asyncio.sleep(0.3)
        assert [e.seq for e in committed if e.topic == LOG_CHECKPOINT] == [2, 4]
    finally:
        remove()
        await checkpointer.stop()


async def test_stop_signs_the_final_head(log: EventLog, key: LogSigningKey, tmp_path: Path) -> None:
    await log.append(event(1))
    checkpointer = Checkpointer(log, key, lambda: 3600)
    await checkpointer.start()
    await log.append_many([event(2), event(3)])
    await checkpointer.stop()
    final = (await checkpoints_in(log))[-1]
    assert (final.seq, final.data["covers_seq"]) == (5, 4)
    report = await log.verify(KeyRing.load(tmp_path / "keys"))
    assert (report.ok, report.last_signed_seq, report.unsigned_tail) == (True, 4, 0)
