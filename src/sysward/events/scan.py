"""Reading the log: seq and time bounds, the per-agent index, filters and limits.

Queries work on stored bytes. Topic, type, agent and turn are read from the
per-agent index value or from a record's header (record.parse_head), so a
query decodes no JSON; callers decode only the records they keep.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from datetime import datetime
from typing import NamedTuple, cast

import lmdb

from sysward.events import topics
from sysward.events.query import EventPage, EventQuery
from sysward.events.record import Event, NewEvent, RecordHead, format_ts, parse_head

SEQ = struct.Struct(">Q")


def seq_key(seq: int) -> bytes:
    return SEQ.pack(seq)


def agent_key(agent: str, seq: int) -> bytes:
    return agent.encode() + b"\x00" + SEQ.pack(seq)


def index_value(draft: NewEvent) -> bytes:
    """What the per-agent index keeps beside each key: topic, type and turn."""
    return f"{draft.topic}\x00{draft.type}\x00{draft.turn or ''}".encode()


class LogDatabases(NamedTuple):
    events: lmdb._Database
    by_agent: lmdb._Database


class RawRecord(NamedTuple):
    seq: int
    raw: bytes


@dataclass(frozen=True, slots=True)
class RawPage:
    """Matching records as stored, and how far the log was scanned (see EventPage)."""

    records: list[RawRecord]
    scanned_seq: int

    def decode(self) -> EventPage:
        events = [Event.decode(record.raw) for record in self.records]
        return EventPage(events=events, scanned_seq=self.scanned_seq)


def scan(txn: lmdb.Transaction, dbs: LogDatabases, query: EventQuery) -> RawPage:
    low, high = _seq_bounds(txn, dbs, query)
    if low > high:
        return RawPage([], max(high, low - 1))
    if query.agent is not None:
        seqs, scanned = _agent_seqs(txn, dbs, query, query.agent, low, high)
        return RawPage(fetch(txn, dbs, seqs), scanned)
    return _scan_all(txn, dbs, query, low, high)


def _agent_seqs(
    txn: lmdb.Transaction, dbs: LogDatabases, query: EventQuery, agent: str, low: int, high: int
) -> tuple[list[int], int]:
    """Walk one agent's index keys; filter on the index values only when asked to."""
    prefix = agent.encode() + b"\x00"
    offset, unpack = len(prefix), SEQ.unpack_from
    filtered = query.has_header_filters
    seqs: list[int] = []
    with txn.cursor(db=dbs.by_agent) as cursor:
        if not cursor.set_range(prefix + SEQ.pack(low)):
            return seqs, high
        for key_item in cursor.iternext(keys=True, values=False):
            key = cast(bytes, key_item)  # transactions here never use buffers=True
            if not key.startswith(prefix) or (seq := unpack(key, offset)[0]) > high:
                break
            if filtered and not _index_matches(query, cursor.value()):
                continue
            seqs.append(seq)
            if len(seqs) >= query.limit:
                return seqs, seq
    return seqs, high


def _index_matches(query: EventQuery, value: bytes | memoryview) -> bool:
    topic, type_, turn = bytes(value).decode().split("\x00")
    return query.matches_fields(topic, type_, query.agent, turn or None)


@dataclass(frozen=True, slots=True)
class AgentOutline:
    """What an agent's recovery must decode, found in the per-agent index alone."""

    message_seqs: list[int]  # its agent.message events: the conversation
    resume_seqs: list[int]  # every event of its unfinished turns, and its agent.error events
    lifecycle_seqs: list[int]  # its agent.created / agent.deleted events
    approval_seqs: list[int]  # its agent.approval_requested / agent.approval_decided events
    trigger_seqs: list[int] = field(default_factory=list)  # trigger.* events aimed at it


_MESSAGE = topics.AGENT_MESSAGE.encode()
_ERROR = topics.AGENT_ERROR.encode()
_COMPLETED = topics.AGENT_TURN_COMPLETED.encode()
_LIFECYCLE = (topics.AGENT_CREATED.encode(), topics.AGENT_DELETED.encode())
_APPROVAL = (topics.AGENT_APPROVAL_REQUESTED.encode(), topics.AGENT_APPROVAL_DECIDED.encode())
_TRIGGER = b"trigger."


class _OutlineBuilder:
    """Takes one agent's index entries in seq order. Bytes are compared, not decoded:
    at a million entries this walk is what a daemon's start costs."""

    def __init__(self) -> None:
        self.messages: list[int] = []
        self.errors: list[int] = []
        self.lifecycle: list[int] = []
        self.approvals: list[int] = []
        self.triggers: list[int] = []
        self.by_turn: dict[bytes, list[int]] = {}
        self.finished: set[bytes] = set()

    def add(self, seq: int, value: bytes) -> None:
        topic, _, rest = value.partition(b"\x00")
        turn = rest.partition(b"\x00")[2]
        if topic == _MESSAGE:
            self.messages.append(seq)
        elif topic == _ERROR:
            self.errors.append(seq)
        elif topic in _LIFECYCLE:
            self.lifecycle.append(seq)
        elif topic in _APPROVAL:
            self.approvals.append(seq)
        elif topic.startswith(_TRIGGER):
            self.triggers.append(seq)
        if turn:
            if topic == _COMPLETED:
                self.finished.add(turn)
            self.by_turn.setdefault(turn, []).append(seq)

    def outline(self) -> AgentOutline:
        resume = set(self.errors)
        for turn, seqs in self.by_turn.items():
            if turn not in self.finished:
                resume.update(seqs)
        return AgentOutline(
            self.messages, sorted(resume), self.lifecycle, self.approvals, self.triggers
        )


