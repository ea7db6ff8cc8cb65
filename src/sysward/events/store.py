"""The LMDB environment behind the event log: layout, schema, batched writes, reads.

Synchronous by design: every method here blocks, and the async EventLog runs
them off the event loop (one writer thread, reads via `asyncio.to_thread`).

Layout (named databases):
  events    u64 big-endian seq -> encoded Event (the exact bytes the chain hashes)
  by_agent  agent + NUL + u64 seq -> topic NUL type NUL turn  (one agent's events in
            O(its events), filtered by topic, type and turn without decoding records)
  meta      b"schema_version" -> ascii int; b"head" -> b"<last seq>:<hex hash of it>"
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import NamedTuple

import lmdb

from sysward.errors import SyswardError
from sysward.events.query import EventPage, EventQuery
from sysward.events.record import (
    GENESIS_PREV,
    Event,
    PreparedEvent,
    encode_context,
    encode_record,
    format_ts,
    record_hash,
)
from sysward.events.scan import (
    SEQ,
    AgentOutline,
    LogDatabases,
    RawPage,
    RawRecord,
    agent_key,
    agent_outline,
    all_outlines,
    fetch,
    index_value,
    scan,
    seq_key,
)

SCHEMA_VERSION = 1
INITIAL_MAP_SIZE_BYTES = 64 * 1024 * 1024
MAX_NAMED_DBS = 8

_SCHEMA_KEY = b"schema_version"
HEAD_KEY = b"head"


class EventLogError(SyswardError):
    """The event log cannot be opened or written."""


class SchemaVersionError(EventLogError):
    """The log on disk was written by a newer sysward."""


class EventLogFullError(EventLogError):
    """The disk (or the file size limit) has no room for more events."""


class ResizeGate:
    """Readers share the environment; growing the map needs it to themselves.

    py-lmdb requires no live transaction in this process while `set_mapsize`
    runs, so reads hold the gate shared and a resize holds it exclusively.
    """

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._readers = 0
        self._resizing = False

    @contextmanager
    def shared(self) -> Iterator[None]:
        with self._cond:
            self._cond.wait_for(lambda: not self._resizing)
            self._readers += 1
        try:
            yield
        finally:
            with self._cond:
                self._readers -= 1
                self._cond.notify_all()

    @contextmanager
    def exclusive(self) -> Iterator[None]:
        with self._cond:
            self._cond.wait_for(lambda: not self._resizing)
            self._resizing = True
            self._cond.wait_for(lambda: self._readers == 0)
        try:
            yield
        finally:
            with self._cond:
                self._resizing = False
                self._cond.notify_all()


class ChainSnapshot(NamedTuple):
    """What chain verification reads, all from one read transaction."""

    records: Iterator[tuple[int, bytes]]
    recorded_head: tuple[int, str] | None
    read_record: Callable[[int], bytes | None]


class EventStore:
    """One LMDB environment holding the log. Writes must come from one thread."""

    def __init__(self, path: Path, *, readonly: bool = False) -> None:
        self.path = path
        self.readonly = readonly
        self._gate = ResizeGate()
        self._env = _open_env(path, readonly=readonly)
        try:
            self._open_databases()
            self._check_schema()
            self.last_seq, self.head = self._read_tail()
            self._last_ts = self._read_last_ts()
        except BaseException:
            # A refused open must not keep the environment (and its locks) open:
            # LMDB allows one handle per environment in a process.
            self._env.close()
            raise

    def _open_databases(self) -> None:
        create = not self.readonly
        try:
            self._events = self._env.open_db(b"events", create=create)
            self._by_agent = self._env.open_db(b"by_agent", create=create)
            self._meta = self._env.open_db(b"meta", create=create)
        except lmdb.NotFoundError:
            raise EventLogError(
                f"{self.path}: not an event log (its databases are missing)"
            ) from None
        self._dbs = LogDatabases(self._events, self._by_agent)

    def close(self) -> None:
        self._env.close()

    # -- schema -------------------------------------------------------------

    def _check_schema(self) -> None:
        with self._read_txn() as txn:
            raw = txn.get(_SCHEMA_KEY, db=self._meta)
        if raw is None:
            if self.readonly:
                raise EventLogError(f"{self.path}: log has no schema version (not initialised)")
            with self._env.begin(write=True) as txn:
                txn.put(_SCHEMA_KEY, str(SCHEMA_VERSION).encode(), db=self._meta)
            return
        try:
            version = int(raw)
        except ValueError:
            raise EventLogError(
                f"{self.path}: unreadable schema version {bytes(raw)[:20]!r}; not an event log"
            ) from None
        if version > SCHEMA_VERSION:
            raise SchemaVersionError(
                f"{self.path}: log schema version {version} is newer than this sysward "
                f"understands ({SCHEMA_VERSION}); upgrade sysward instead of opening it"
            )

    def _read_tail(self) -> tuple[int, str]:
        with self._read_txn() as txn, txn.cursor(db=self._events) as cursor:
            if not cursor.last():
                return 0, GENESIS_PREV
            return SEQ.unpack(cursor.key())[0], record_hash(cursor.value())

    def _read_last_ts(self) -> datetime:
        if self.last_seq == 0:
            return datetime.min.replace(tzinfo=UTC)
        event = self.get(self.last_seq)
        assert event is not None
        return event.ts

    # -- writes -------------------------------------------------------------

    def append_batch(self, drafts: Sequence[PreparedEvent]) -> list[Event]:
        """Commit drafts as one synced transaction; on error nothing is written.

        Seq, ts and prev are assigned here, in commit order, so seq is gap-free.
        """
        while True:
            try:
                return self._try_append(drafts)
            except lmdb.MapFullError:
                self._grow()
            except lmdb.Error as exc:
                raise _write_error(self.path, exc) from None

    def _try_append(self, drafts: Sequence[PreparedEvent]) -> list[Event]:
        seq, prev = self.last_seq, self.head
        # Monotonic timestamps let time-range queries binary-search by seq.
        ts = max(datetime.now(UTC), self._last_ts)
        ts_text = format_ts(ts)
        contexts: dict[int, bytes] = {}
        committed: list[Event] = []
        records: list[tuple[bytes, bytes]] = []
        index: list[tuple[bytes, bytes]] = []
        for draft, context, data_json in drafts:
            seq += 1
            # Most of a batch shares the ambient context: dump each one once.
            context_json = contexts.get(id(context))
            if context_json is None:
                context_json = contexts[id(context)] = encode_context(context)
            raw = encode_record(seq, ts_text, draft, context_json, data_json, prev)
            records.append((seq_key(seq), raw))
            if draft.agent is not None:
                index.append((agent_key(draft.agent, seq), index_value(draft)))
            committed.append(Event.committed(draft, seq=seq, ts=ts, prev=prev, context=context))
            prev = record_hash(raw)
        with self._gate.shared(), self._env.begin(write=True) as txn:
            # One call per database instead of one per record: the writer thread
            # is the log's bottleneck under many writers.
            with txn.cursor(db=self._events) as cursor:
                _, added = cursor.putmulti(records, append=True)
            if added != len(records):
                # A seq already taken: the store's last seq is stale. Abort, write nothing.
                raise EventLogError(
                    f"{self.path}: seqs from {self.last_seq + 1} already exist, nothing was "
                    "written; is another process writing this log?"
                )
            if index:
                with txn.cursor(db=self._by_agent) as cursor:
                    cursor.putmulti(index)
            # The recorded head lets verification notice a truncated or altered tail.
            txn.put(HEAD_KEY, f"{seq}:{prev}".encode(), db=self._meta)
        self.last_seq, self.head, self._last_ts = seq, prev, ts
        return committed

    def _grow(self) -> None:
        with self._gate.exclusive():
            size = self._env.info()["map_size"]
            self._env.set_mapsize(size * 2)

    # -- reads --------------------------------------------------------------

    @contextmanager
    def _read_txn(self) -> Iterator[lmdb.Transaction]:
        while True:
            with self._gate.shared():
                try:
                    txn = self._env.begin()
                except lmdb.MapResizedError:
                    pass  # another process grew the map; adopt its size below
                else:
                    with txn:
                        yield txn
                    return
            # set_mapsize needs no live transaction in this process: take the gate alone.
            with self._gate.exclusive():
                self._env.set_mapsize(0)

    def refresh(self) -> None:
        """For a read-only opener: pick up what the writer committed since."""
        self.last_seq, self.head = self._read_tail()

    def recorded_head(self) -> tuple[int, str] | None:
        """The (seq, hash) the last commit wrote into meta, if any."""
        with self._read_txn() as txn:
            return _parse_recorded_head(txn.get(HEAD_KEY, db=self._meta))

    def get(self, seq: int) -> Event | None:
        raw = self.get_raw(seq)
        return Event.decode(raw) if raw is not None else None

    def get_raw(self, seq: int) -> bytes | None:
        with self._read_txn() as txn:
            raw = txn.get(seq_key(seq), db=self._events)
            return bytes(raw) if raw is not None else None

    def iter_raw(self, after_seq: int = 0) -> Iterator[tuple[int, bytes]]:
        """Every record after a seq, in order, as (seq, stored bytes)."""
        with self._read_txn() as txn, txn.cursor(db=self._events) as cursor:
            yield from _records_after(cursor, after_seq)

    @contextmanager
    def read_chain(self) -> Iterator[ChainSnapshot]:
        """Every record, the recorded head and random access, from one consistent snapshot."""
        with self._read_txn() as txn, txn.cursor(db=self._events) as cursor:

            def read_record(seq: int) -> bytes | None:
                raw = txn.get(seq_key(seq), db=self._events)
                return bytes(raw) if raw is not None else None

            yield ChainSnapshot(
                _records_after(cursor, 0),
                _parse_recorded_head(txn.get(HEAD_KEY, db=self._meta)),
                read_record,
            )

    def query(self, query: EventQuery) -> EventPage:
        return self.query_raw(query).decode()

    def query_raw(self, query: EventQuery) -> RawPage:
        """Matching records as stored bytes: what the API streams, with no decode."""
        with self._read_txn() as txn:
            return scan(txn, self._dbs, query)

    def agent_outline(self, agent: str) -> tuple[AgentOutline, int]:
        """What one agent's recovery must read, and the last seq of that snapshot."""
        with self._read_txn() as txn:
            return agent_outline(txn, self._dbs, agent), _last_seq(txn, self._events)

    def all_outlines(self) -> tuple[dict[str, AgentOutline], int]:
        """Every agent's outline, and the last seq of that snapshot."""
        with self._read_txn() as txn:
            return all_outlines(txn, self._dbs), _last_seq(txn, self._events)

    def fetch(self, seqs: list[int]) -> list[RawRecord]:
        with self._read_txn() as txn:
            return fetch(txn, self._dbs, seqs)


