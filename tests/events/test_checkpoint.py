"""Signed checkpoints: verification vouches for the chain and catches a re-hashed log."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from sysward.events.chain import ChainReport, verify_log_files
from sysward.events.checkpoint import (
    CHECKPOINT_TYPE,
    SIGNED_MESSAGE_PREFIX,
    checkpoint_event,
    sign_checkpoint,
)
from sysward.events.log import EventLog
from sysward.events.record import Event, NewEvent, record_hash
from sysward.events.signing import PRIVATE_KEY_FILE, KeyRing, LogSigningKey
from sysward.events.store import HEAD_KEY, seq_key
from sysward.events.topics import LOG_CHECKPOINT

from .drafts import numbered
from .raw_lmdb import overwrite_record, raw_write, read_record


@pytest.fixture
def keys_dir(tmp_path: Path) -> Path:
    return tmp_path / "keys"


@pytest.fixture
def key(keys_dir: Path) -> LogSigningKey:
    return LogSigningKey.load_or_create(keys_dir)


async def append_checkpoint(log: EventLog, key: LogSigningKey) -> Event:
    head = await log.recorded_head()
    assert head is not None
    return await log.append(checkpoint_event(sign_checkpoint(key, *head), source="tests"))


async def signed_log(path: Path, key: LogSigningKey) -> None:
    """Seqs 1-5 events, 6 checkpoint (covers 5), 7-11 events, 12 checkpoint (covers 11), 13-15."""
    log = await EventLog.open(path)
    try:
        await log.append_many(numbered(5))
        await append_checkpoint(log, key)
        await log.append_many(numbered(5, start=5))
        await append_checkpoint(log, key)
        await log.append_many(numbered(3, start=10))
    finally:
        await log.close()


def verify(path: Path, keys_dir: Path) -> ChainReport:
    return verify_log_files(path, KeyRing.load(keys_dir))


def edited(raw: bytes) -> bytes:
    envelope = json.loads(raw)
    envelope["data"]["n"] = 999_999
    return json.dumps(envelope, separators=(",", ":")).encode()


def rehash_from(path: Path, seq: int, edit: dict[int, dict[str, object]]) -> None:
    """Rewrite records `seq`.. with `edit`'s data changes, re-linking every `prev` after
    them and the recorded head: what someone with write access to the files can do."""
    with raw_write(path, b"events") as (txn, db):
        previous = txn.get(seq_key(seq - 1), db=db)
        prev = record_hash(previous)
        cursor = txn.cursor(db=db)
        cursor.set_key(seq_key(seq))
        rewritten: list[tuple[bytes, bytes]] = []
        for key_bytes, value in cursor:
            envelope = json.loads(value)
            envelope["data"].update(edit.get(envelope["seq"], {}))
            envelope["prev"] = prev
            raw = json.dumps(envelope, separators=(",", ":")).encode()
            rewritten.append((bytes(key_bytes), raw))
            prev = record_hash(raw)
        for key_bytes, raw in rewritten:
            txn.put(key_bytes, raw, db=db)
        last_seq = json.loads(rewritten[-1][1])["seq"]
    with raw_write(path, b"meta") as (txn, db):
        txn.put(HEAD_KEY, f"{last_seq}:{prev}".encode(), db=db)


async def test_a_signed_log_verifies_and_reports_what_is_signed(
    log_path: Path, key: LogSigningKey, keys_dir: Path
) -> None:
    await signed_log(log_path, key)
    report = verify(log_path, keys_dir)
    assert report.ok, report.reason
    assert (report.checked, report.checkpoints, report.last_signed_seq) == (15, 2, 11)
    assert report.unsigned_tail == 3


async def test_the_checkpoint_event_names_the_covered_record_and_key(
    log: EventLog, key: LogSigningKey
) -> None:
    await log.append_many(numbered(4))
    event = await append_checkpoint(log, key)
    assert (event.topic, event.type) == (LOG_CHECKPOINT, CHECKPOINT_TYPE)
    assert event.data["covers_seq"] == 4
    assert event.data["covers_hash"] == event.prev == record_hash(await raw_of(log, 4))
    assert event.data["key_id"] == key.key_id
    assert len(base64.b64decode(str(event.data["signature"]))) == 64


async def raw_of(log: EventLog, seq: int) -> bytes:
    event = await log.get(seq)
    assert event is not None
    return event.encode()


async def test_a_log_without_checkpoints_has_everything_unsigned(
    log_path: Path, keys_dir: Path
) -> None:
    log = await EventLog.open(log_path)
    await log.append_many(numbered(4))
    await log.close()
    report = verify(log_path, keys_dir)
    assert report.ok
    assert (report.checkpoints, report.last_signed_seq, report.unsigned_tail) == (0, None, 4)


async def test_an_altered_record_is_reported_at_its_seq(
    log_path: Path, key: LogSigningKey, keys_dir: Path
) -> None:
    await signed_log(log_path, key)
    overwrite_record(log_path, 8, edited(read_record(log_path, 8)))
    report = verify(log_path, keys_dir)
    assert (report.ok, report.first_bad_seq) == (False, 8)
    assert report.last_signed_seq == 5


async def test_a_rehashed_chain_is_caught_by_the_next_checkpoint(
    log_path: Path, key: LogSigningKey, keys_dir: Path
) -> None:
    await signed_log(log_path, key)
    rehash_from(log_path, 8, {8: {"n": 999_999}})
    report = verify(log_path, keys_dir)
    assert not report.ok
    # Records 6..11 are what the first good checkpoint no longer vouches for.
    assert report.first_bad_seq == 6
    assert report.reason == (
        "checkpoint at seq 12 covers seq 11 whose hash differs from the signed one: "
        "records 6..11 were altered and the chain re-hashed"
    )


async def test_before_the_first_checkpoint_every_covered_record_is_in_doubt(
    log_path: Path, key: LogSigningKey, keys_dir: Path
) -> None:
    await signed_log(log_path, key)
    rehash_from(log_path, 3, {3: {"n": 999_999}})
    report = verify(log_path, keys_dir)
    assert (report.ok, report.first_bad_seq, report.last_signed_seq) == (False, 1, None)
    assert "records 1..5 were altered" in (report.reason or "")


async def test_the_doubt_starts_right_after_the_last_good_checkpoint(
    log: EventLog, key: LogSigningKey, log_path: Path, keys_dir: Path
) -> None:
    await log.append_many(numbered(3))
    await append_checkpoint(log, key)  # seq 4 covers 3
    await log.append_many(numbered(1, start=3))  # seq 5
    await append_checkpoint(log, key)  # seq 6 covers 5
    await log.close()
    rehash_from(log_path, 5, {5: {"n": 999_999}})
    report = verify(log_path, keys_dir)
    assert (report.ok, report.first_bad_seq, report.last_signed_seq) == (False, 4, 3)
    assert "records 4..5 were altered and the chain re-hashed" in (report.reason or "")


async def test_a_rehashed_chain_with_a_rewritten_checkpoint_fails_its_signature(
    log_path: Path, key: LogSigningKey, keys_dir: Path
) -> None:
    await signed_log(log_path, key)
    rehash_from(log_path, 8, {8: {"n": 999_999}})
    # The forger also points the checkpoint at the new hash of record 11.
    new_hash = record_hash(read_record(log_path, 11))
    rehash_from(log_path, 12, {12: {"covers_hash": new_hash}})
    report = verify(log_path, keys_dir)
    assert (report.ok, report.first_bad_seq) == (False, 12)
    assert report.reason == (
        f"checkpoint at seq 12: signature does not verify with key {key.key_id}: "
        "the checkpoint was altered or forged"
    )


async def test_a_checkpoint_signed_by_an_unknown_key_is_reported(
    log_path: Path, key: LogSigningKey, tmp_path: Path
) -> None:
    await signed_log(log_path, key)
    stranger = LogSigningKey.load_or_create(tmp_path / "other-keys")
    report = verify_log_files(log_path, KeyRing([stranger.public_key]))
    assert (report.ok, report.first_bad_seq) == (False, 6)
    assert f"unknown key id {key.key_id}" in (report.reason or "")


async def test_a_key_carried_inside_the_log_is_not_trusted(
    log_path: Path, key: LogSigningKey
) -> None:
    await signed_log(log_path, key)
    report = verify_log_files(log_path, KeyRing())
    assert (report.ok, report.first_bad_seq) == (False, 6)


async def test_checkpoints_of_a_retired_key_still_verify(
    log_path: Path, key: LogSigningKey, keys_dir: Path
) -> None:
    await signed_log(log_path, key)
    (keys_dir / PRIVATE_KEY_FILE).unlink()
    rotated = LogSigningKey.load_or_create(keys_dir)
    log = await EventLog.open(log_path)
    try:
        await append_checkpoint(log, rotated)
    finally:
        await log.close()
    report = verify(log_path, keys_dir)
    assert report.ok, report.reason
    assert (report.checkpoints, report.last_signed_seq, report.unsigned_tail) == (3, 15, 0)


async def test_a_signature_without_the_domain_prefix_does_not_verify(
    log: EventLog, key: LogSigningKey, log_path: Path, keys_dir: Path
) -> None:
    await log.append_many(numbered(2))
    seq, digest = await log.recorded_head() or (0, "")
    assert SIGNED_MESSAGE_PREFIX.startswith(b"sysward-checkpoint-v1")
    bare = key.sign(f"{seq}\n{digest}".encode())
    signed = sign_checkpoint(key, seq, digest).model_copy(
        update={"signature": base64.b64encode(bare).decode()}
    )
    await log.append(checkpoint_event(signed, source="tests"))
    report = await log.verify(KeyRing.load(keys_dir))
    assert (report.ok, report.first_bad_seq) == (False, 3)
    assert "signature does not verify" in (report.reason or "")


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        ({"covers_seq": 1}, "checkpoint at seq 2 is malformed: covers_hash: Field required"),
        (
            {"covers_seq": 1, "covers_hash": "0" * 64, "key_id": "0" * 16, "signature": "@@"},
            "checkpoint at seq 2 is malformed: signature: not base64",
        ),
        (
            {"covers_seq": 2, "covers_hash": "0" * 64, "key_id": "0" * 16, "signature": ""},
            "checkpoint at seq 2 covers seq 2, which is not before it",
        ),
    ],
)
async def test_a_malformed_checkpoint_is_reported(
    log: EventLog, keys_dir: Path, key: LogSigningKey, data: dict[str, object], reason: str
) -> None:
    await log.append_many(numbered(1))
    draft = NewEvent(topic=LOG_CHECKPOINT, type=CHECKPOINT_TYPE, source="tests", data=data)
    await log.append(draft)
    report = await log.verify(KeyRing.load(keys_dir))
    assert (report.ok, report.first_bad_seq) == (False, 2)
    assert (report.reason or "").startswith(reason)