def agent_outline(txn: lmdb.Transaction, dbs: LogDatabases, agent: str) -> AgentOutline:
    """One agent's outline: a walk over its index keys and values; no record is read."""
    prefix = agent.encode() + b"\x00"
    offset, unpack = len(prefix), SEQ.unpack_from
    builder = _OutlineBuilder()
    with txn.cursor(db=dbs.by_agent) as cursor:
        if cursor.set_range(prefix):
            for key_item, value_item in cursor.iternext(keys=True, values=True):
                # Keys and values are bytes here (no buffers=True); cast for the type checker.
                key, value = cast(bytes, key_item), cast(bytes, value_item)
                if not key.startswith(prefix):
                    break
                builder.add(unpack(key, offset)[0], value)
    return builder.outline()


def all_outlines(txn: lmdb.Transaction, dbs: LogDatabases) -> dict[str, AgentOutline]:
    """Every agent's outline in one walk of the index (one thread, no GIL contention
    between a thousand agents' reads)."""
    outlines: dict[str, AgentOutline] = {}
    builders: dict[str, _OutlineBuilder] = {}
    prefix, builder = b"\x00", _OutlineBuilder()  # no key starts with NUL
    unpack = SEQ.unpack_from
    with txn.cursor(db=dbs.by_agent) as cursor:
        for key_item, value_item in cursor.iternext(keys=True, values=True):
            key, value = cast(bytes, key_item), cast(bytes, value_item)
            if not key.startswith(prefix):
                cut = key.index(b"\x00") + 1
                prefix = key[:cut]
                builder = builders.setdefault(key[: cut - 1].decode(), _OutlineBuilder())
            builder.add(unpack(key, len(prefix))[0], value)
    for name, each in builders.items():
        outlines[name] = each.outline()
    return outlines


def fetch(txn: lmdb.Transaction, dbs: LogDatabases, seqs: list[int]) -> list[RawRecord]:
    """The records of these seqs, which must exist."""
    with txn.cursor(db=dbs.events) as cursor:
        found = cursor.getmulti([SEQ.pack(seq) for seq in seqs])
    if len(found) != len(seqs):
        raise LookupError("the per-agent index names events missing from the events table")
    return [RawRecord(seq, bytes(raw)) for seq, (_, raw) in zip(seqs, found, strict=True)]


def _scan_all(
    txn: lmdb.Transaction, dbs: LogDatabases, query: EventQuery, low: int, high: int
) -> RawPage:
    records: list[RawRecord] = []
    with txn.cursor(db=dbs.events) as cursor:
        if not cursor.set_range(seq_key(low)):
            return RawPage(records, high)
        for key, value in cursor.iternext():
            seq = SEQ.unpack(key)[0]
            if seq > high:
                break
            raw = bytes(value)
            head = _head(raw)
            if not query.matches_fields(head.topic, head.type, head.agent, head.turn):
                continue
            records.append(RawRecord(seq, raw))
            if len(records) >= query.limit:
                return RawPage(records, seq)
    return RawPage(records, high)


def _seq_bounds(txn: lmdb.Transaction, dbs: LogDatabases, query: EventQuery) -> tuple[int, int]:
    # The transaction's own tail: a snapshot taken just before a commit must not
    # claim to have scanned events it cannot see.
    with txn.cursor(db=dbs.events) as cursor:
        last = SEQ.unpack(cursor.key())[0] if cursor.last() else 0
    low = query.after_seq + 1
    high = last if query.until_seq is None else min(query.until_seq, last)
    if query.since_ts is not None:
        low = max(low, _first_seq_after(txn, dbs, query.since_ts, last, inclusive=True))
    if query.until_ts is not None:
        high = min(high, _first_seq_after(txn, dbs, query.until_ts, last, inclusive=False) - 1)
    return low, high


def _first_seq_after(
    txn: lmdb.Transaction, dbs: LogDatabases, ts: datetime, last: int, *, inclusive: bool
) -> int:
    """Binary search over seq (timestamps never decrease): first ts >= (or >) `ts`."""
    target = format_ts(ts)  # fixed-width UTC text sorts like the times it names
    low, high = 1, last + 1
    while low < high:
        mid = (low + high) // 2
        stamp = _head(_get(txn, dbs, mid)).ts
        if stamp < target or (not inclusive and stamp == target):
            low = mid + 1
        else:
            high = mid
    return low


def _get(txn: lmdb.Transaction, dbs: LogDatabases, seq: int) -> bytes:
    raw = txn.get(seq_key(seq), db=dbs.events)
    if raw is None:
        raise LookupError(f"seq {seq} is missing from the events table")
    return bytes(raw)


def _head(raw: bytes) -> RecordHead:
    head = parse_head(raw)
    if head is not None:
        return head
    event = Event.decode(raw)  # a record of another shape: fall back to a full parse
    return RecordHead(
        event.seq, format_ts(event.ts), event.topic, event.type, event.agent, event.turn
    )
