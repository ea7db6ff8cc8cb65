"""Append events until killed, printing `<seq> <n>` for each acknowledged one.

Usage: append_until_killed.py LOG_DIR. Each line is written (and flushed) only
after append() returned, i.e. after the event was acknowledged as durable.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from sysward.events.log import EventLog
from sysward.events.record import NewEvent

CONCURRENT_APPENDS = 8


def numbered(n: int) -> NewEvent:
    return NewEvent(topic="test.crash", type="appended", source="crash-script", data={"n": n})


async def main(path: Path) -> None:
    log = await EventLog.open(path)
    n = 0
    while True:
        appended = await asyncio.gather(
            *(log.append(numbered(n + i)) for i in range(CONCURRENT_APPENDS))
        )
        n += CONCURRENT_APPENDS
        sys.stdout.write("".join(f"{event.seq} {event.data['n']}\n" for event in appended))
        sys.stdout.flush()


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1])))