def _records_after(cursor: lmdb.Cursor, after_seq: int) -> Iterator[tuple[int, bytes]]:
    if not cursor.set_range(seq_key(after_seq + 1)):
        return
    for key, value in cursor:
        yield SEQ.unpack(key)[0], bytes(value)


def _last_seq(txn: lmdb.Transaction, events: lmdb._Database) -> int:
    with txn.cursor(db=events) as cursor:
        return SEQ.unpack(cursor.key())[0] if cursor.last() else 0


def _parse_recorded_head(raw: bytes | memoryview | None) -> tuple[int, str] | None:
    if raw is None:
        return None
    seq, _, digest = bytes(raw).decode().partition(":")
    return int(seq), digest


def _open_env(path: Path, *, readonly: bool) -> lmdb.Environment:
    try:
        if not readonly:
            path.mkdir(parents=True, exist_ok=True, mode=0o700)
        return lmdb.open(
            str(path),
            map_size=INITIAL_MAP_SIZE_BYTES,
            max_dbs=MAX_NAMED_DBS,
            readonly=readonly,
            # sync + metasync: a commit returns only after data and meta pages are on disk.
            sync=True,
            metasync=True,
            # Reader slots are per thread by default; asyncio.to_thread pools reuse threads.
            max_readers=256,
        )
    except lmdb.Error as exc:
        action = "open for reading" if readonly else "open or create"
        raise EventLogError(f"{path}: cannot {action} the event log: {exc}") from None
    except OSError as exc:
        raise EventLogError(f"{path}: cannot create the event log directory: {exc}") from None


def _write_error(path: Path, exc: lmdb.Error) -> EventLogError:
    text = str(exc)
    if any(word in text for word in ("No space", "too large", "Disk quota")) or isinstance(
        exc, lmdb.DiskError
    ):
        return EventLogFullError(
            f"{path}: no room to append events ({text}); free disk space under "
            f"{path.parent}, nothing was written"
        )
    return EventLogError(f"{path}: append failed, nothing was written: {text}")
