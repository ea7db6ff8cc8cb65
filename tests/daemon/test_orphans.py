"""Reaping orphans: only zombie children nobody waited for within the grace period, never
a child asyncio is waiting for; and becoming a child subreaper (in a child process)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from sysward.daemon.orphans import OrphanReaper, zombie_children

WAIT_S = 10.0


def state_of(pid: int) -> str | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return None
    return stat[stat.rfind(")") + 2]


def spawn_zombie(returncode: int) -> int:
    """A child of this process that exits and that no code of ours will ever wait for."""
    pid = os.posix_spawn("/bin/sh", ["sh", "-c", f"exit {returncode}"], os.environ)
    deadline = time.monotonic() + WAIT_S
    while state_of(pid) != "Z":
        assert time.monotonic() < deadline, f"pid {pid} did not exit"
        time.sleep(0.01)
    return pid


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def test_a_zombie_is_reaped_only_after_the_grace_period(clock: FakeClock) -> None:
    pid = spawn_zombie(7)
    reaper = OrphanReaper(os.getpid(), grace_s=1.0, clock=clock)
    assert reaper.sweep() == []
    assert state_of(pid) == "Z"
    clock.now += 0.5
    assert reaper.sweep() == []
    clock.now += 0.5
    (reaped,) = reaper.sweep()
    assert (reaped.pid, reaped.returncode) == (pid, 7)
    assert state_of(pid) is None


def test_zombie_children_lists_only_exited_children() -> None:
    running = subprocess.Popen(["sleep", "30"])
    try:
        pid = spawn_zombie(0)
        found = {child for child, _ in zombie_children(os.getpid())}
        assert pid in found
        assert running.pid not in found
    finally:
        running.kill()
        running.wait()
    OrphanReaper(os.getpid(), grace_s=0.0).sweep()


def test_a_child_reaped_by_its_waiter_meanwhile_is_skipped(clock: FakeClock) -> None:
    pid = spawn_zombie(3)
    reaper = OrphanReaper(os.getpid(), grace_s=1.0, clock=clock)
    reaper.sweep()
    assert os.waitpid(pid, 0)[0] == pid  # its own waiter got there first
    clock.now += 5
    assert reaper.sweep() == []


@pytest.fixture
def sweeping() -> Iterator[OrphanReaper]:
    """A reaper sweeping every few milliseconds in a thread, as hard as it ever would."""
    reaper = OrphanReaper(os.getpid(), grace_s=1.0)
    stop = threading.Event()

    def sweep_until_stopped() -> None:
        while not stop.wait(0.002):
            reaper.sweep()

    thread = threading.Thread(target=sweep_until_stopped, name="test-sweeper")
    thread.start()
    try:
        yield reaper
    finally:
        stop.set()
        thread.join()


async def test_children_asyncio_waits_for_keep_their_exit_codes(
    sweeping: OrphanReaper,
) -> None:
    async def run(code: int) -> int | None:
        process = await asyncio.create_subprocess_exec("sh", "-c", f"exit {code}")
        async with asyncio.timeout(WAIT_S):
            return await process.wait()

    codes = await asyncio.gather(*(run(code) for code in range(1, 31)))
    assert codes == list(range(1, 31))  # a stolen child would report 255


async def test_an_orphan_beside_asyncio_children_is_reaped(sweeping: OrphanReaper) -> None:
    pid = spawn_zombie(9)
    process = await asyncio.create_subprocess_exec("sh", "-c", "exit 4")
    async with asyncio.timeout(WAIT_S):
        assert await process.wait() == 4
        while state_of(pid) is not None:  # noqa: ASYNC110 (no event tells a reap)
            await asyncio.sleep(0.02)


SUBREAPER_PROBE = """
import os, subprocess, sys, time
from sysward.daemon.orphans import become_subreaper
assert become_subreaper()
out = subprocess.run(["sh", "-c", "sleep 5 & echo $!"], capture_output=True, text=True)
pid = int(out.stdout)
stat = open(f"/proc/{pid}/stat").read()
print(stat[stat.rfind(")") + 2 :].split()[1] == str(os.getpid()))
os.kill(pid, 9)
os.waitpid(pid, 0)
"""


def test_a_subreaper_adopts_its_grandchildren() -> None:
    # In a child process: a subreaper flag on the test process would outlive the test.
    probe = subprocess.run(
        [sys.executable, "-c", SUBREAPER_PROBE],
        capture_output=True,
        text=True,
        timeout=WAIT_S * 3,
    )
    assert probe.returncode == 0, probe.stderr
    assert probe.stdout.strip() == "True"
