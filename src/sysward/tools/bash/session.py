"""Ending every process a command started: its whole session, grandchildren included.

Each command runs as the leader of a new session (``start_new_session``), so
its session id is the shell's pid. Killing only the process group would miss
jobs that bash puts in groups of their own (``set -m``); the session holds
them all. A process that calls ``setsid`` itself leaves the session, so the
descendants of every member (by parent pid) are taken too. What escapes both is
a process that left the session and whose parent had already exited (it was
reparented): only a cgroup (``systemd-run --scope``) contains that.

Zombies count as gone: they run nothing, and on a host whose PID 1 does not
reap orphans they would otherwise look alive forever.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
from contextlib import suppress
from pathlib import Path

PROC = Path("/proc")
POLL_FIRST_S = 0.005
POLL_MAX_S = 0.05
KILL_WAIT_S = 5.0


def session_members(sid: int) -> list[int]:
    """Pids of the live (not zombie) processes of session ``sid`` and their descendants."""
    parents: dict[int, int] = {}
    members: set[int] = set()
    for entry in PROC.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_bytes()
        except OSError:  # it exited while we looked
            continue
        # "pid (comm) state ppid pgrp session ...": comm may hold spaces and parens.
        fields = stat.rpartition(b")")[2].split()
        if len(fields) <= 3 or fields[0] in (b"Z", b"X"):
            continue
        pid = int(entry.name)
        parents[pid] = int(fields[1])
        if int(fields[3]) == sid:
            members.add(pid)
    return sorted(members | _descendants(members, parents))


def _descendants(roots: set[int], parents: dict[int, int]) -> set[int]:
    """Every pid whose chain of parents reaches one of ``roots``."""
    found: set[int] = set()
    frontier = set(roots)
    while frontier:
        children = {pid for pid, ppid in parents.items() if ppid in frontier}
        frontier = children - found - roots
        found |= frontier
    return found


def signal_session(sid: int, signum: signal.Signals) -> None:
    """Send ``signum`` to every process of session ``sid``."""
    # Scanned before anything is signalled: once the shell dies, a job that left
    # the session is reparented and no longer looks like its descendant. The
    # group (same id as the session) is then signalled atomically, then the rest.
    # A pid seen in the scan could in theory be reused before the kill, which
    # would need the pid space to wrap within microseconds.
    members = session_members(sid)
    with suppress(ProcessLookupError):
        os.killpg(sid, signum)
    for pid in members:
        with suppress(ProcessLookupError):
            os.kill(pid, signum)


async def wait_session_empty(sid: int, timeout_s: float) -> bool:
    """Wait until session ``sid`` has no live process; False if ``timeout_s`` passed first."""
    deadline = time.monotonic() + timeout_s
    pause = POLL_FIRST_S
    while await asyncio.to_thread(session_members, sid):
        if time.monotonic() >= deadline:
            return False
        # Processes that are not our children offer nothing to wait on: poll, backing off.
        await asyncio.sleep(pause)
        pause = min(pause * 2, POLL_MAX_S)
    return True


async def end_session(sid: int, grace_s: float) -> int:
    """SIGTERM the session, SIGKILL whatever is left after ``grace_s``; returns how many remain."""
    try:
        await asyncio.to_thread(signal_session, sid, signal.SIGTERM)
        if await wait_session_empty(sid, grace_s):
            return 0
        deadline = time.monotonic() + KILL_WAIT_S
        while time.monotonic() < deadline:
            # Repeated because a process may fork between the scan and the kill.
            await asyncio.to_thread(signal_session, sid, signal.SIGKILL)
            if await wait_session_empty(sid, 0.2):
                return 0
        return len(await asyncio.to_thread(session_members, sid))
    except asyncio.CancelledError:
        # Cancelled while cleaning up: still never leave the processes running.
        signal_session(sid, signal.SIGKILL)
        raise
