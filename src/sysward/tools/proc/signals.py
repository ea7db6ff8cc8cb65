"""``proc.signal``: send one signal to one process, never to the daemon's own line.

The target is pinned with a pidfd before it is checked: if the pid is
recycled between the check and the send, the signal goes to the process that
was opened (already gone, so it fails with ``not_found``), never to a newcomer
that happens to reuse the number. The same pidfd becomes readable when the
process exits, which is how the wait for TERM/KILL ends without polling.
"""

from __future__ import annotations

import asyncio
import errno
import os
import select
import signal
import time
from collections.abc import Collection
from pathlib import Path

import psutil

from sysward.tools.proc.detail import not_found
from sysward.tools.proc.models import SignalArgs, SignalName, SignalSent
from sysward.tools.tool import ToolFailed

# Signals whose default action ends the process: after these, wait to see it go.
EXIT_SIGNALS: frozenset[SignalName] = frozenset({"TERM", "KILL", "INT", "QUIT"})


async def send_signal(args: SignalArgs, protected_pids: Collection[int]) -> SignalSent:
    """Send ``args.signal`` to ``args.pid`` and report whether it is still alive."""
    if args.pid <= 0:
        raise _refused(args.pid, "pid <= 0 addresses process groups; signal one process by pid")
    if args.pid == 1:
        raise _refused(args.pid, "pid 1 is init; signalling it can reboot or hang the host")
    pidfd = await _open_pidfd(args.pid)
    try:
        name = await asyncio.to_thread(_check_target, args.pid, protected_pids)
        _send(pidfd, args)
        started = time.monotonic()
        if args.signal in EXIT_SIGNALS:
            has_exited = await _wait_exit(pidfd, args.wait_s)
        else:
            has_exited = _has_exited(pidfd)
        waited_ms = round((time.monotonic() - started) * 1000)
    finally:
        os.close(pidfd)
    status = None if has_exited else await asyncio.to_thread(_status, args.pid)
    return SignalSent(
        pid=args.pid,
        name=name,
        signal=args.signal,
        is_alive=not has_exited,
        waited_ms=waited_ms,
        status=status,
    )


def _refused(pid: int, reason: str) -> ToolFailed:
    return ToolFailed("permission_denied", f"refusing to signal pid {pid}: {reason}", {"pid": pid})


def daemon_lineage() -> set[int]:
    """This process and its ancestors up to (not including) pid 1 (blocking)."""
    lineage = {os.getpid()}
    pid = os.getppid()
    while pid > 1 and pid not in lineage:
        lineage.add(pid)
        try:
            pid = psutil.Process(pid).ppid()
        except psutil.Error:
            break  # an ancestor exited meanwhile; everything above it was reparented
    return lineage


async def _open_pidfd(pid: int) -> int:
    try:
        return os.pidfd_open(pid)
    except OSError as exc:
        if exc.errno == errno.ENOSYS:
            raise ToolFailed(
                "unavailable", "this kernel has no pidfd_open (Linux >= 5.3 is needed)"
            ) from exc
        leader = await asyncio.to_thread(_thread_group, pid)
        if leader is not None and leader != pid:
            raise ToolFailed(
                "invalid_input",
                f"{pid} is a thread of process {leader}, not a process; signal {leader} instead",
                {"pid": pid, "process": leader},
            ) from exc
        raise not_found(pid) from exc


def _thread_group(pid: int) -> int | None:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    for line in status.splitlines():
        if line.startswith("Tgid:"):
            return int(line.split()[1])
    return None


def _check_target(pid: int, protected_pids: Collection[int]) -> str | None:
    if pid in daemon_lineage():
        raise _refused(pid, "it is the sysward daemon or one of its ancestors")
    if pid in protected_pids:
        raise _refused(pid, "it is on the daemon's list of protected processes")
    try:
        return psutil.Process(pid).name()
    except (psutil.AccessDenied, psutil.ZombieProcess):
        return None
    except psutil.NoSuchProcess as exc:
        raise not_found(pid) from exc


def _send(pidfd: int, args: SignalArgs) -> None:
    number = signal.Signals[f"SIG{args.signal}"]
    try:
        signal.pidfd_send_signal(pidfd, number)
    except ProcessLookupError as exc:
        raise not_found(args.pid) from exc
    except PermissionError as exc:
        raise _refused(args.pid, f"the kernel said: {exc.strerror}") from exc


async def _wait_exit(pidfd: int, wait_s: float) -> bool:
    if _has_exited(pidfd) or wait_s == 0:
        return _has_exited(pidfd)
    loop = asyncio.get_running_loop()
    exited: asyncio.Future[None] = loop.create_future()

    def on_readable() -> None:
        if not exited.done():
            exited.set_result(None)

    loop.add_reader(pidfd, on_readable)
    try:
        async with asyncio.timeout(wait_s):
            await exited
    except TimeoutError:
        return False
    finally:
        loop.remove_reader(pidfd)
    return True


def _has_exited(pidfd: int) -> bool:
    poller = select.poll()
    poller.register(pidfd, select.POLLIN)
    return bool(poller.poll(0))


def _status(pid: int) -> str | None:
    try:
        return psutil.Process(pid).status()
    except psutil.Error:
        return None
