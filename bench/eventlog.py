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
from collections.abc import Awaitable, Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from baselines import GroupCommitLog, JsonlStorage, Record, SqliteStorage, encode
from sysward.events.log import EventLog
from sysward.events.query import EventQuery
from sysward.events.record import NewEvent

AGENTS = 100
PAYLOAD: dict[str, object] = {"role": "assistant", "content": "x" * 900}
STORES = ("sysward-lmdb", "sqlite-wal-full", "jsonl-fsync")
READ_AGENTS = ["a11", "a42", "a73"]

Append = Callable[[str, dict[str, object]], Awaitable[object]]


class Bench:
    """Opens each store in a scratch directory and runs the same work on it."""

    def __init__(self, root: Path) -> None:
        self.root = root

    async def open(self, store: str, name: str) -> tuple[Append, Callable[[], Awaitable[None]]]:
        path = self.root / f"{name}-{store}"
        if store == "sysward-lmdb":
            log = await EventLog.open(path)

            async def append_lmdb(agent: str, payload: dict[str, object]) -> object:
                draft = NewEvent(
                    topic="agent.message", type="message", agent=agent, source="bench", data=payload
                )  # type: ignore[arg-type]
                return await log.append(draft)

            return append_lmdb, log.close
        storage = SqliteStorage(path) if store == "sqlite-wal-full" else JsonlStorage(path)
        group = GroupCommitLog(storage, asyncio.get_running_loop())

        async def close() -> None:
            await asyncio.to_thread(group.close)

        return group.append, close


async def throughput(bench: Bench, store: str, writers: int, per_writer: int) -> float:
    append, close = await bench.open(store, f"tput{writers}")

    async def writer(index: int) -> None:
        for _ in range(per_writer):
            await append(f"a{index % AGENTS}", PAYLOAD)

    start = time.perf_counter()
    async with asyncio.TaskGroup() as group:
        for index in range(writers):
            group.create_task(writer(index))
    elapsed = time.perf_counter() - start
    await close()
    return writers * per_writer / elapsed


async def latency(bench: Bench, store: str, count: int) -> tuple[float, float]:
    append, close = await bench.open(store, "latency")
    samples = []
    for index in range(count):
        start = time.perf_counter()
        await append(f"a{index % AGENTS}", PAYLOAD)
        samples.append(time.perf_counter() - start)
    await close()
    samples.sort()
    return samples[len(samples) // 2] * 1000, samples[int(len(samples) * 0.99)] * 1000


async def build_large(bench: Bench, store: str, events: int) -> Path:
    path = bench.root / f"large-{store}"
    if store == "sysward-lmdb":
        log = await EventLog.open(path)
        for start in range(0, events, 1000):
            drafts = [
                NewEvent(
                    topic="agent.message",
                    type="message",
                    agent=f"a{seq % AGENTS}",
                    source="bench",
                    data=PAYLOAD,  # type: ignore[arg-type]
                )
                for seq in range(start, min(start + 1000, events))
            ]
            await log.append_many(drafts)
        await log.close()
        return path
    storage = SqliteStorage(path) if store == "sqlite-wal-full" else JsonlStorage(path)
    prev = "0" * 64
    for start in range(1, events + 1, 1000):
        records = []
        for seq in range(start, min(start + 1000, events + 1)):
            raw = encode(seq, f"a{seq % AGENTS}", prev, PAYLOAD)
            records.append(Record(seq, f"a{seq % AGENTS}", raw))
        storage.write(records)
    storage.close()
    return path


async def read_agent(store: str, path: Path, agents: list[str], *, reopen: bool) -> float:
    """Median ms to read one agent's stored records (a different agent each time).

    Records come back as stored (the wire JSON), without decoding, for all three.
    `reopen` opens the store afresh for every read (a new mmap for LMDB, a new
    connection for SQLite); otherwise one open store serves every read, as in
    the daemon.
    """
    samples = []
    opened = None if reopen else await _open_reader(store, path)
    for agent in agents:
        start = time.perf_counter()
        reader = opened or await _open_reader(store, path)
        found = await _read_one_agent(store, reader, agent)
        samples.append(time.perf_counter() - start)
        assert found > 0, f"{store}: found no events for {agent}"
        if reader is not opened:
            await _close_reader(store, reader)
    if opened is not None:
        await _close_reader(store, opened)
    return statistics.median(samples) * 1000


async def _open_reader(store: str, path: Path) -> object:
    if store == "sysward-lmdb":
        return await EventLog.open(path, readonly=True)
    return SqliteStorage(path) if store == "sqlite-wal-full" else JsonlStorage(path)


async def _read_one_agent(store: str, reader: object, agent: str) -> int:
    if isinstance(reader, EventLog):
        return len((await reader.query_raw(EventQuery(agent=agent, limit=10_000))).records)
    assert isinstance(reader, SqliteStorage | JsonlStorage)
    return len(reader.read_agent(agent))


async def _close_reader(store: str, reader: object) -> None:
    if isinstance(reader, EventLog):
        await reader.close()
    elif isinstance(reader, SqliteStorage | JsonlStorage):
        reader.close()


async def cold_open(store: str, path: Path) -> float:
    """Median ms from nothing to knowing the tail (last seq and chain head)."""
    samples = []
    for _ in range(5):
        start = time.perf_counter()
        if store == "sysward-lmdb":
            log = await EventLog.open(path)
            _ = log.last_seq, log.head
            samples.append(time.perf_counter() - start)
            await log.close()
            continue
        storage = SqliteStorage(path) if store == "sqlite-wal-full" else JsonlStorage(path)
        storage.tail()
        samples.append(time.perf_counter() - start)
        storage.close()
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
    bench, rows = Bench(root), {}
    try:
        rows["one fsync p50 (ms)"] = {"fsync": fsync_latency_ms(root)}
        for writers, per_writer in ((1, 2000), (16, 500), (256, 200)):
            rows[f"appends/s, {writers} writers"] = {
                store: await throughput(bench, store, writers, per_writer) for store in STORES
            }
        lat = {store: await latency(bench, store, 2000) for store in STORES}
        rows["single append p50 (ms)"] = {store: lat[store][0] for store in STORES}
        rows["single append p99 (ms)"] = {store: lat[store][1] for store in STORES}
        large = {store: await build_large(bench, store, args.events) for store in STORES}
        per_agent = args.events // AGENTS
        for reopen, how in ((False, "store open"), (True, "fresh open each read")):
            label = f"read one agent's {per_agent:,} of {args.events:,}, {how} (ms)"
            rows[label] = {
                store: await read_agent(store, large[store], READ_AGENTS, reopen=reopen)
                for store in STORES
            }
        rows[f"cold open, {args.events} events (ms)"] = {
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
