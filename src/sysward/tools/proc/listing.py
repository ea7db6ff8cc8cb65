"""``proc.list``: one pass over every process, with cpu measured over one short sample.

``cpu_percent`` needs two readings of a process's cpu time: every process is
read once, the loop sleeps ``CPU_SAMPLE_S`` (no thread is held meanwhile),
then every process is read again. The figure is a percentage of one CPU, so a
busy multi-threaded process can show more than 100.
"""

from __future__ import annotations

import asyncio
import fnmatch
from collections.abc import Callable

import psutil

from sysward.tools.proc.models import ListArgs, ProcessEntry, ProcessList, SortKey, iso_utc

CPU_SAMPLE_S = 0.15
CMDLINE_MAX_CHARS = 256
# The registry refuses results over 64 KiB of JSON; stop adding processes well before.
MAX_OUTPUT_BYTES = 48 * 1024

_ENTRY_ATTRS = [
    "ppid",
    "status",
    "cpu_percent",
    "memory_info",
    "num_threads",
    "create_time",
    "cmdline",
]


async def list_processes(args: ListArgs) -> ProcessList:
    """Every process that matches ``args``, sorted and capped."""
    processes = await asyncio.to_thread(_prime_cpu_counters)
    await asyncio.sleep(CPU_SAMPLE_S)
    matched = await asyncio.to_thread(_read_matching, processes, args)
    matched.sort(key=_SORT_KEYS[args.sort_by])
    returned = _within_budget(matched[: args.limit])
    return ProcessList(
        processes=returned,
        total=len(matched),
        truncated=len(returned) < len(matched),
        cpu_sample_s=CPU_SAMPLE_S,
        cmdline_max_chars=CMDLINE_MAX_CHARS,
    )


def _prime_cpu_counters() -> list[psutil.Process]:
    # Fresh Process objects, not psutil.process_iter()'s shared cache, so two
    # concurrent listings do not reset each other's cpu baseline.
    processes = []
    for pid in psutil.pids():
        try:
            process = psutil.Process(pid)
        except psutil.NoSuchProcess:
            continue  # exited since psutil.pids()
        try:
            process.cpu_percent(None)
        except (psutil.AccessDenied, psutil.ZombieProcess):
            pass  # still listed; its cpu_percent will read as null
        except psutil.NoSuchProcess:
            continue
        processes.append(process)
    return processes


def _read_matching(processes: list[psutil.Process], args: ListArgs) -> list[ProcessEntry]:
    total_memory = psutil.virtual_memory().total
    entries = []
    for process in processes:
        try:
            entry = _read_entry(process, args, total_memory)
        except psutil.NoSuchProcess:
            continue  # exited during the sample: it is no longer a process to list
        if entry is not None:
            entries.append(entry)
    return entries


def _read_entry(process: psutil.Process, args: ListArgs, total_memory: int) -> ProcessEntry | None:
    with process.oneshot():
        head = process.as_dict(["name", "username"], ad_value=None)
        if not _matches(head.get("name"), head.get("username"), args):
            return None
        info = process.as_dict(_ENTRY_ATTRS, ad_value=None)
    memory = info["memory_info"]
    cmdline = info["cmdline"]
    return ProcessEntry(
        pid=process.pid,
        ppid=info["ppid"],
        name=head["name"],
        user=head["username"],
        status=info["status"],
        cpu_percent=info["cpu_percent"],
        rss_bytes=None if memory is None else memory.rss,
        memory_percent=None if memory is None else round(100 * memory.rss / total_memory, 2),
        num_threads=info["num_threads"],
        create_time=iso_utc(info["create_time"]),
        cmdline=None if cmdline is None else " ".join(cmdline)[:CMDLINE_MAX_CHARS],
    )


def _matches(name: str | None, user: str | None, args: ListArgs) -> bool:
    if args.user is not None and user != args.user:
        return False
    if args.name is None:
        return True
    if name is None:
        return False
    pattern, text = args.name.lower(), name.lower()
    if any(char in pattern for char in "*?["):
        return fnmatch.fnmatchcase(text, pattern)
    return pattern in text


def _by_cpu(entry: ProcessEntry) -> tuple[bool, float, int]:
    return (entry.cpu_percent is None, -(entry.cpu_percent or 0.0), entry.pid)


def _by_memory(entry: ProcessEntry) -> tuple[bool, float, int]:
    return (entry.rss_bytes is None, -(entry.rss_bytes or 0), entry.pid)


def _by_pid(entry: ProcessEntry) -> tuple[bool, float, int]:
    return (False, 0.0, entry.pid)


def _by_name(entry: ProcessEntry) -> tuple[bool, str, int]:
    return (entry.name is None, (entry.name or "").lower(), entry.pid)


_SORT_KEYS: dict[SortKey, Callable[[ProcessEntry], tuple[bool, float | str, int]]] = {
    "cpu": _by_cpu,
    "memory": _by_memory,
    "pid": _by_pid,
    "name": _by_name,
}


def _within_budget(entries: list[ProcessEntry]) -> list[ProcessEntry]:
    kept, size = [], 0
    for entry in entries:
        size += len(entry.model_dump_json()) + 1
        if size > MAX_OUTPUT_BYTES:
            break
        kept.append(entry)
    return kept
