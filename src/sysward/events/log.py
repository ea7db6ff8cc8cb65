"""The durable, append-only event log: async appends with group commit over LMDB.

One writer thread takes whatever appends are waiting, commits them as one
synced LMDB transaction and only then resolves their futures and tells the
listeners (the bus) on the event loop, in seq order. `append()` returning
means the event is on disk.
"""

from __future__ import annotations

import asyncio
import json
import logging
import queue
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import JsonValue

from sysward.events import topics
from sysward.events.chain import ChainReport, verify_chain
from sysward.events.context import EventContext, current_context
from sysward.events.query import MAX_QUERY_LIMIT, EventPage, EventQuery
from sysward.events.record import Event, NewEvent, PreparedEvent, encode_data
from sysward.events.scan import AgentOutline, RawPage, RawRecord
from sysward.events.signing import KeyRing
from sysward.events.store import EventLogError, EventStore

# Upper bound on events per transaction: keeps one commit's latency bounded.
MAX_BATCH_EVENTS = 4096

_log = logging.getLogger(__name__)

Listener = Callable[[Sequence[Event]], None]
# Rewrites an event's data before it is stored (secret redaction), returning how
# many values it replaced. Defined here so the log needs nothing of sysward.policy.
Scrub = Callable[[dict[str, JsonValue]], tuple[dict[str, JsonValue], int]]
# Checks the encoded data last (known secret values, raw or escaped), returning the
# bytes to store and how many values it had to replace: a scrub that missed one.
Guard = Callable[[bytes], tuple[bytes, int]]


@dataclass(slots=True)
class _PendingAppend:
    drafts: list[PreparedEvent]
    future: asyncio.Future[list[Event]]


@dataclass(slots=True)
class _Writer:
    """The single thread that commits batches; owned and joined by EventLog."""

    store: EventStore
    loop: asyncio.AbstractEventLoop
    on_commit: Callable[[list[_PendingAppend], list[Event]], None]
    inbox: queue.SimpleQueue[_PendingAppend | None] = field(default_factory=queue.SimpleQueue)
    thread: threading.Thread | None = None

    def start(self) -> None:
        self.thread = threading.Thread(target=self._run, name="sysward-eventlog-writer")
        self.thread.daemon = True
        self.thread.start()

    def _run(self) -> None:
        while (batch := self._take_batch()) is not None:
            self._commit(batch)

    def _take_batch(self) -> list[_PendingAppend] | None:
        first = self.inbox.get()
        if first is None:
            return None
        batch, count = [first], len(first.drafts)
        while count < MAX_BATCH_EVENTS:
            try:
                item = self.inbox.get_nowait()
            except queue.Empty:
                break
            if item is None:
                # Close requested: commit what we have, then stop on the next take.
                self.inbox.put(None)
                break
            batch.append(item)
            count += len(item.drafts)
        return batch

    def _commit(self, batch: list[_PendingAppend]) -> None:
        drafts = [draft for pending in batch for draft in pending.drafts]
        try:
            committed = self.store.append_batch(drafts)
        except EventLogError as exc:
            self.loop.call_soon_threadsafe(_fail_all, batch, exc)
        except Exception as exc:
            error = EventLogError(f"append failed, nothing was written: {exc!r}")
            self.loop.call_soon_threadsafe(_fail_all, batch, error)
        else:
            self.loop.call_soon_threadsafe(self.on_commit, batch, committed)


def _fail_all(batch: list[_PendingAppend], exc: EventLogError) -> None:
    for pending in batch:
        if not pending.future.done():
            pending.future.set_exception(exc)


