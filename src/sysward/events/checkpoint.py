"""Signed checkpoints: a `log.checkpoint` event vouches for the chain up to a seq.

The signature is Ed25519 over a domain-separated message naming the covered
seq and the hash of the record at that seq. Because every record's `prev` is
the hash of the one before, that one hash vouches for every record up to it:
editing any of them and re-hashing the chain changes it, and only the holder
of the private key can sign the new value.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from typing import NamedTuple

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from sysward.events import topics
from sysward.events.record import Event, NewEvent, record_hash
from sysward.events.signing import KeyRing, LogSigningKey

CHECKPOINT_TYPE = "checkpoint"
# Domain separation: a signature made for a checkpoint can never be passed off
# as a signature of anything else made with the same key, nor the reverse.
SIGNED_MESSAGE_PREFIX = b"sysward-checkpoint-v1\n"

RecordReader = Callable[[int], bytes | None]


class CheckpointSigned(BaseModel):
    """The data of a `log.checkpoint` event."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    covers_seq: int = Field(ge=1, description="The last seq the signature vouches for")
    covers_hash: str = Field(
        pattern=r"^[0-9a-f]{64}$", description="SHA-256 of the record at covers_seq"
    )
    key_id: str = Field(pattern=r"^[0-9a-f]{16}$", description="Which public key verifies it")
    signature: str = Field(description="Base64 Ed25519 signature of the checkpoint message")


class ChainProblem(NamedTuple):
    """Why the chain or a checkpoint does not hold, and the first seq it puts in doubt."""

    first_bad_seq: int
    reason: str


def checkpoint_message(covers_seq: int, covers_hash: str) -> bytes:
    """The exact bytes a checkpoint signs."""
    return SIGNED_MESSAGE_PREFIX + f"{covers_seq}\n{covers_hash}".encode()


def sign_checkpoint(key: LogSigningKey, covers_seq: int, covers_hash: str) -> CheckpointSigned:
    signature = key.sign(checkpoint_message(covers_seq, covers_hash))
    return CheckpointSigned(
        covers_seq=covers_seq,
        covers_hash=covers_hash,
        key_id=key.key_id,
        signature=base64.b64encode(signature).decode(),
    )


def checkpoint_event(signed: CheckpointSigned, *, source: str) -> NewEvent:
    return NewEvent(
        topic=topics.LOG_CHECKPOINT,
        type=CHECKPOINT_TYPE,
        source=source,
        data=signed.model_dump(),
    )


def is_checkpoint(event: Event) -> bool:
    return event.topic == topics.LOG_CHECKPOINT and event.type == CHECKPOINT_TYPE


def check_checkpoint(
    event: Event, keys: KeyRing, read_record: RecordReader, *, vouched_seq: int
) -> CheckpointSigned | ChainProblem:
    """Verify one checkpoint event against trusted keys and the record it covers.

    `vouched_seq` is the last seq an earlier good checkpoint covered: when the
    covered hash differs, the records after it are the ones that changed.
    """
    seq = event.seq
    try:
        signed = CheckpointSigned.model_validate(event.data)
        signature = base64.b64decode(signed.signature, validate=True)
    except (ValidationError, binascii.Error) as exc:
        return ChainProblem(seq, f"checkpoint at seq {seq} is malformed: {_brief(exc)}")
    if signed.covers_seq >= seq:
        return ChainProblem(
            seq, f"checkpoint at seq {seq} covers seq {signed.covers_seq}, which is not before it"
        )
    message = checkpoint_message(signed.covers_seq, signed.covers_hash)
    verified = keys.verifies(signed.key_id, signature, message)
    if verified is None:
        known = ", ".join(keys.key_ids) or "none"
        return ChainProblem(
            seq,
            f"checkpoint at seq {seq}: unknown key id {signed.key_id} (trusted keys: {known}); "
            f"put its public key in keys/retired/ or pass it with --public-key",
        )
    if not verified:
        return ChainProblem(
            seq,
            f"checkpoint at seq {seq}: signature does not verify with key {signed.key_id}: "
            f"the checkpoint was altered or forged",
        )
    return _check_covered_record(seq, signed, read_record, vouched_seq)


def _check_covered_record(
    seq: int, signed: CheckpointSigned, read_record: RecordReader, vouched_seq: int
) -> CheckpointSigned | ChainProblem:
    covered = signed.covers_seq
    raw = read_record(covered)
    if raw is None:
        return ChainProblem(covered, f"checkpoint at seq {seq} covers seq {covered}: missing")
    if record_hash(raw) == signed.covers_hash:
        return signed
    first = min(vouched_seq + 1, covered)
    altered = f"record {covered} was" if first == covered else f"records {first}..{covered} were"
    return ChainProblem(
        first,
        f"checkpoint at seq {seq} covers seq {covered} whose hash differs from the signed one: "
        f"{altered} altered and the chain re-hashed",
    )


def _brief(exc: ValidationError | binascii.Error) -> str:
    if isinstance(exc, ValidationError):
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "data"
        return f"{where}: {first['msg']}"
    return f"signature: not base64 ({exc})"
