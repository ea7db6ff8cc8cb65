"""The proc tool: list, inspect and signal the host's processes (psutil, /proc).

Every read of ``/proc`` runs in a worker thread: on a busy host one pass over
thousands of processes takes long enough to stall every agent.
"""

from __future__ import annotations

import asyncio
from collections.abc import Collection

from sysward.tools.proc.detail import read_info
from sysward.tools.proc.listing import list_processes
from sysward.tools.proc.models import (
    InfoArgs,
    ListArgs,
    ProcessInfo,
    ProcessList,
    ProcessTree,
    SignalArgs,
    SignalSent,
    TreeArgs,
)
from sysward.tools.proc.signals import send_signal
from sysward.tools.proc.tree import read_tree
from sysward.tools.tool import Effect, Tool, action


class ProcTool(Tool):
    """Inspect the host's processes (list, details, tree) and send them signals.

    Pid 1, process groups, the sysward daemon and its ancestors can never be
    signalled. Process environments are never shown: they hold secrets.
    """

    name = "proc"

    def __init__(self, protected_pids: Collection[int] = ()) -> None:
        self.protected_pids = frozenset(protected_pids)

    @action(effect=Effect.READ)
    async def list(self, args: ListArgs) -> ProcessList:
        """Running processes with cpu and memory use, filtered by name or user and sorted.

        cpu_percent is measured over a 0.15 s sample, as a percentage of one CPU.
        """
        return await list_processes(args)

    @action(effect=Effect.READ)
    async def info(self, args: InfoArgs) -> ProcessInfo:
        """Details of one process: command line, owner, parent and children, memory, cpu
        times, open files and connections counts, cgroups (not its environment)."""
        return await asyncio.to_thread(read_info, args.pid)

    @action(effect=Effect.READ)
    async def tree(self, args: TreeArgs) -> ProcessTree:
        """The process tree below a pid (default 1), with names, depth- and size-capped."""
        return await asyncio.to_thread(read_tree, args)

    @action(effect=Effect.WRITE)
    async def signal(self, args: SignalArgs) -> SignalSent:
        """Send a signal (by name) to one process; after TERM/KILL/INT/QUIT wait up to
        wait_s for it to exit, and report whether it is still alive."""
        return await send_signal(args, self.protected_pids)
