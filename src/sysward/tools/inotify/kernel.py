"""The kernel side: one inotify fd, its watch descriptors and which watches share each one.

The kernel gives one watch descriptor (wd) per inode and inotify fd, so two
watch ids on the same directory (or a recursive watch overlapping another)
share a wd. Each wd therefore keeps the set of watch ids subscribed to it and
is removed from the kernel only when the last one leaves. Masks are added with
IN_MASK_ADD so one subscriber never narrows another's; each watch filters
what it asked for. Loop-thread only: the reader and the actions share it.
"""

from __future__ import annotations

import errno
import os
from dataclasses import dataclass, field

from inotify_simple import INotify, flags

from sysward.tools.tool import ToolFailed


class KernelWatchCapReached(Exception):
    """Adding another kernel watch would pass the tool's cap."""


@dataclass
class KernelWatch:
    """One wd: the path it was last added under and its subscribers (watch id -> is_root)."""

    path: str
    subscribers: dict[str, bool] = field(default_factory=dict)


class KernelWatches:
    """The wd table of one inotify fd, with a cap on how many wds it may hold."""

    def __init__(self, inotify: INotify, max_watches: int) -> None:
        self.inotify = inotify
        self.max_watches = max_watches
        self._by_wd: dict[int, KernelWatch] = {}

    def __len__(self) -> int:
        return len(self._by_wd)

    def get(self, wd: int) -> KernelWatch | None:
        """The wd's entry, or None once it was removed."""
        return self._by_wd.get(wd)

    def subscribe(self, watch_id: str, path: str, mask: int, *, is_root: bool) -> int:
        """Watch ``path`` for ``watch_id``; raises OSError or ``KernelWatchCapReached``."""
        if len(self._by_wd) >= self.max_watches:
            raise KernelWatchCapReached(path)
        wd: int = self.inotify.add_watch(path, mask | flags.MASK_ADD)
        entry = self._by_wd.setdefault(wd, KernelWatch(path))
        entry.path = path  # the same inode, possibly reached under a new name
        entry.subscribers[watch_id] = entry.subscribers.get(watch_id, False) or is_root
        return wd

    def unsubscribe(self, watch_id: str, wd: int) -> bool:
        """Drop ``watch_id`` from ``wd``; removes the kernel watch when nobody is left."""
        entry = self._by_wd.get(wd)
        if entry is None or entry.subscribers.pop(watch_id, None) is None:
            return False
        if not entry.subscribers:
            del self._by_wd[wd]
            try:
                self.inotify.rm_watch(wd)
            except OSError as exc:
                # EINVAL: the kernel already dropped it (path deleted); IN_IGNORED is on its way.
                if exc.errno != errno.EINVAL:
                    raise
        return True

    def forget(self, wd: int) -> KernelWatch | None:
        """The kernel removed ``wd`` (IN_IGNORED): drop it and return its last entry."""
        return self._by_wd.pop(wd, None)


def watch_failure(exc: OSError, path: str) -> ToolFailed:
    """The error a model sees when a path cannot be watched."""
    shown = path[:256]
    if exc.errno in (errno.ENOENT, errno.ENOTDIR):
        return ToolFailed("not_found", f"{shown!r} does not exist", {"path": shown})
    if exc.errno in (errno.EACCES, errno.EPERM):
        return ToolFailed("permission_denied", f"cannot watch {shown!r}: {exc.strerror}")
    if exc.errno == errno.ENOSPC:
        return ToolFailed(
            "limit_reached",
            "the kernel's inotify watch limit (fs.inotify.max_user_watches) is reached; "
            "stop other watches or ask the operator to raise the sysctl",
        )
    return ToolFailed(
        "unavailable",
        f"cannot watch {shown!r}: {os.strerror(exc.errno or 0)}",
        {"errno": exc.errno},
    )
