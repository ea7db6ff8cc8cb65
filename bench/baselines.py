"""Baseline stores for the event-log benchmark: SQLite WAL and fsynced JSON lines.

Each implements the part of `sysward.events.store.EventStore` that `EventLog`
uses, so the benchmark runs all three behind the very same `EventLog`: the
same validation, encoding, hash chain, group-commit writer thread and futures.
Only the storage differs, which is what the comparison is about.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from sysward.events.query import EventQuery
from sysward.events.record import (
    GENESIS_PREV,
    Event,
    PreparedEvent,
    encode_context,
    encode_record,
    format_ts,
    record_hash,
)
from sysward.events.scan import RawPage, RawRecord


class _ChainedStore:
    """Seq, ts and prev assignment exactly as EventStore does it."""

    readonly = False

    def __init__(self, path: Path) -> None:
        self.path = path
        self.last_seq, self.head = 0, GENESIS_PREV

    def _encode(self, drafts: Sequence[PreparedEvent]) -> tuple[list[Event], list[bytes]]:
        ts = datetime.now(UTC)
        ts_text = format_ts(ts)
        seq, prev = self.last_seq, self.head
        events, raws = [], []
        for draft, context, data_json in drafts:
            seq += 1
            raw = encode_record(seq, ts_text, draft, encode_context(context), data_json, prev)
            events.append(Event.committed(draft, seq=seq, ts=ts, prev=prev, context=context))
            raws.append(raw)
            prev = record_hash(raw)
        return events, raws

    def _advance(self, events: list[Event], raws: list[bytes]) -> None:
        if events:
            self.last_seq, self.head = events[-1].seq, record_hash(raws[-1])

    def refresh(self) -> None:
        """Readers of these baselines always read the live file."""


class SqliteEventStore(_ChainedStore):
    """A plain table in WAL mode with synchronous=FULL and an index on (agent, seq)."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS events (seq INTEGER PRIMARY KEY, agent TEXT, raw BLOB)"
        )
        self._db.execute("CREATE INDEX IF NOT EXISTS by_agent ON events (agent, seq)")
        row = self._db.execute("SELECT seq, raw FROM events ORDER BY seq DESC LIMIT 1").fetchone()
        if row is not None:
            self.last_seq, self.head = row[0], record_hash(row[1])

    def append_batch(self, drafts: Sequence[PreparedEvent]) -> list[Event]:
        events, raws = self._encode(drafts)
        self._db.execute("BEGIN")
        self._db.executemany(
            "INSERT INTO events VALUES (?, ?, ?)",
            [(e.seq, e.agent, raw) for e, raw in zip(events, raws, strict=True)],
        )
        self._db.execute("COMMIT")
        self._advance(events, raws)
        return events

    def query_raw(self, query: EventQuery) -> RawPage:
        rows = self._db.execute(
            "SELECT seq, raw FROM events WHERE agent = ? AND seq > ? ORDER BY seq LIMIT ?",
            (query.agent, query.after_seq, query.limit),
        ).fetchall()
        records = [RawRecord(seq, raw) for seq, raw in rows]
        return RawPage(records, records[-1].seq if records else self.last_seq)

    def close(self) -> None:
        self._db.close()


class JsonlEventStore(_ChainedStore):
    """One JSON line per event, appended and fsynced per batch; no index."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self._fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o600)
        size = os.fstat(self._fd).st_size
        if size:
            last = os.pread(self._fd, min(size, 65536), max(0, size - 65536))
            line = last.rstrip(b"\n").rsplit(b"\n", 1)[-1]
            self.last_seq, self.head = json.loads(line)["seq"], record_hash(line)

    def append_batch(self, drafts: Sequence[PreparedEvent]) -> list[Event]:
        events, raws = self._encode(drafts)
        os.write(self._fd, b"".join(raw + b"\n" for raw in raws))
        os.fsync(self._fd)
        self._advance(events, raws)
        return events

    def query_raw(self, query: EventQuery) -> RawPage:
        # No index: finding one agent's events means reading every line.
        needle = f'"agent":"{query.agent}"'.encode()
        records = []
        with self.path.open("rb") as lines:
            for line in lines:
                if needle in line:
                    seq = int(line[7 : line.index(b",")])
                    records.append(RawRecord(seq, line.rstrip(b"\n")))
                    if len(records) >= query.limit:
                        break
        return RawPage(records, records[-1].seq if records else self.last_seq)

    def close(self) -> None:
        os.close(self._fd)
