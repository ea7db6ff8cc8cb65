"""Hash-chain verification finds altered, deleted and truncated records."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from sysward.events.chain import ChainReport
from sysward.events.log import EventLog
from sysward.events.store import HEAD_KEY

from .drafts import numbered
from .raw_lmdb import (
    delete_record,
    overwrite_record,
    raw_write,
    read_meta,
    read_record,
    write_meta,
)

EVENTS = 20


async def closed_log_of(path: Path, count: int = EVENTS) -> None:
    log = await EventLog.open(path)
    await log.append_many(numbered(count // 2))
    await log.append_many(numbered(count - count // 2, start=count // 2))
    await log.close()


async def verify(path: Path) -> ChainReport:
    log = await EventLog.open(path)
    try:
        return await log.verify()
    finally:
        await log.close()


def altered(raw: bytes) -> bytes:
    """The same record with a different payload: still a valid event."""
    envelope = json.loads(raw)
    envelope["data"]["n"] = 999_999
    return json.dumps(envelope, separators=(",", ":")).encode()


async def test_intact_log_verifies(log_path: Path) -> None:
    await closed_log_of(log_path)
    report = await verify(log_path)
    assert report.ok
    assert report.checked == EVENTS
    assert report.last_seq == EVENTS
    assert report.first_bad_seq is None


async def test_empty_log_verifies(log: EventLog) -> None:
    report = await log.verify()
    assert report.ok
    assert report.checked == 0


async def test_report_head_is_the_logs_head(log: EventLog) -> None:
    await log.append_many(numbered(3))
    assert (await log.verify()).head == log.head


async def test_modified_middle_record_is_reported_at_its_seq(log_path: Path) -> None:
    await closed_log_of(log_path)
    overwrite_record(log_path, 7, altered(read_record(log_path, 7)))
    report = await verify(log_path)
    assert not report.ok
    assert report.first_bad_seq == 7
    assert report.reason


async def test_first_record_modified_is_reported(log_path: Path) -> None:
    await closed_log_of(log_path)
    overwrite_record(log_path, 1, altered(read_record(log_path, 1)))
    report = await verify(log_path)
    assert (report.ok, report.first_bad_seq) == (False, 1)


async def test_record_that_is_not_an_event_is_reported(log_path: Path) -> None:
    await closed_log_of(log_path)
    overwrite_record(log_path, 5, b"\x00garbage")
    report = await verify(log_path)
    assert (report.ok, report.first_bad_seq) == (False, 5)


async def test_record_claiming_another_seq_is_reported(log_path: Path) -> None:
    await closed_log_of(log_path)
    envelope = json.loads(read_record(log_path, 4))
    envelope["seq"] = 40
    overwrite_record(log_path, 4, json.dumps(envelope, separators=(",", ":")).encode())
    report = await verify(log_path)
    assert (report.ok, report.first_bad_seq) == (False, 4)


async def test_deleted_middle_record_is_reported_at_its_seq(log_path: Path) -> None:
    await closed_log_of(log_path)
    delete_record(log_path, 11)
    report = await verify(log_path)
    assert not report.ok
    assert report.first_bad_seq == 11
    assert report.checked == 10


async def test_modified_tail_record_is_caught_by_the_recorded_head(log_path: Path) -> None:
    await closed_log_of(log_path)
    overwrite_record(log_path, EVENTS, altered(read_record(log_path, EVENTS)))
    report = await verify(log_path)
    assert not report.ok
    assert report.first_bad_seq == EVENTS


async def test_deleted_tail_record_is_caught_by_the_recorded_head(log_path: Path) -> None:
    await closed_log_of(log_path)
    delete_record(log_path, EVENTS)
    report = await verify(log_path)
    assert not report.ok
    assert report.first_bad_seq == EVENTS


async def test_records_missing_below_the_recorded_head_are_reported(log_path: Path) -> None:
    await closed_log_of(log_path)
    assert read_meta(log_path, HEAD_KEY) is not None
    write_meta(log_path, HEAD_KEY, f"{EVENTS + 3}:{'0' * 64}".encode())
    report = await verify(log_path)
    assert not report.ok
    assert report.first_bad_seq == EVENTS + 1


async def test_records_without_a_recorded_head_are_reported(log_path: Path) -> None:
    await closed_log_of(log_path)
    with raw_write(log_path, b"meta") as (txn, db):
        assert txn.delete(HEAD_KEY, db=db)
    report = await verify(log_path)
    assert not report.ok
    assert report.first_bad_seq == EVENTS


async def test_verify_while_appending_reports_the_chain_intact(log: EventLog) -> None:
    stop = asyncio.Event()

    async def keep_appending() -> None:
        while not stop.is_set():
            await log.append_many(numbered(3))

    writer = asyncio.create_task(keep_appending())
    try:
        reports = [await log.verify() for _ in range(60)]
    finally:
        stop.set()
        await writer
    assert [r.reason for r in reports if not r.ok] == []
    assert reports[-1].last_seq > reports[0].last_seq
