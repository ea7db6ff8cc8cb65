"""Fill a small filesystem with events, then check the log survived, as one JSON line.

Usage: fill_disk.py DIR, where DIR is a small private tmpfs. Appends large
events until the log reports an error, retries, closes, reopens and verifies,
frees some space and appends again. Prints what happened at each step; the
test decides what is acceptable.
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

from sysward.events.log import EventLog
from sysward.events.query import EventQuery
from sysward.events.record import NewEvent
from sysward.events.store import EventLogError

EVENT_PAD_BYTES = 50_000
FILLER_BYTES = 256 * 1024
MAX_APPENDS = 500


def big(n: int) -> NewEvent:
    return NewEvent(
        topic="test.disk",
        type="filled",
        source="fill-script",
        data={"n": n, "pad": "x" * EVENT_PAD_BYTES},
    )


def describe(exc: BaseException) -> dict[str, object]:
    return {
        "type": type(exc).__name__,
        "is_event_log_error": isinstance(exc, EventLogError),
        "message": str(exc),
        "chained": exc.__cause__ is not None or not exc.__suppress_context__,
    }


async def fill(log: EventLog, outcome: dict[str, object]) -> list[int]:
    acked: list[int] = []
    for n in range(MAX_APPENDS):
        try:
            acked.append((await log.append(big(n))).seq)
        except EventLogError as exc:
            outcome["full_error"] = describe(exc)
            break
    outcome["acked"] = acked
    try:
        await log.append(big(-1))
        outcome["retry_error"] = None
    except EventLogError as exc:
        outcome["retry_error"] = describe(exc)
    return acked


async def check_reopened(path: Path, acked: list[int], outcome: dict[str, object]) -> None:
    log = await EventLog.open(path)
    try:
        outcome["reopened_verify"] = (await log.verify()).model_dump()
        stored = {e.seq: e.data["n"] for e in (await log.query(EventQuery(limit=10_000))).events}
        outcome["unreadable_acked"] = [s for s in acked if stored.get(s) != s - 1]
        outcome["reopened_last_seq"] = log.last_seq
    finally:
        await log.close()


async def append_after_freeing(root: Path, path: Path, outcome: dict[str, object]) -> None:
    (root / "filler").unlink()
    log = await EventLog.open(path)
    try:
        outcome["after_free_seq"] = (await log.append(big(10_000))).seq
        outcome["after_free_verify"] = (await log.verify()).model_dump()
    finally:
        await log.close()


async def main(root: Path) -> None:
    (root / "filler").write_bytes(b"\0" * FILLER_BYTES)
    path = root / "events"
    outcome: dict[str, object] = {}
    log = await EventLog.open(path)
    try:
        acked = await fill(log, outcome)
    finally:
        await log.close()
    await check_reopened(path, acked, outcome)
    await append_after_freeing(root, path, outcome)
    print(json.dumps(outcome), flush=True)


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1])))
