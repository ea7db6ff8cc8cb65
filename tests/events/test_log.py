"""The async EventLog: gap-free ordering under concurrency, atomic batches, listeners, close."""

from __future__ import annotations

import asyncio
import itertools
import json
import math
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from sysward.events.log import EventLog
from sysward.events.query import MAX_QUERY_LIMIT, EventQuery
from sysward.events.record import GENESIS_PREV, Event, InvalidEventError, record_hash
from sysward.events.store import EventLogError, EventStore

from .drafts import draft, numbered
from .raw_lmdb import read_record


async def all_events(log: EventLog) -> list[Event]:
    return (await log.query(EventQuery(limit=10_000))).events


async def test_first_event_gets_seq_1_and_the_genesis_prev(log: EventLog) -> None:
    first = await log.append(draft())
    assert first.seq == 1
    assert first.prev == GENESIS_PREV
    assert log.last_seq == 1


async def test_concurrent_appends_get_gap_free_unique_seqs(log: EventLog) -> None:
    appended = await asyncio.gather(*(log.append(draft(data={"n": n})) for n in range(500)))
    assert sorted(e.seq for e in appended) == list(range(1, 501))
    stored = await all_events(log)
    assert [e.seq for e in stored] == list(range(1, 501))
    by_n = {e.data["n"]: e for e in appended}
    assert sorted(by_n) == list(range(500))
    for event in stored:
        assert by_n[event.data["n"]] == event


async def test_append_many_is_atomic_with_consecutive_seqs_among_concurrent_appends(
    log: EventLog,
) -> None:
    batches = [log.append_many(numbered(10, start=100 * b)) for b in range(40)]
    singles = [log.append(draft(data={"n": -n})) for n in range(1, 201)]
    results = await asyncio.gather(*batches, *singles)
    for batch in results[:40]:
        assert isinstance(batch, list)
        seqs = [e.seq for e in batch]
        assert seqs == list(range(seqs[0], seqs[0] + 10))
        assert [e.data["n"] for e in batch] == list(
            range(batch[0].data["n"], batch[0].data["n"] + 10)
        )
    assert [e.seq for e in await all_events(log)] == list(range(1, 601))


async def test_each_record_chains_to_the_hash_of_the_one_before(log: EventLog) -> None:
    await asyncio.gather(*(log.append(draft()) for _ in range(50)))
    stored = await all_events(log)
    await log.close()
    for before, after in itertools.pairwise(stored):
        assert after.prev == record_hash(read_record(log.path, before.seq))
    assert log.head == record_hash(read_record(log.path, stored[-1].seq))


async def test_acknowledged_event_equals_the_stored_one(log: EventLog) -> None:
    appended = await log.append(draft("tool.bash", agent="ops", turn="t_1", data={"a": [1, "b"]}))
    assert await log.get(appended.seq) == appended


async def test_get_of_an_unknown_seq_is_none(log: EventLog) -> None:
    await log.append(draft())
    assert await log.get(2) is None


async def test_append_many_of_nothing_appends_nothing(log: EventLog) -> None:
    assert await log.append_many([]) == []
    assert (await log.append(draft())).seq == 1


async def test_listeners_see_every_commit_once_in_seq_order(log: EventLog) -> None:
    seen: list[int] = []

    def on_commit(events: Sequence[Event]) -> None:
        seen.extend(e.seq for e in events)

    remove = log.add_listener(on_commit)
    await asyncio.gather(*(log.append(draft()) for _ in range(300)))
    await log.append_many(numbered(20))
    assert seen == list(range(1, 321))
    remove()
    await log.append(draft())
    assert seen[-1] == 320


async def test_listener_runs_before_the_append_returns(log: EventLog) -> None:
    delivered: list[int] = []
    log.add_listener(lambda events: delivered.extend(e.seq for e in events))
    appended = await log.append(draft())
    assert delivered == [appended.seq]