class EventLog:
    """Append events durably, read them back, and notify listeners of commits."""

    def __init__(
        self,
        store: EventStore,
        loop: asyncio.AbstractEventLoop,
        scrub: Scrub | None = None,
        guard: Guard | None = None,
    ) -> None:
        self._store = store
        self._scrub = scrub
        self._guard = guard
        self._listeners: list[Listener] = []
        self._closed = False
        self._writer: _Writer | None = None
        if not store.readonly:
            self._writer = _Writer(store, loop, self._deliver)
            self._writer.start()

    @classmethod
    async def open(
        cls,
        path: Path,
        *,
        readonly: bool = False,
        scrub: Scrub | None = None,
        guard: Guard | None = None,
    ) -> EventLog:
        """Open (creating unless `readonly`) the log in directory `path`.

        `scrub` rewrites every appended event's data first; what it replaced is
        counted in the event's `context.redacted`.
        """
        store = await asyncio.to_thread(EventStore, path, readonly=readonly)
        return cls(store, asyncio.get_running_loop(), scrub, guard)

    @property
    def path(self) -> Path:
        return self._store.path

    @property
    def last_seq(self) -> int:
        """The seq of the newest committed event this process knows of (0 when empty)."""
        return self._store.last_seq

    @property
    def head(self) -> str:
        """The hash of the newest committed record: the chain's head."""
        return self._store.head

    async def append(self, event: NewEvent) -> Event:
        """Append one event; returns once it is durable on disk."""
        return (await self.append_many([event]))[0]

    async def append_many(self, events: Sequence[NewEvent]) -> list[Event]:
        """Append events atomically, with consecutive seqs; returns once durable."""
        if self._writer is None or self._closed:
            raise EventLogError(f"{self.path}: the log is closed or read-only; cannot append")
        ambient = current_context()
        drafts = [self._prepare(draft, ambient) for draft in events]
        future: asyncio.Future[list[Event]] = asyncio.get_running_loop().create_future()
        self._writer.inbox.put(_PendingAppend(drafts, future))
        # A caller cancelled here cancels only its wait: the batch still commits
        # whole, and _deliver skips the cancelled future.
        return await future

    def _prepare(self, draft: NewEvent, ambient: EventContext) -> PreparedEvent:
        # On the caller's task, like the encoding: the writer thread stays lean.
        context = ambient.merged(draft.context) if draft.context else ambient
        # A checkpoint holds only hashes and a signature the log itself made; a
        # false positive there would make verification fail, so it is not scrubbed.
        if draft.topic == topics.LOG_CHECKPOINT:
            return PreparedEvent(draft, context, encode_data(draft.data))
        redacted = 0
        if self._scrub is not None:
            data, redacted = self._scrub(draft.data)
            if redacted:
                draft = draft.model_copy(update={"data": data})
        encoded = encode_data(draft.data)
        if self._guard is not None:
            encoded, refused = self._guard(encoded)
            if refused:
                draft = draft.model_copy(update={"data": _decoded_data(encoded)})
                encoded = encode_data(draft.data)  # the stored bytes are the data's own
                redacted += refused
        if redacted:
            context = context.model_copy(update={"redacted": redacted})
        return PreparedEvent(draft, context, encoded)

    def add_listener(self, listener: Listener) -> Callable[[], None]:
        """Call `listener` on the event loop with each committed batch, in seq order."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    def _deliver(self, batch: list[_PendingAppend], committed: list[Event]) -> None:
        for listener in list(self._listeners):
            try:
                listener(committed)
            except Exception:  # a broken listener must not leave appenders hanging
                _log.exception("event log listener %r failed", listener)
        offset = 0
        for pending in batch:
            count = len(pending.drafts)
            if not pending.future.done():
                pending.future.set_result(committed[offset : offset + count])
            offset += count

    async def query(self, query: EventQuery) -> EventPage:
        """Matching events, decoded."""
        return (await self.query_raw(query)).decode()

    async def query_raw(self, query: EventQuery) -> RawPage:
        """Matching events as their stored bytes (already the wire JSON): no decode."""
        if self._store.readonly:
            await asyncio.to_thread(self._store.refresh)
        return await asyncio.to_thread(self._store.query_raw, query)

    async def query_all_raw(self, query: EventQuery) -> list[RawRecord]:
        """Every record matching `query` from its `after_seq` on, read page by page
        (its `limit` is the page size, not a bound on the answer)."""
        records: list[RawRecord] = []
        page_query = query.model_copy(update={"limit": MAX_QUERY_LIMIT})
        while True:
            page = await self.query_raw(page_query)
            records += page.records
            if len(page.records) < MAX_QUERY_LIMIT:
                return records
            page_query = page_query.model_copy(update={"after_seq": page.scanned_seq})

    async def query_all(self, query: EventQuery) -> list[Event]:
        """Every event matching `query` from its `after_seq` on, decoded."""
        return [Event.decode(record.raw) for record in await self.query_all_raw(query)]

    async def get(self, seq: int) -> Event | None:
        return await asyncio.to_thread(self._store.get, seq)

    async def agent_outline(self, agent: str) -> tuple[AgentOutline, int]:
        """Which of an agent's events its recovery must decode (from the index alone),
        and the last seq of the log when they were read."""
        return await asyncio.to_thread(self._store.agent_outline, agent)

    async def all_outlines(self) -> tuple[dict[str, AgentOutline], int]:
        """`agent_outline` of every agent with events, from one walk of the index."""
        return await asyncio.to_thread(self._store.all_outlines)

    async def fetch(self, seqs: list[int]) -> list[Event]:
        """The events of these seqs (as an `AgentOutline` names them), decoded."""
        if not seqs:
            return []
        records = await asyncio.to_thread(self._store.fetch, seqs)
        return [Event.decode(record.raw) for record in records]

    async def verify(self, keys: KeyRing | None = None) -> ChainReport:
        """Walk the hash chain and check checkpoints with `keys`; the first broken seq, if any."""
        return await asyncio.to_thread(verify_chain, self._store, keys)

    async def recorded_head(self) -> tuple[int, str] | None:
        """The last committed (seq, hash) as one consistent pair, read from disk."""
        return await asyncio.to_thread(self._store.recorded_head)

    async def close(self) -> None:
        """Commit what is queued, stop the writer and close the environment."""
        if self._closed:
            return
        self._closed = True
        if self._writer is not None and self._writer.thread is not None:
            self._writer.inbox.put(None)
            await asyncio.to_thread(self._writer.thread.join)
        # Let the writer's last call_soon_threadsafe deliveries run first.
        await asyncio.sleep(0)
        await asyncio.to_thread(self._store.close)


def _decoded_data(encoded: bytes) -> dict[str, JsonValue]:
    """Data the guard rewrote; when the rewrite broke its JSON, nothing of it is kept."""
    try:
        data = json.loads(encoded)
    except ValueError:
        data = None
    return data if isinstance(data, dict) else {"unverified": "[REDACTED:unverified]"}
