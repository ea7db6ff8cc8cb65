"""``proc.info``: what one process is, read from ``/proc`` (blocking; run it in a thread).

The environment is never read: it holds secrets (tokens, passwords) a model
must not see and the event log must not keep.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import psutil

from sysward.tools.proc.models import (
    CgroupEntry,
    CpuTimes,
    IdSet,
    MemoryInfo,
    ProcessInfo,
    iso_utc,
)
from sysward.tools.tool import ToolFailed

MAX_CMDLINE_ARGS = 64
MAX_ARG_CHARS = 1024
MAX_CHILDREN = 200

T = TypeVar("T")


def not_found(pid: int) -> ToolFailed:
    """The failure for a pid with no process behind it."""
    return ToolFailed(
        "not_found",
        f"no process has pid {pid}; it may have exited (proc.list shows the live ones)",
        {"pid": pid},
    )


def read_info(pid: int) -> ProcessInfo:
    """Details of process ``pid``; raises ``ToolFailed("not_found")`` when it does not exist."""
    try:
        process = psutil.Process(pid)
        with process.oneshot():
            return _read(process)
    except psutil.NoSuchProcess as exc:  # a zombie is described: only its fields read null
        raise not_found(pid) from exc


def _read(process: psutil.Process) -> ProcessInfo:
    cmdline, cmdline_truncated = _capped_cmdline(_optional(process.cmdline))
    children = sorted(child.pid for child in process.children())
    ppid = _optional(process.ppid)
    return ProcessInfo(
        pid=process.pid,
        name=_optional(process.name),
        status=_optional(process.status),
        exe=_optional(process.exe) or None,
        cmdline=cmdline,
        cmdline_truncated=cmdline_truncated,
        cwd=_optional(process.cwd) or None,
        user=_optional(process.username),
        uids=_ids(process.uids),
        gids=_ids(process.gids),
        terminal=_optional(process.terminal),
        ppid=ppid,
        parent_name=_parent_name(ppid),
        children=children[:MAX_CHILDREN],
        children_truncated=len(children) > MAX_CHILDREN,
        memory=_memory(process),
        cpu_times=_cpu_times(process),
        num_threads=_optional(process.num_threads),
        num_fds=_optional(process.num_fds),
        open_files_count=_optional(lambda: len(process.open_files())),
        connections_count=_optional(lambda: len(process.net_connections("inet"))),
        cgroups=read_cgroups(process.pid),
        create_time=iso_utc(_optional(process.create_time)),
        nice=_optional(process.nice),
    )


def read_cgroups(pid: int) -> list[CgroupEntry] | None:
    """The cgroups of ``pid`` from ``/proc/PID/cgroup``; None when it cannot be read."""
    try:
        text = Path(f"/proc/{pid}/cgroup").read_text()
    except OSError:
        return None  # exited meanwhile, or hidden from us: the other fields still stand
    entries = []
    for line in text.splitlines():
        hierarchy, _, rest = line.partition(":")
        controllers, _, path = rest.partition(":")
        if hierarchy.isdigit():
            names = [name for name in controllers.split(",") if name]
            entries.append(CgroupEntry(hierarchy_id=int(hierarchy), controllers=names, path=path))
    return entries


def _optional(read: Callable[[], T]) -> T | None:
    try:
        return read()
    except (psutil.AccessDenied, psutil.ZombieProcess):
        return None


def _parent_name(ppid: int | None) -> str | None:
    if not ppid:
        return None  # pid 1 and kernel threads have ppid 0: no parent process
    try:
        return psutil.Process(ppid).name()
    except psutil.Error:
        return None


def _capped_cmdline(cmdline: list[str] | None) -> tuple[list[str] | None, bool]:
    if cmdline is None:
        return None, False
    capped = [arg[:MAX_ARG_CHARS] for arg in cmdline[:MAX_CMDLINE_ARGS]]
    is_truncated = len(cmdline) > MAX_CMDLINE_ARGS or any(
        len(arg) > MAX_ARG_CHARS for arg in cmdline
    )
    return capped, is_truncated


def _ids(read: Callable[[], tuple[int, int, int]]) -> IdSet | None:
    ids = _optional(read)
    if ids is None:
        return None
    real, effective, saved = ids  # puids/pgids are (real, effective, saved) everywhere
    return IdSet(real=real, effective=effective, saved=saved)


def _memory(process: psutil.Process) -> MemoryInfo | None:
    memory = _optional(process.memory_info)
    if memory is None:
        return None
    return MemoryInfo(
        rss_bytes=memory.rss,
        vms_bytes=memory.vms,
        shared_bytes=memory.shared,
        text_bytes=memory.text,
        data_bytes=memory.data,
        percent=round(100 * memory.rss / psutil.virtual_memory().total, 2),
    )


def _cpu_times(process: psutil.Process) -> CpuTimes | None:
    times = _optional(process.cpu_times)
    if times is None:
        return None
    return CpuTimes(
        user_s=times.user,
        system_s=times.system,
        children_user_s=times.children_user,
        children_system_s=times.children_system,
        iowait_s=times.iowait,
    )