async def test_seqs_continue_after_reopening(log_path: Path) -> None:
    log = await EventLog.open(log_path)
    await log.append_many(numbered(5))
    head = log.head
    await log.close()
    reopened = await EventLog.open(log_path)
    try:
        assert reopened.last_seq == 5
        assert reopened.head == head
        nxt = await reopened.append(draft())
        assert nxt.seq == 6
        assert nxt.prev == head
        assert nxt.ts >= (await reopened.get(5)).ts  # type: ignore[union-attr]
    finally:
        await reopened.close()


async def test_close_commits_appends_already_queued(log_path: Path) -> None:
    log = await EventLog.open(log_path)
    tasks = [asyncio.create_task(log.append(draft(data={"n": n}))) for n in range(100)]
    # One loop turn lets every task queue its append before close() is called.
    await asyncio.sleep(0)
    await log.close()
    appended = await asyncio.gather(*tasks)
    assert sorted(e.seq for e in appended) == list(range(1, 101))
    reopened = await EventLog.open(log_path)
    try:
        assert reopened.last_seq == 100
    finally:
        await reopened.close()


async def test_append_after_close_fails_with_event_log_error(log_path: Path) -> None:
    log = await EventLog.open(log_path)
    await log.close()
    with pytest.raises(EventLogError, match="closed"):
        await log.append(draft())
    await log.close()  # closing twice is harmless


async def test_cancelling_a_queued_append_cancels_only_the_wait(log: EventLog) -> None:
    task = asyncio.create_task(log.append_many(numbered(5)))
    await asyncio.sleep(0)  # the task queues its batch, then waits for the commit
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    after = await log.append(draft())
    assert after.seq == 6
    assert [e.data.get("n") for e in await all_events(log)] == [0, 1, 2, 3, 4, None]


async def test_an_unencodable_event_fails_only_its_own_append(
    log: EventLog, monkeypatch: pytest.MonkeyPatch
) -> None:
    try:
        # A lone surrogate, as os.fsdecode() gives for a file name that is not UTF-8.
        bad = draft(data={"name": "\udcff"})
    except ValidationError:
        return  # rejected where it enters: it can no longer poison a batch
    entered, release = threading.Event(), threading.Event()
    commit = EventStore.append_batch

    def first_commit_waits(store: EventStore, drafts: Sequence[Any]) -> list[Event]:
        if not entered.is_set():
            entered.set()
            release.wait(timeout=10)
        return commit(store, drafts)

    monkeypatch.setattr(EventStore, "append_batch", first_commit_waits)
    first = asyncio.create_task(log.append(draft()))
    assert await asyncio.to_thread(entered.wait, 10)
    # These three queue up behind the held commit, so they form one batch.
    batch = [asyncio.create_task(log.append(d)) for d in (draft(), bad, draft())]
    await asyncio.sleep(0)
    release.set()
    results = await asyncio.gather(first, *batch, return_exceptions=True)
    assert isinstance(results[2], InvalidEventError)
    assert "cannot be encoded" in str(results[2])
    assert [getattr(r, "seq", r) for r in (results[0], results[1], results[3])] == [1, 2, 3]


async def test_stored_records_are_standard_json(log: EventLog) -> None:
    try:
        nan = draft(data={"ratio": math.nan, "limit": math.inf})
    except ValidationError:
        return  # rejected where it enters
    appended = await log.append(nan)
    await log.close()

    def reject(constant: str) -> None:
        raise ValueError(f"{constant} is not JSON")

    json.loads(read_record(log.path, appended.seq), parse_constant=reject)


async def test_a_failing_listener_does_not_hold_up_appends(log: EventLog) -> None:
    def broken(events: Sequence[Event]) -> None:
        raise RuntimeError("listener bug")

    log.add_listener(broken)
    async with asyncio.timeout(10):
        event = await log.append(draft())
    assert event.seq == 1


async def test_query_all_reads_past_one_page(log: EventLog) -> None:
    await log.append_many([draft(agent="ops")] * (MAX_QUERY_LIMIT + 5))
    await log.append_many([draft(agent="db")] * 3)
    events = await log.query_all(EventQuery(agent="ops", after_seq=2, limit=1))
    assert [event.seq for event in events] == list(range(3, MAX_QUERY_LIMIT + 6))
    assert len(await log.query_all_raw(EventQuery(agent="db"))) == 3
