"""From raw inotify events to each watch's buffer, keeping recursive watches' trees current.

``route`` runs in the fd's reader callback on the event loop. For a recursive
watch, a directory created or moved in is watched at once (before the next
event is read) and handed back to the tool, which lists it in a thread to
catch what appeared before the watch was in place; a directory moved out
loses its watches. IN_IGNORED (the kernel dropped a wd: path deleted or
unmounted) marks a watch ``gone`` when it was the watched path itself.
"""

from __future__ import annotations

import errno
import logging
import os
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Protocol

from inotify_simple import flags

from sysward.tools.inotify.kernel import KernelWatchCapReached, KernelWatches
from sysward.tools.inotify.models import InotifyEventOut, display_path, kinds_of
from sysward.tools.inotify.tree import child_path
from sysward.tools.inotify.watch import SELF_BITS, Watch

# Recursive watches need to see directories come and go, whatever events were asked for.
TREE_BITS = flags.CREATE | flags.MOVED_FROM | flags.MOVED_TO
# Subdirectories are watched by name after a listing: refuse a name that became a file
# or a symlink in between.
CHILD_FLAGS = flags.ONLYDIR | flags.DONT_FOLLOW

EventCallback = Callable[[InotifyEventOut], None]


class RawEvent(Protocol):
    """An event as ``inotify_simple.parse_events`` decodes it."""

    @property
    def wd(self) -> int: ...
    @property
    def mask(self) -> int: ...
    @property
    def cookie(self) -> int: ...
    @property
    def name(self) -> str: ...


_log = logging.getLogger(__name__)


class EventRouter:
    """The watches of one inotify fd and the routing of its events to them."""

    def __init__(self, kernel: KernelWatches, on_event: EventCallback | None) -> None:
        self.kernel = kernel
        self.watches: dict[str, Watch] = {}
        self._on_event = on_event

    def subscribe(self, watch: Watch, path: str, *, is_root: bool) -> None:
        """Add a kernel watch on ``path`` for ``watch``; raises OSError or the cap error."""
        mask = watch.mask if is_root else watch.mask & ~SELF_BITS
        if watch.recursive:
            mask |= TREE_BITS
        if not is_root:
            mask |= CHILD_FLAGS
        watch.wds.add(self.kernel.subscribe(watch.watch_id, path, mask, is_root=is_root))

    def subscribe_child(self, watch: Watch, path: str) -> bool:
        """Watch a subdirectory of a recursive watch; False (and noted) when it cannot be."""
        try:
            self.subscribe(watch, path, is_root=False)
        except KernelWatchCapReached:
            watch.is_complete = False
            return False
        except OSError as exc:
            # A directory deleted or replaced before it could be watched is no loss.
            if exc.errno not in (errno.ENOENT, errno.ENOTDIR):
                watch.is_complete = False
            return False
        return True

    def remove(self, watch: Watch) -> int:
        """Forget a watch and release its kernel watches; returns how many it held."""
        removed = sum(self.kernel.unsubscribe(watch.watch_id, wd) for wd in list(watch.wds))
        watch.wds.clear()
        self.watches.pop(watch.watch_id, None)
        watch.wake()
        return removed

    def route(self, raw_events: Iterable[RawEvent]) -> list[tuple[Watch, str]]:
        """Deliver raw events; returns (watch, directory) pairs whose contents need a listing."""
        now = datetime.now(UTC)
        adopted: list[tuple[Watch, str]] = []
        for raw in raw_events:
            if raw.mask & flags.Q_OVERFLOW:
                self._overflowed()
                continue
            entry = self.kernel.get(raw.wd)
            if entry is None:
                continue  # a wd removed a moment ago; its last events are stale
            path = child_path(entry.path, raw.name) if raw.name else entry.path
            for watch_id, is_root in list(entry.subscribers.items()):
                watch = self.watches.get(watch_id)
                if watch is None:
                    continue
                if watch.wants(raw.mask, is_root=is_root):
                    self.emit(watch, _event(watch, raw, path, now))
                if self._follow_tree(watch, raw.mask, path):
                    adopted.append((watch, path))
            if raw.mask & flags.IGNORED:
                self._forget(raw.wd)
        return adopted

    def emit(self, watch: Watch, event: InotifyEventOut) -> None:
        """Buffer an event for its watch and hand it to the callback."""
        watch.deliver(event)
        if self._on_event is None:
            return
        try:
            self._on_event(event)
        except Exception:  # the daemon's callback must not cost the other events their delivery
            _log.exception("inotify on_event callback failed for watch %s", watch.watch_id)

    def emit_found(self, watch: Watch, path: str, *, is_dir: bool) -> None:
        """Report an entry a listing found in a newly watched directory, as a create."""
        if watch.wants(flags.CREATE, is_root=False):
            self.emit(
                watch,
                InotifyEventOut(
                    watch_id=watch.watch_id,
                    ts=datetime.now(UTC),
                    path=display_path(path),
                    kinds=["create"],
                    is_dir=is_dir,
                    cookie=None,
                    synthetic=True,
                ),
            )

    def _follow_tree(self, watch: Watch, mask: int, path: str) -> bool:
        """Keep a recursive watch's tree current; True when ``path`` was newly watched."""
        if not (watch.recursive and mask & flags.ISDIR):
            return False
        if mask & (flags.CREATE | flags.MOVED_TO):
            return self.subscribe_child(watch, path)
        if mask & flags.MOVED_FROM:
            self._drop_subtree(watch, path)
        return False

    def _drop_subtree(self, watch: Watch, directory: str) -> None:
        prefix = directory + os.sep
        for wd in list(watch.wds):
            entry = self.kernel.get(wd)
            if entry is None or entry.subscribers.get(watch.watch_id):
                continue  # gone already, or the watched path itself
            if entry.path == directory or entry.path.startswith(prefix):
                self.kernel.unsubscribe(watch.watch_id, wd)
                watch.wds.discard(wd)

    def _forget(self, wd: int) -> None:
        entry = self.kernel.forget(wd)
        if entry is None:
            return
        for watch_id, is_root in entry.subscribers.items():
            watch = self.watches.get(watch_id)
            if watch is None:
                continue
            watch.wds.discard(wd)
            if is_root:
                watch.gone = True
                watch.wake()

    def _overflowed(self) -> None:
        for watch in self.watches.values():
            watch.overflow = True
            watch.wake()


def _event(watch: Watch, raw: RawEvent, path: str, now: datetime) -> InotifyEventOut:
    return InotifyEventOut(
        watch_id=watch.watch_id,
        ts=now,
        path=display_path(path),
        kinds=kinds_of(raw.mask),
        is_dir=bool(raw.mask & flags.ISDIR),
        cookie=raw.cookie or None,
        synthetic=False,
    )
