"""``proc.tree``: the descendants of one process, breadth-first (blocking; run it in a thread).

The tree is built from one snapshot of every process's (pid, ppid, name), so
it costs one pass over ``/proc`` however deep it goes. Breadth-first order
means the node limit drops the deepest, most distant processes first.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

import psutil

from sysward.tools.proc.detail import not_found
from sysward.tools.proc.models import ProcessTree, TreeArgs, TreeNode


@dataclass
class _Draft:
    """A node while the tree is being built; frozen into a TreeNode at the end."""

    pid: int
    name: str | None
    children: list[_Draft] = field(default_factory=list)
    hidden_children: int = 0

    def freeze(self) -> TreeNode:
        return TreeNode(
            pid=self.pid,
            name=self.name,
            children=[child.freeze() for child in self.children],
            hidden_children=self.hidden_children,
        )


@dataclass
class _Snapshot:
    """Every process's name and children at one moment."""

    names: dict[int, str | None] = field(default_factory=dict)
    children: dict[int, list[int]] = field(default_factory=dict)


def read_tree(args: TreeArgs) -> ProcessTree:
    """The tree below ``args.pid``; raises ``ToolFailed("not_found")`` if it does not exist."""
    snapshot = _take_snapshot()
    if args.pid not in snapshot.names:
        raise not_found(args.pid)
    root = _Draft(args.pid, snapshot.names[args.pid])
    queue: deque[tuple[_Draft, int]] = deque([(root, 0)])
    seen, truncated = {args.pid}, False
    while queue:
        node, depth = queue.popleft()
        # A pid recycled between reads could point back up the tree: skip what was seen.
        kids = [pid for pid in snapshot.children.get(node.pid, []) if pid not in seen]
        for pid in kids:
            if depth >= args.max_depth or len(seen) >= args.limit:
                node.hidden_children += 1
                truncated = True
                continue
            seen.add(pid)
            child = _Draft(pid, snapshot.names[pid])
            node.children.append(child)
            queue.append((child, depth + 1))
    return ProcessTree(root=root.freeze(), nodes=len(seen), truncated=truncated)


def _take_snapshot() -> _Snapshot:
    snapshot = _Snapshot()
    for pid in psutil.pids():
        try:
            process = psutil.Process(pid)
            with process.oneshot():
                ppid, name = process.ppid(), _name(process)
        except psutil.NoSuchProcess:
            continue  # exited since psutil.pids()
        snapshot.names[pid] = name
        snapshot.children.setdefault(ppid, []).append(pid)
    return snapshot


def _name(process: psutil.Process) -> str | None:
    try:
        return process.name()
    except (psutil.AccessDenied, psutil.ZombieProcess):
        return None
