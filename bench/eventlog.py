"""Event-log benchmark: sysward's LMDB log against SQLite WAL and fsynced JSON lines.

Run with `make bench` (or `python bench/eventlog.py --events 100000` for a
quicker pass). Every row is measured for the three stores in one run, side by
side, and reported as a ratio, because this machine is shared and noisy.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from baselines import JsonlEventStore, SqliteEventStore
from sysward.events.log import EventLog
from sysward.events.query import EventQuery
from sysward.events.record import NewEvent
from sysward.events.store import EventStore

AGENTS = 100
PAYLOAD: dict[str, object] = {"role": "assistant", "content": "x" * 900}
STORES = ("sysward-lmdb", "sqlite-wal-full", "jsonl-fsync")
READ_AGENTS = ["a11", "a42", "a73"]


def open_store(store: str, path: Path) -> EventStore | SqliteEventStore | JsonlEventStore:
    if store == "sysward-lmdb":
        return EventStore(path)
    return SqliteEventStore(path) if store == "sqlite-wal-full" else JsonlEventStore(path)


async def open_log(store: str, path: Path) -> EventLog:
    """The same EventLog (validation, encoding, chain, group commit) over each store."""
    backend = await asyncio.to_thread(open_store, store, path)
    return EventLog(backend, asyncio.get_running_loop())  # type: ignore[arg-type]


def event(agent: str) -> NewEvent:
    return NewEvent(
        topic="agent.message",
        type="message",
        agent=agent,
        source="bench",
        data=PAYLOAD,  # type: ignore[arg-type]
    )


async def throughput(root: Path, store: str, writers: int, per_writer: int) -> float:
    log = await open_log(store, root / f"tput{writers}-{store}")

    async def writer(index: int) -> None:
        for _ in range(per_writer):
            await log.append(event(f"a{index % AGENTS}"))

    start = time.perf_counter()
    async with asyncio.TaskGroup() as group:
        for index in range(writers):
            group.create_task(writer(index))
    elapsed = time.perf_counter() - start
    await log.close()
    return writers * per_writer / elapsed


async def latency(root: Path, store: str, count: int) -> tuple[float, float]:
    log = await open_log(store, root / f"latency-{store}")
    samples = []
    for index in range(count):
        start = time.perf_counter()
        await log.append(event(f"a{index % AGENTS}"))
        samples.append(time.perf_counter() - start)
    await log.close()
    samples.sort()
    return samples[len(samples) // 2] * 1000, samples[int(len(samples) * 0.99)] * 1000


async def build_large(root: Path, store: str, events: int) -> Path:
    path = root / f"large-{store}"
    log = await open_log(store, path)
    for start in range(0, events, 1000):
        await log.append_many(
            [event(f"a{seq % AGENTS}") for seq in range(start, min(start + 1000, events))]
        )
    await log.close()
    return path


async def read_agent(store: str, path: Path, agents: list[str], *, reopen: bool) -> float:
    """Median ms to read one agent's records, as stored (a different agent each time).

    Records come back as stored bytes (the wire JSON), decoded by none. `reopen`
    opens the store afresh for every read (a new mmap for LMDB, a new connection
    for SQLite); otherwise one open store serves every read, as in the daemon.
    """
    samples = []
    shared = None if reopen else await asyncio.to_thread(open_store, store, path)
    for agent in agents:
        start = time.perf_counter()
        backend = shared or await asyncio.to_thread(open_store, store, path)
        page = await asyncio.to_thread(backend.query_raw, EventQuery(agent=agent, limit=10_000))
        samples.append(time.perf_counter() - start)
        assert page.records, f"{store}: found no events for {agent}"
        if backend is not shared:
            backend.close()
    if shared is not None:
        shared.close()
    return statistics.median(samples) * 1000


async def cold_open(store: str, path: Path) -> float:
    """Median ms from nothing to a log ready to append (its tail and chain head known)."""
    samples = []
    for _ in range(5):
        start = time.perf_counter()
        log = await open_log(store, path)
        _ = log.last_seq, log.head
        samples.append(time.perf_counter() - start)
        await log.close()
    return statistics.median(samples) * 1000


def fsync_latency_ms(root: Path, count: int = 500) -> float:
    """p50 of one 1 KiB append + fsync on this filesystem: the physical floor."""
    import os

    fd = os.open(root / "fsync-probe", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    samples = []
    for _ in range(count):
        start = time.perf_counter()
        os.write(fd, b"x" * 1024)
        os.fsync(fd)
        samples.append(time.perf_counter() - start)
    os.close(fd)
    return statistics.median(samples) * 1000


async def run(args: argparse.Namespace) -> dict[str, dict[str, float]]:
    root = Path(tempfile.mkdtemp(prefix="sysward-bench-", dir=args.dir))
    rows: dict[str, dict[str, float]] = {}
    try:
        rows["one fsync p50 (ms)"] = {"fsync": fsync_latency_ms(root)}
        for writers, per_writer in ((1, 2000), (16, 500), (256, 200)):
            rows[f"appends/s, {writers} writers"] = {
                store: await throughput(root, store, writers, per_writer) for store in STORES
            }
        lat = {store: await latency(root, store, 2000) for store in STORES}
        rows["single append p50 (ms)"] = {store: lat[store][0] for store in STORES}
        rows["single append p99 (ms)"] = {store: lat[store][1] for store in STORES}
        large = {store: await build_large(root, store, args.events) for store in STORES}
        per_agent = args.events // AGENTS
        for reopen, how in ((False, "store open"), (True, "fresh open each read")):
            label = f"read one agent's {per_agent:,} of {args.events:,}, {how} (ms)"
            rows[label] = {
                store: await read_agent(store, large[store], READ_AGENTS, reopen=reopen)
                for store in STORES
            }
        rows[f"cold open, {args.events:,} events (ms)"] = {
            store: await cold_open(store, large[store]) for store in STORES
        }
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return rows


def render(rows: dict[str, dict[str, float]]) -> str:
    lines = [
        "| row | sysward LMDB | SQLite WAL FULL | JSONL+fsync | vs SQLite | vs JSONL |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for label, values in rows.items():
        if "fsync" in values:
            lines.append(f"| {label} | | | {values['fsync']:.3f} | | |")
            continue
        ours, sqlite, jsonl = (values[store] for store in STORES)
        higher_is_better = label.startswith("appends/s")
        fmt = "{:,.0f}" if higher_is_better else "{:.3f}"

        def ratio(other: float, ours: float = ours, higher: bool = higher_is_better) -> str:
            return f"{(ours / other if higher else other / ours):.2f}x"

        cells = " | ".join(fmt.format(v) for v in (ours, sqlite, jsonl))
        lines.append(f"| {label} | {cells} | {ratio(sqlite)} | {ratio(jsonl)} |")
    lines.append("")
    lines.append("Ratios: how many times better sysward's log is (above 1.00x = ahead).")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=1_000_000, help="size of the large log")
    parser.add_argument("--dir", default=None, help="scratch directory (default: $TMPDIR)")
    parser.add_argument("--json", action="store_true", help="print the raw numbers as JSON")
    args = parser.parse_args()
    rows = asyncio.run(run(args))
    print(json.dumps(rows, indent=2) if args.json else render(rows))


if __name__ == "__main__":
    main()
