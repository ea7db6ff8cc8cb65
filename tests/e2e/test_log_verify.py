"""Tamper evidence with a real `syswardd`: signed checkpoints at start, on an interval and
at stop, and `sysward log verify --state-dir` catching a record altered while it was down."""

from __future__ import annotations

import asyncio
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import lmdb

from sysward.events.signing import PRIVATE_KEY_FILE
from sysward.events.store import MAX_NAMED_DBS, seq_key
from sysward.llm.scripted import ScriptedLlmServer

from .daemon import DaemonLauncher, DaemonProcess, read_sse, write_config

CLI_TIMEOUT_S = 60.0
WAIT_S = 20.0


@dataclass(frozen=True)
class CliRun:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


async def sysward(*argv: str) -> CliRun:
    """The real `sysward` command as a child process."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "sysward.cli.main",
        *argv,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        async with asyncio.timeout(CLI_TIMEOUT_S):
            out, err = await process.communicate()
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    return CliRun(process.returncode or 0, out.decode(), err.decode())


async def launch(
    launcher: DaemonLauncher, llm: ScriptedLlmServer, *, interval_s: float = 300, wait: bool = True
) -> DaemonProcess:
    """A daemon whose state is `launcher.root/state` (the same on every launch)."""
    root = launcher.root
    socket_path = root / "sysward.sock"
    config = write_config(
        root / "sysward.toml",
        state_dir=root / "state",
        socket_path=socket_path,
        llm_url=llm.base_url,
    )
    text = config.read_text().replace(
        "[daemon]\n", f"[daemon]\ncheckpoint_interval_s = {interval_s}\n"
    )
    config.write_text(text)
    return await launcher.launch(["--config", str(config)], socket_path=socket_path, wait=wait)


async def checkpoints(daemon: DaemonProcess) -> list[dict[str, Any]]:
    async with daemon.client() as client:
        response = await client.get("/v1/events", params={"topic": "log.checkpoint"})
    assert response.status_code == 200, response.text
    events: list[dict[str, Any]] = response.json()["events"]
    return events


def alter_record(events_dir: Path, seq: int) -> None:
    """Edit one stored record with py-lmdb, as someone with access to the files could."""
    env = lmdb.open(str(events_dir), max_dbs=MAX_NAMED_DBS)
    try:
        db = env.open_db(b"events", create=False)
        with env.begin(write=True) as txn:
            envelope = json.loads(txn.get(seq_key(seq), db=db))
            envelope["data"]["tampered"] = True
            txn.put(seq_key(seq), json.dumps(envelope, separators=(",", ":")).encode(), db=db)
    finally:
        env.close()


async def test_a_running_daemon_signs_at_start_and_verifies_its_log(
    launcher: DaemonLauncher, llm: ScriptedLlmServer
) -> None:
    daemon = await launch(launcher, llm)
    [first] = await checkpoints(daemon)
    assert first["source"] == "sysward.daemon.checkpoints"
    assert first["data"]["covers_seq"] == first["seq"] - 1
    async with daemon.client() as client:
        report = (await client.post("/v1/log/verify")).json()
    assert report["ok"], report
    assert report["checkpoints"] == 1
    assert report["last_signed_seq"] == first["data"]["covers_seq"]
    assert await daemon.terminate() == 0


async def test_offline_verify_of_a_stopped_daemons_log_exits_0_with_everything_signed(
    launcher: DaemonLauncher, llm: ScriptedLlmServer
) -> None:
    daemon = await launch(launcher, llm)
    assert await daemon.terminate() == 0
    result = await sysward("log", "verify", "--state-dir", str(launcher.root / "state"), "--json")
    assert result.code == 0, result.out + result.err
    report = result.json()
    # The stop checkpoint is the last record and signs all before it (daemon.stopping too).
    assert (report["ok"], report["unsigned_tail"]) == (True, 0)
    assert report["last_signed_seq"] == report["last_seq"] - 1


async def test_a_record_altered_while_the_daemon_is_down_fails_offline_verify(
    launcher: DaemonLauncher, llm: ScriptedLlmServer
) -> None:
    daemon = await launch(launcher, llm)
    assert await daemon.terminate() == 0
    alter_record(launcher.root / "state" / "events", 1)
    result = await sysward("log", "verify", "--state-dir", str(launcher.root / "state"))
    assert result.code == 1
    assert result.out.startswith("log BROKEN at seq 1: record 1 does not hash to the prev")


async def test_offline_verify_works_while_the_daemon_runs(
    launcher: DaemonLauncher, llm: ScriptedLlmServer
) -> None:
    daemon = await launch(launcher, llm)
    result = await sysward("log", "verify", "--state-dir", str(launcher.root / "state"))
    assert result.code == 0, result.out + result.err
    assert "signatures: 1 checkpoint verifies" in result.out
    assert await daemon.terminate() == 0


async def test_new_events_are_signed_on_the_interval(
    launcher: DaemonLauncher, llm: ScriptedLlmServer
) -> None:
    daemon = await launch(launcher, llm, interval_s=0.2)
    async with daemon.client() as client:
        # Idle since the start checkpoint: any later checkpoint signs something newer.
        before = (await client.get("/v1/health")).json()["last_seq"]
        created = await client.post("/v1/agents", json={"name": "probe", "role": "default"})
        assert created.status_code in (200, 201), created.text
    params = {"topic": "log.checkpoint", "since": str(before)}
    async with (
        asyncio.timeout(WAIT_S),
        daemon.client() as client,
        client.stream("GET", "/v1/events/stream", params=params) as stream,
    ):
        messages = await read_sse(stream, until=lambda message: message.event == "log.checkpoint")
    signed = messages[-1].json()
    assert signed["data"]["covers_seq"] > before
    assert await daemon.terminate() == 0


async def test_the_key_is_reused_across_restarts(
    launcher: DaemonLauncher, llm: ScriptedLlmServer
) -> None:
    first = await launch(launcher, llm)
    assert await first.terminate() == 0
    second = await launch(launcher, llm)
    key_ids = {c["data"]["key_id"] for c in await checkpoints(second)}
    assert len(key_ids) == 1
    async with second.client() as client:
        report = (await client.post("/v1/log/verify")).json()
    assert report["ok"], report
    assert report["checkpoints"] == 3  # start, stop, start
    assert await second.terminate() == 0


async def test_a_private_key_others_can_read_refuses_to_start(
    launcher: DaemonLauncher, llm: ScriptedLlmServer
) -> None:
    first = await launch(launcher, llm)
    assert await first.terminate() == 0
    key_path = launcher.root / "state" / "keys" / PRIVATE_KEY_FILE
    key_path.chmod(0o644)
    refused = await launch(launcher, llm, wait=False)
    assert await refused.wait_exit() == 1
    assert f"{key_path}: mode 0644 lets others read or change the private key" in refused.stderr
    assert f"chmod 600 {key_path}" in refused.stderr
