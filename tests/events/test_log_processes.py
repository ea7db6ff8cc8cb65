"""The log across processes: SIGKILL after acknowledgement, a concurrent read-only
reader, and a disk that fills up (a real tmpfs in a private mount namespace)."""

from __future__ import annotations

import asyncio
import os
import shlex
import shutil
import signal
from pathlib import Path

import pytest

from sysward.events import store as store_module
from sysward.events.log import EventLog

from .drafts import draft
from .processes import SpawnScript

ACKED_BEFORE_KILL = 400
SMALL_MAP_BYTES = 256 * 1024
DISK_BYTES = 2 * 1024 * 1024


async def test_every_acknowledged_event_survives_sigkill(
    log_path: Path, spawn_script: SpawnScript
) -> None:
    writer = await spawn_script("append_until_killed.py", str(log_path))
    acked: dict[int, int] = {}
    while len(acked) < ACKED_BEFORE_KILL:
        seq, n = map(int, (await writer.read_line()).split())
        acked[seq] = n
    await writer.kill()  # SIGKILL while further appends are in flight
    assert writer.process.returncode == -signal.SIGKILL

    log = await EventLog.open(log_path)
    try:
        for seq, n in acked.items():
            stored = await log.get(seq)
            assert stored is not None, f"acknowledged seq {seq} was lost"
            assert stored.data["n"] == n
        report = await log.verify()
        assert report.ok, report.reason
        assert report.last_seq == log.last_seq >= max(acked)
        # The log stays appendable after the crash, continuing the chain.
        after = await log.append(draft())
        assert (after.seq, after.prev) == (report.last_seq + 1, report.head)
        assert (await log.verify()).ok
    finally:
        await log.close()


async def append_until(log: EventLog, stop: asyncio.Event) -> None:
    """Append batches of 25 padded events until told to stop (bounded)."""
    pad = "p" * 300
    for start in range(log.last_seq, 200_000, 25):
        if stop.is_set():
            return
        await log.append_many([draft(data={"n": n, "pad": pad}) for n in range(start, start + 25)])
    raise AssertionError("appended 200,000 events and the reader still had not kept up")


async def test_read_only_reader_in_another_process_sees_consistent_prefixes(
    log_path: Path, spawn_script: SpawnScript, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Both sides start with a small map, so the writer grows it while the reader
    # has it mapped, and the reader must adopt the new size.
    monkeypatch.setattr(store_module, "INITIAL_MAP_SIZE_BYTES", SMALL_MAP_BYTES)
    log = await EventLog.open(log_path)
    try:
        await log.append_many([draft(data={"n": n}) for n in range(10)])
        reader = await spawn_script("read_while_writing.py", str(log_path), str(SMALL_MAP_BYTES))
        reports = [await reader.read_json()]
        stop = asyncio.Event()
        writer = asyncio.create_task(append_until(log, stop))
        try:
            # Keep writing until the reader has seen several prefixes and a grown map.
            while len(reports) < 6 or log.last_seq < 3000:
                reports.append(await reader.read_json())
                assert "error" not in reports[-1], reports[-1]
        finally:
            stop.set()
            await writer
        final = log.last_seq
        while reports[-1]["seen"] < final:
            reports.append(await reader.read_json())
            assert "error" not in reports[-1], reports[-1]
    finally:
        await log.close()

    assert reports[0] == {"seen": 10, "verified": 10}
    assert reports[-1] == {"seen": final, "verified": final}
    seen = [r["seen"] for r in reports]
    assert seen == sorted(set(seen)), "each report must show a longer prefix"
    assert (log_path / "data.mdb").stat().st_size > 4 * SMALL_MAP_BYTES


def private_tmpfs_prefix(mount_point: Path) -> list[str]:
    """A command prefix running the rest in a private mount namespace with a tiny tmpfs.

    The namespace (and the mount) vanish with the process; nothing reaches the host.
    """
    if os.geteuid() != 0:
        pytest.skip("needs root: mounts a tmpfs in a private mount namespace")
    unshare = shutil.which("unshare")
    if unshare is None:
        pytest.skip("needs unshare (util-linux) for a private mount namespace")
    mount = f"mount -t tmpfs -o size={DISK_BYTES} tmpfs {shlex.quote(str(mount_point))}"
    return [
        unshare,
        "--mount",
        "--propagation",
        "private",
        "sh",
        "-c",
        f'{mount} && exec "$@"',
        "sh",
    ]


def host_view(directory: Path) -> tuple[bool, list[Path]]:
    return directory.is_mount(), list(directory.iterdir())


async def test_disk_full_fails_appends_cleanly_and_keeps_the_log_intact(
    tmp_path: Path, spawn_script: SpawnScript
) -> None:
    disk = tmp_path / "disk"
    disk.mkdir()
    prefix = private_tmpfs_prefix(disk)
    filler = await spawn_script("fill_disk.py", str(disk), prefix=prefix)
    try:
        outcome = await filler.read_json(timeout_s=60)
        assert await filler.wait() == 0, filler.stderr
    finally:
        await filler.kill()
    is_mount, contents = await asyncio.to_thread(host_view, disk)
    assert not is_mount, "the tmpfs must not stay mounted on the host"
    assert contents == [], "the tmpfs contents must not leak to the host"

    full = outcome.get("full_error")
    assert full is not None, f"the 2 MiB disk never filled: {outcome}"
    # EventLogFullError or its parent: LMDB (0.9.36) turns ENOSPC from a short
    # write into EIO, which the store cannot tell from a failing disk.
    assert full["is_event_log_error"], full
    assert not full["chained"], full
    assert str(disk / "events") in full["message"]
    assert "nothing was written" in full["message"]
    assert len(outcome["acked"]) > 0
    assert outcome["retry_error"] is not None, "an append succeeded on a full disk"
    assert outcome["retry_error"]["is_event_log_error"]

    assert outcome["reopened_verify"]["ok"], outcome["reopened_verify"]
    assert outcome["unreadable_acked"] == []
    assert outcome["reopened_last_seq"] == len(outcome["acked"])
    assert outcome["after_free_seq"] == len(outcome["acked"]) + 1
    assert outcome["after_free_verify"]["ok"], outcome["after_free_verify"]
