"""`sysward log verify`: exit 1 naming the first bad seq, through the daemon or offline."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import lmdb

from sysward.cli.log import describe
from sysward.daemon.checkpoints import Checkpointer
from sysward.events.log import EventLog
from sysward.events.record import NewEvent
from sysward.events.signing import LogSigningKey
from sysward.events.store import MAX_NAMED_DBS, seq_key

from .fake_daemon import FakeDaemon


def test_an_intact_chain_exits_0(daemon: FakeDaemon, cli: Any) -> None:
    result = cli("log", "verify")
    assert result.code == 0
    assert result.out.startswith("log intact: 3 events checked, last seq 3, head ")


def test_a_broken_chain_exits_1_naming_the_seq_and_why(daemon: FakeDaemon, cli: Any) -> None:
    daemon.is_chain_intact = False
    result = cli("log", "verify")
    assert result.code == 1
    assert result.out.strip() == (
        "log BROKEN at seq 42: prev does not match the hash of record 41 "
        "(41 events before it are intact)"
    )


def test_a_broken_chain_in_json_still_exits_1(daemon: FakeDaemon, cli: Any) -> None:
    daemon.is_chain_intact = False
    result = cli("log", "verify", "--json")
    assert result.code == 1
    assert result.json()["first_bad_seq"] == 42


def test_log_without_a_subcommand_is_a_usage_error(daemon: FakeDaemon, cli: Any) -> None:
    assert cli("log").code == 2


# -- offline: `--state-dir DIR` reads the log files read-only, no daemon --------------


async def signed_state_dir(state_dir: Path) -> LogSigningKey:
    """A state dir as the daemon leaves it: 3 events, a final checkpoint (seq 4)."""
    key = LogSigningKey.load_or_create(state_dir / "keys")
    log = await EventLog.open(state_dir / "events")
    try:
        await log.append_many(
            [
                NewEvent(topic="test.event", type="happened", source="tests", data={"n": n})
                for n in range(3)
            ]
        )
        await Checkpointer(log, key, lambda: 3600).stop()
    finally:
        await log.close()
    return key


def alter_record(events_dir: Path, seq: int) -> None:
    env = lmdb.open(str(events_dir), max_dbs=MAX_NAMED_DBS)
    try:
        db = env.open_db(b"events", create=False)
        with env.begin(write=True) as txn:
            envelope = json.loads(txn.get(seq_key(seq), db=db))
            envelope["data"]["n"] = 999
            txn.put(seq_key(seq), json.dumps(envelope, separators=(",", ":")).encode(), db=db)
    finally:
        env.close()


async def test_offline_verify_of_an_intact_signed_log_exits_0(tmp_path: Path, cli: Any) -> None:
    await signed_state_dir(tmp_path)
    result = cli("log", "verify", "--state-dir", str(tmp_path))
    assert result.code == 0, result.err
    intact, signatures = result.out.splitlines()
    assert intact.startswith("log intact: 4 events checked, last seq 4, head ")
    assert signatures == (
        "signatures: 1 checkpoint verifies; the whole log is signed (up to seq 3)"
    )


async def test_offline_verify_of_an_altered_log_exits_1_naming_the_seq(
    tmp_path: Path, cli: Any
) -> None:
    await signed_state_dir(tmp_path)
    alter_record(tmp_path / "events", 2)
    result = cli("log", "verify", "--state-dir", str(tmp_path), "--json")
    assert result.code == 1
    report = result.json()
    assert (report["ok"], report["first_bad_seq"]) == (False, 2)
    assert report["reason"].startswith("record 2 does not hash to the prev stored in record 3")


async def test_offline_verify_trusts_only_the_public_keys_named(tmp_path: Path, cli: Any) -> None:
    key = await signed_state_dir(tmp_path)
    stranger = LogSigningKey.load_or_create(tmp_path / "stranger")
    stranger_pub = tmp_path / "stranger" / "log-signing.pub"
    result = cli("log", "verify", "--state-dir", str(tmp_path), "--public-key", str(stranger_pub))
    assert result.code == 1
    assert f"unknown key id {key.key_id} (trusted keys: {stranger.key_id})" in result.out
    own_pub = tmp_path / "keys" / "log-signing.pub"
    assert (
        cli("log", "verify", "--state-dir", str(tmp_path), "--public-key", str(own_pub)).code == 0
    )


def test_offline_verify_of_a_dir_without_a_log_exits_1(tmp_path: Path, cli: Any) -> None:
    result = cli("log", "verify", "--state-dir", str(tmp_path / "nothing"))
    assert result.code == 1
    assert result.err.strip() == (
        f"sysward: {tmp_path / 'nothing' / 'events'}: no event log here "
        f"(is {tmp_path / 'nothing'} the daemon's state_dir?)"
    )


def test_an_unreadable_public_key_exits_1_in_json(tmp_path: Path, cli: Any) -> None:
    bad = tmp_path / "bad.pub"
    bad.write_text("nope")
    result = cli("log", "verify", "--state-dir", str(tmp_path), "--public-key", str(bad), "--json")
    assert result.code == 1
    assert result.json()["error"]["code"] == "log_unreadable"
    assert "not an Ed25519 public key" in result.json()["error"]["message"]


def test_public_key_without_state_dir_is_a_usage_error(tmp_path: Path, cli: Any) -> None:
    result = cli("log", "verify", "--public-key", str(tmp_path / "k.pub"))
    assert result.code == 2
    assert "--public-key needs --state-dir" in result.err


def test_the_signature_summary_follows_the_verdict() -> None:
    report = {
        "ok": False,
        "checked": 15,
        "last_seq": 15,
        "head": "0" * 64,
        "first_bad_seq": 6,
        "reason": "checkpoint at seq 12 covers seq 11 whose hash differs",
        "checkpoints": 1,
        "last_signed_seq": 5,
        "unsigned_tail": 9,
    }
    assert describe(report).splitlines() == [
        "log BROKEN at seq 6: checkpoint at seq 12 covers seq 11 whose hash differs "
        "(5 events before it are intact)",
        "signatures: 1 checkpoint verifies; seqs 1..5 are signed, 9 events after them are not yet",
    ]
