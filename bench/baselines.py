"""Baselines for the event-log benchmark: the same work on SQLite WAL and JSON lines.

Both baselines get the same advantages as sysward's log: one writer thread that
batches whatever appends are waiting into one durable commit (group commit),
the same encoded records and the same SHA-256 chain. Only the storage differs.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import queue
import sqlite3
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

GENESIS = "0" * 64


@dataclass(slots=True)
class Record:
    seq: int
    agent: str
    raw: bytes


class Storage(Protocol):
    def write(self, records: Sequence[Record]) -> None: ...
    def read_agent(self, agent: str) -> list[bytes]: ...
    def tail(self) -> tuple[int, str]: ...
    def close(self) -> None: ...


def encode(seq: int, agent: str, prev: str, payload: dict[str, object]) -> bytes:
    body = {"seq": seq, "topic": "agent.message", "agent": agent, "data": payload, "prev": prev}
    return json.dumps(body, separators=(",", ":")).encode()


class GroupCommitLog:
    """Async appends over a Storage through one batching writer thread."""

    def __init__(self, storage: Storage, loop: asyncio.AbstractEventLoop) -> None:
        self.storage = storage
        self._loop = loop
        self._inbox: queue.SimpleQueue[tuple[str, dict[str, object], asyncio.Future[int]] | None]
        self._inbox = queue.SimpleQueue()
        self._seq, self._prev = storage.tail()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    async def append(self, agent: str, payload: dict[str, object]) -> int:
        future: asyncio.Future[int] = self._loop.create_future()
        self._inbox.put((agent, payload, future))
        return await future

    def _run(self) -> None:
        while (first := self._inbox.get()) is not None:
            batch = [first]
            while len(batch) < 4096:
                try:
                    item = self._inbox.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    self._inbox.put(None)
                    break
                batch.append(item)
            records = []
            for agent, payload, _ in batch:
                self._seq += 1
                raw = encode(self._seq, agent, self._prev, payload)
                self._prev = hashlib.sha256(raw).hexdigest()
                records.append(Record(self._seq, agent, raw))
            self.storage.write(records)
            futures = [
                (future, record.seq) for (_, _, future), record in zip(batch, records, strict=True)
            ]
            self._loop.call_soon_threadsafe(_resolve, futures)

    def close(self) -> None:
        self._inbox.put(None)
        self._thread.join()
        self.storage.close()


def _resolve(futures: list[tuple[asyncio.Future[int], int]]) -> None:
    for future, seq in futures:
        if not future.done():
            future.set_result(seq)


class SqliteStorage:
    """A plain table in WAL mode with synchronous=FULL and an index on agent."""

    def __init__(self, path: Path) -> None:
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS events (seq INTEGER PRIMARY KEY, agent TEXT, raw BLOB)"
        )
        self._db.execute("CREATE INDEX IF NOT EXISTS by_agent ON events (agent, seq)")

    def write(self, records: Sequence[Record]) -> None:
        self._db.execute("BEGIN")
        self._db.executemany(
            "INSERT INTO events VALUES (?, ?, ?)", [(r.seq, r.agent, r.raw) for r in records]
        )
        self._db.execute("COMMIT")

    def read_agent(self, agent: str) -> list[bytes]:
        rows = self._db.execute("SELECT raw FROM events WHERE agent = ? ORDER BY seq", (agent,))
        return [row[0] for row in rows]

    def tail(self) -> tuple[int, str]:
        row = self._db.execute("SELECT seq, raw FROM events ORDER BY seq DESC LIMIT 1").fetchone()
        return (0, GENESIS) if row is None else (row[0], hashlib.sha256(row[1]).hexdigest())

    def close(self) -> None:
        self._db.close()


class JsonlStorage:
    """One JSON line per event, appended and fsynced per batch; no index."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)

    def write(self, records: Sequence[Record]) -> None:
        os.write(self._fd, b"".join(record.raw + b"\n" for record in records))
        os.fsync(self._fd)

    def read_agent(self, agent: str) -> list[bytes]:
        # No index: finding one agent's events means reading every line.
        needle = f'"agent":"{agent}"'.encode()
        with self._path.open("rb") as lines:
            return [line for line in lines if needle in line]

    def tail(self) -> tuple[int, str]:
        size = self._path.stat().st_size
        if size == 0:
            return 0, GENESIS
        with self._path.open("rb") as handle:
            handle.seek(max(0, size - 65536))
            last = handle.read().rstrip(b"\n").rsplit(b"\n", 1)[-1]
        return json.loads(last)["seq"], hashlib.sha256(last).hexdigest()

    def close(self) -> None:
        os.close(self._fd)
