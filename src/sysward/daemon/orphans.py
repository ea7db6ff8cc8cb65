"""Orphans of the commands the daemon runs: adopt them (child subreaper) and reap them.

A bash command that starts a background process and exits leaves that process
to be reparented. As a child subreaper the daemon adopts it instead of PID 1
(which, on some hosts, never reaps), so the daemon must reap it.

Reaping must not steal a child asyncio waits for: its caller would get exit
code 255. On 3.11 asyncio's ThreadedChildWatcher reaps each child it spawned
with a thread blocked in ``waitpid(pid)`` from the moment of the spawn (3.12's
pidfd watcher reaps as soon as the loop sees the pidfd readable), so one of
its children is a zombie for microseconds. A child still a zombie a whole
grace period after it was first seen is one nobody waits for. Only those are
reaped, each by its own pid with ``WNOHANG``; never ``waitpid(-1)``. (A
``subprocess.Popen`` left unwaited for longer than the grace would be reaped
too; the daemon spawns every process through asyncio.)
"""

from __future__ import annotations

import asyncio
import ctypes
import logging
import os
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

PR_SET_CHILD_SUBREAPER = 36
DEFAULT_INTERVAL_S = 2.0
DEFAULT_GRACE_S = 1.0
MAX_REAPED_PER_SWEEP = 256
PROC = Path("/proc")

_log = logging.getLogger(__name__)

# A process is known by its pid and start time, so a reused pid is a new process.
ProcessKey = tuple[int, int]


def become_subreaper() -> bool:
    """PR_SET_CHILD_SUBREAPER for this process; False (and logged) where it cannot be set."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        failed = libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0
    except (OSError, AttributeError) as exc:
        _log.warning("cannot become a child subreaper (%s); orphans go to PID 1", exc)
        return False
    if failed:
        error = os.strerror(ctypes.get_errno())
        _log.warning("cannot become a child subreaper (%s); orphans go to PID 1", error)
        return False
    return True


@dataclass(frozen=True, slots=True)
class Reaped:
    """An orphan that was reaped: its pid and how it ended (exit code, or -signal)."""

    pid: int
    returncode: int


class OrphanReaper:
    """Reaps this process's zombie children that stayed zombies for a grace period."""

    def __init__(
        self,
        pid: int,
        *,
        interval_s: float = DEFAULT_INTERVAL_S,
        grace_s: float = DEFAULT_GRACE_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.pid = pid
        self.interval_s = interval_s
        self.grace_s = grace_s
        self._clock = clock
        self._first_seen: dict[ProcessKey, float] = {}

    async def run(self) -> None:
        """Sweep every interval, forever (the owner cancels this task)."""
        while True:
            for reaped in await asyncio.to_thread(self.sweep):
                _log.info("reaped orphan pid %d (returncode %d)", reaped.pid, reaped.returncode)
            await asyncio.sleep(self.interval_s)

    def sweep(self) -> list[Reaped]:
        """Reap the zombies first seen at least a grace period ago (blocking: reads /proc)."""
        now = self._clock()
        zombies = set(zombie_children(self.pid))
        self._first_seen = {key: self._first_seen.get(key, now) for key in zombies}
        due = [key for key, seen in self._first_seen.items() if now - seen >= self.grace_s]
        reaped: list[Reaped] = []
        for key in due[:MAX_REAPED_PER_SWEEP]:
            result = _reap(key)
            self._first_seen.pop(key, None)
            if result is not None:
                reaped.append(result)
        return reaped


def zombie_children(parent: int) -> Iterator[ProcessKey]:
    """The (pid, start time) of each child of `parent` that has exited and not been reaped."""
    for pid in _children(parent):
        stat = _stat(pid)
        if stat is not None and stat[0] == "Z" and stat[1] == parent:
            yield pid, stat[2]


def _children(parent: int) -> list[int]:
    # Each thread has its own children list; an adopted orphan's parent is any of them.
    files = list((PROC / str(parent) / "task").glob("*/children"))
    if not files:  # a kernel without CONFIG_PROC_CHILDREN: find them by their parent
        return [pid for pid in _all_pids() if (stat := _stat(pid)) and stat[1] == parent]
    pids: list[int] = []
    for file in files:
        try:
            pids += [int(pid) for pid in file.read_text().split()]
        except OSError:
            continue  # the thread ended
    return pids


def _all_pids() -> list[int]:
    return [int(entry.name) for entry in PROC.iterdir() if entry.name.isdigit()]


def _stat(pid: int) -> tuple[str, int, int] | None:
    """(state, ppid, start time) from /proc/PID/stat; None once the process is gone."""
    try:
        text = (PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    # The command name may contain spaces and parentheses: the fields follow the last ")".
    fields = text[text.rfind(")") + 2 :].split()
    return fields[0], int(fields[1]), int(fields[19])


def _reap(key: ProcessKey) -> Reaped | None:
    pid, started = key
    stat = _stat(pid)
    if stat is None or stat[0] != "Z" or stat[2] != started:
        return None  # reaped by its waiter after all, or the pid now names another process
    try:
        reaped_pid, status = os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return None
    if reaped_pid == 0:
        return None
    return Reaped(pid=pid, returncode=os.waitstatus_to_exitcode(status))
