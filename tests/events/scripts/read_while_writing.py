"""Follow a log read-only from another process, checking every prefix it sees.

Usage: read_while_writing.py LOG_DIR INITIAL_MAP_SIZE_BYTES. Prints one JSON line
`{"seen": N, "verified": M}` each time it sees new events; on any inconsistency
prints `{"error": ...}` and exits 1. Runs until killed.
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

from sysward.events import store
from sysward.events.log import EventLog
from sysward.events.query import MAX_QUERY_LIMIT, EventQuery


def report(**fields: object) -> None:
    print(json.dumps(fields), flush=True)


async def main(path: Path) -> int:
    log = await EventLog.open(path, readonly=True)
    seen = 0
    while True:
        page = await log.query(EventQuery(after_seq=seen, limit=MAX_QUERY_LIMIT))
        seqs = [event.seq for event in page.events]
        if seqs != list(range(seen + 1, seen + 1 + len(seqs))):
            report(error=f"gap or disorder after seq {seen}: {seqs[:5]}...")
            return 1
        if page.scanned_seq != seen + len(seqs):
            report(error=f"scanned_seq {page.scanned_seq} but read up to {seen + len(seqs)}")
            return 1
        if not seqs:
            continue
        seen = seqs[-1]
        chain = await log.verify()
        if not chain.ok or chain.last_seq < seen:
            report(error=f"chain check failed at seen={seen}: {chain}")
            return 1
        report(seen=seen, verified=chain.last_seq)


if __name__ == "__main__":
    # A small map in this process forces it to adopt the writer's larger map.
    store.INITIAL_MAP_SIZE_BYTES = int(sys.argv[2])
    sys.exit(asyncio.run(main(Path(sys.argv[1]))))
