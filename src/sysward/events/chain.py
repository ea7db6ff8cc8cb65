"""Hash-chain verification: every record's `prev` is the SHA-256 of the one before."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, ValidationError

from sysward.events.record import GENESIS_PREV, Event, record_hash

if TYPE_CHECKING:
    from sysward.events.store import EventStore


class ChainReport(BaseModel):
    """The outcome of walking the chain; `first_bad_seq` is None when it is intact."""

    model_config = ConfigDict(frozen=True)

    ok: bool
    checked: int
    last_seq: int
    head: str
    first_bad_seq: int | None = None
    reason: str | None = None


def verify_chain(store: EventStore) -> ChainReport:
    """Walk every record in seq order and report the first link that does not hold."""
    expected_seq, prev, checked = 1, GENESIS_PREV, 0
    # One snapshot for records and recorded head: a commit landing between two
    # reads would otherwise look like a truncated log.
    with store.read_chain() as (records, recorded_head):
        for seq, raw in records:
            problem = _check_record(seq, raw, expected_seq, prev)
            if problem is not None:
                bad_seq, reason = problem
                return ChainReport(
                    ok=False,
                    checked=checked,
                    last_seq=seq,
                    head=prev,
                    first_bad_seq=bad_seq,
                    reason=reason,
                )
            prev, expected_seq, checked = record_hash(raw), seq + 1, checked + 1
    last_seq = expected_seq - 1
    tail_problem = _check_tail(recorded_head, last_seq, prev)
    return ChainReport(
        ok=tail_problem is None,
        checked=checked,
        last_seq=last_seq,
        head=prev,
        first_bad_seq=tail_problem[0] if tail_problem else None,
        reason=tail_problem[1] if tail_problem else None,
    )


def _check_record(seq: int, raw: bytes, expected_seq: int, prev: str) -> tuple[int, str] | None:
    if seq != expected_seq:
        return expected_seq, f"seq {expected_seq} is missing (next record is {seq})"
    try:
        event = Event.decode(raw)
    except ValidationError as exc:
        return seq, f"record {seq} is not a valid event: {exc.error_count()} errors"
    if event.seq != seq:
        return seq, f"record stored at seq {seq} claims seq {event.seq}"
    if event.prev != prev:
        if seq == 1:
            return seq, "record 1 does not start the chain (prev is not the genesis value)"
        return (
            seq - 1,
            f"record {seq - 1} does not hash to the prev stored in record {seq}: "
            f"record {seq - 1} (or the prev of {seq}) was altered",
        )
    return None


def _check_tail(
    recorded: tuple[int, str] | None, last_seq: int, head: str
) -> tuple[int, str] | None:
    if recorded is None:
        if last_seq == 0:
            return None
        return last_seq, "the log has records but no recorded head"
    recorded_seq, recorded_hash = recorded
    if recorded_seq != last_seq:
        return min(recorded_seq, last_seq) + 1, (
            f"the recorded head is seq {recorded_seq} but the log ends at seq {last_seq}"
        )
    if recorded_hash != head:
        return last_seq, f"record {last_seq} does not hash to the recorded head: it was altered"
    return None
