"""Log verification: the hash chain (each `prev` is the SHA-256 of the record before)
and the signed checkpoints that vouch for it (see events/checkpoint.py)."""

from __future__ import annotations

from bisect import bisect_right
from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError

from sysward.events.checkpoint import (
    ChainProblem,
    RecordReader,
    check_checkpoint,
    is_checkpoint,
)
from sysward.events.record import GENESIS_PREV, Event, record_hash
from sysward.events.signing import KeyRing
from sysward.events.store import EventStore


class ChainReport(BaseModel):
    """The outcome of walking the chain; `first_bad_seq` is None when it is intact.

    `last_signed_seq` is the last seq a good checkpoint vouches for; `unsigned_tail`
    counts the records after it (checkpoints themselves aside) that no signature covers.
    """

    model_config = ConfigDict(frozen=True)

    ok: bool
    checked: int
    last_seq: int
    head: str
    first_bad_seq: int | None = None
    reason: str | None = None
    checkpoints: int = 0
    last_signed_seq: int | None = None
    unsigned_tail: int = 0


def verify_chain(store: EventStore, keys: KeyRing | None = None) -> ChainReport:
    """Walk every record in seq order and report the first link or signature that fails.

    Checkpoints verify only with `keys` (the trusted public keys); without them
    any checkpoint in the log fails as signed by an unknown key.
    """
    walk = _ChainWalk(keys if keys is not None else KeyRing())
    # One snapshot for records, recorded head and covered records: a commit landing
    # between two reads would otherwise look like a truncated log.
    with store.read_chain() as snapshot:
        for seq, raw in snapshot.records:
            problem = walk.step(seq, raw, snapshot.read_record)
            if problem is not None:
                return walk.report(problem, last_seq=seq)
        last_seq = walk.expected_seq - 1
        tail_problem = _check_tail(snapshot.recorded_head, last_seq, walk.prev)
    return walk.report(tail_problem, last_seq=last_seq)


def verify_log_files(events_dir: Path, keys: KeyRing) -> ChainReport:
    """Verify a log on disk, opened read-only: works while the daemon runs or is down."""
    store = EventStore(events_dir, readonly=True)
    try:
        return verify_chain(store, keys)
    finally:
        store.close()


class _ChainWalk:
    """The state of one walk: the next expected link and what signatures vouch for."""

    def __init__(self, keys: KeyRing) -> None:
        self.keys = keys
        self.expected_seq = 1
        self.prev = GENESIS_PREV
        self.checked = 0
        self.checkpoints = 0
        self.last_signed_seq: int | None = None
        # Seqs of checkpoint records: few, and not counted as unsigned.
        self.checkpoint_seqs: list[int] = []

    def step(self, seq: int, raw: bytes, read_record: RecordReader) -> ChainProblem | None:
        checked = _check_record(seq, raw, self.expected_seq, self.prev)
        if isinstance(checked, ChainProblem):
            return checked
        if is_checkpoint(checked):
            vouched = self.last_signed_seq or 0
            signed = check_checkpoint(checked, self.keys, read_record, vouched_seq=vouched)
            if isinstance(signed, ChainProblem):
                return signed
            self.checkpoints += 1
            self.checkpoint_seqs.append(seq)
            self.last_signed_seq = max(vouched, signed.covers_seq)
        self.prev, self.expected_seq, self.checked = record_hash(raw), seq + 1, self.checked + 1
        return None

    def unsigned_tail(self) -> int:
        signed = self.last_signed_seq or 0
        records_after = max(0, self.expected_seq - 1 - signed)
        checkpoints_after = len(self.checkpoint_seqs) - bisect_right(self.checkpoint_seqs, signed)
        return records_after - checkpoints_after

    def report(self, problem: ChainProblem | None, *, last_seq: int) -> ChainReport:
        return ChainReport(
            ok=problem is None,
            checked=self.checked,
            last_seq=last_seq,
            head=self.prev,
            first_bad_seq=problem.first_bad_seq if problem else None,
            reason=problem.reason if problem else None,
            checkpoints=self.checkpoints,
            last_signed_seq=self.last_signed_seq,
            unsigned_tail=self.unsigned_tail(),
        )


def _check_record(seq: int, raw: bytes, expected_seq: int, prev: str) -> Event | ChainProblem:
    if seq != expected_seq:
        return ChainProblem(expected_seq, f"seq {expected_seq} is missing (next record is {seq})")
    try:
        event = Event.decode(raw)
    except ValidationError as exc:
        return ChainProblem(seq, f"record {seq} is not a valid event: {exc.error_count()} errors")
    if event.seq != seq:
        return ChainProblem(seq, f"record stored at seq {seq} claims seq {event.seq}")
    if event.prev != prev:
        if seq == 1:
            return ChainProblem(
                seq, "record 1 does not start the chain (prev is not the genesis value)"
            )
        return ChainProblem(
            seq - 1,
            f"record {seq - 1} does not hash to the prev stored in record {seq}: "
            f"record {seq - 1} (or the prev of {seq}) was altered",
        )
    return event


def _check_tail(recorded: tuple[int, str] | None, last_seq: int, head: str) -> ChainProblem | None:
    if recorded is None:
        if last_seq == 0:
            return None
        return ChainProblem(last_seq, "the log has records but no recorded head")
    recorded_seq, recorded_hash = recorded
    if recorded_seq != last_seq:
        return ChainProblem(
            min(recorded_seq, last_seq) + 1,
            f"the recorded head is seq {recorded_seq} but the log ends at seq {last_seq}",
        )
    if recorded_hash != head:
        return ChainProblem(
            last_seq, f"record {last_seq} does not hash to the recorded head: it was altered"
        )
    return None
