"""The inotify tool: watch paths for changes and poll the events.

Watches are state held by the tool instance: one inotify fd, registered with
the event loop as a reader, feeds a bounded buffer per watch. ``poll`` takes
from that buffer, waiting (bounded) when it is empty. The daemon may pass
``on_event`` to see every event as it is buffered (it logs them as
``tool.inotify.event``). Watches do not survive a daemon restart.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
from collections import deque
from collections.abc import Coroutine
from datetime import UTC, datetime

from inotify_simple import INotify, parse_events

from sysward.tools.inotify.kernel import KernelWatchCapReached, KernelWatches, watch_failure
from sysward.tools.inotify.models import (
    EventName,
    PollArgs,
    Polled,
    StopArgs,
    Stopped,
    WatchArgs,
    WatchList,
    WatchStarted,
    display_path,
)
from sysward.tools.inotify.router import EventCallback, EventRouter
from sysward.tools.inotify.tree import Listing, child_path, list_directory, resolve_existing
from sysward.tools.inotify.watch import Watch
from sysward.tools.tool import Effect, NoArgs, Tool, ToolFailed, action

DEFAULT_MAX_WATCHES = 64
DEFAULT_MAX_KERNEL_WATCHES = 8192
DEFAULT_MAX_BUFFERED_EVENTS = 10_000
DEFAULT_SCAN_TIMEOUT_S = 10.0
# A poll answer stays under this many bytes of JSON (the registry caps results at 64 KiB);
# what does not fit stays buffered for the next poll instead of being lost.
MAX_POLL_BYTES = 48 * 1024
# One read takes whatever is queued, up to this much; a long queue is drained over
# several wakeups so the loop keeps serving others.
READ_BYTES = 64 * 1024
MAX_READS_PER_WAKEUP = 16

_log = logging.getLogger(__name__)


class InotifyTool(Tool):
    """Watch files and directories for changes (create, delete, modify, move, ...) and poll them.

    A watch lives in the daemon's memory until stopped or the daemon restarts;
    inotify.list shows the active ones.
    """

    name = "inotify"

    def __init__(
        self,
        *,
        on_event: EventCallback | None = None,
        max_watches: int = DEFAULT_MAX_WATCHES,
        max_kernel_watches: int = DEFAULT_MAX_KERNEL_WATCHES,
        max_buffered_events: int = DEFAULT_MAX_BUFFERED_EVENTS,
        scan_timeout_s: float = DEFAULT_SCAN_TIMEOUT_S,
    ) -> None:
        self.on_event = on_event
        self.max_watches = max_watches
        self.max_kernel_watches = max_kernel_watches
        self.max_buffered_events = max_buffered_events
        self.scan_timeout_s = scan_timeout_s
        self._inotify: INotify | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._router: EventRouter | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._is_closed = False

    @action(effect=Effect.WRITE)
    async def watch(self, args: WatchArgs) -> WatchStarted:
        """Start watching a path; returns the watch_id to poll. Recursive also covers subdirs."""
        self._open()  # fail fast once shut down, before touching the filesystem
        path, is_dir = await self._resolve(args.path)
        router = self._open()
        if args.recursive and not is_dir:
            raise ToolFailed("invalid_input", f"{path!r} is not a directory; recursive needs one")
        if len(router.watches) >= self.max_watches:
            raise ToolFailed(
                "limit_reached",
                f"{self.max_watches} watches are active, the limit; stop one with inotify.stop",
                {"max_watches": self.max_watches},
            )
        watch = Watch.new(
            self._new_id(router),
            path,
            _unique(args.events),
            recursive=args.recursive,
            created=datetime.now(UTC),
            max_buffered=self.max_buffered_events,
        )
        self._subscribe_root(router, watch)
        router.watches[watch.watch_id] = watch
        try:
            if args.recursive:
                await self._add_tree(watch, path, report_found=False)
        except BaseException:
            if not self._is_closed:
                router.remove(watch)  # the caller never learns this id: leave nothing behind
            raise
        self._open()  # shut down while listing: the watch is gone with the rest
        return WatchStarted(
            watch_id=watch.watch_id,
            path=display_path(path),
            events=watch.events,
            recursive=watch.recursive,
            kernel_watches=len(watch.wds),
            is_complete=watch.is_complete,
        )

    @action(effect=Effect.READ)
    async def poll(self, args: PollArgs) -> Polled:
        """Take buffered events of a watch, oldest first; wait up to timeout_s if there are none."""
        watch = self._get(args.watch_id)
        await watch.wait(args.timeout_s)
        events = watch.take(args.limit, MAX_POLL_BYTES)
        overflow, dropped = watch.overflow, watch.dropped
        watch.overflow, watch.dropped = False, 0
        return Polled(
            watch_id=watch.watch_id,
            events=events,
            remaining=len(watch.buffer),
            truncated=bool(watch.buffer),
            overflow=overflow,
            dropped=dropped,
            gone=watch.gone,
        )

    @action(effect=Effect.WRITE)
    async def stop(self, args: StopArgs) -> Stopped:
        """Stop a watch and discard its buffered events."""
        watch = self._get(args.watch_id)
        discarded = len(watch.buffer)
        removed = self._require_router().remove(watch)
        watch.buffer.clear()
        return Stopped(
            watch_id=watch.watch_id, kernel_watches_removed=removed, discarded_events=discarded
        )

    @action(effect=Effect.READ)
    async def list(self, args: NoArgs) -> WatchList:
        """Active watches: path, events, buffered count and state of each."""
        if self._router is None:
            return WatchList(watches=[])
        watches = sorted(self._router.watches.values(), key=lambda watch: watch.created)
        return WatchList(watches=[watch.info() for watch in watches])

    async def aclose(self) -> None:
        """Stop every watch, the background listings and the reader; close the inotify fd."""
        self._is_closed = True
        tasks = set(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._router is not None:
            for watch in self._router.watches.values():
                watch.wake()
            self._router.watches.clear()
        if self._inotify is not None and self._loop is not None:
            self._loop.remove_reader(self._inotify.fd)
            self._inotify.close()
        self._inotify, self._loop, self._router = None, None, None

    def _open(self) -> EventRouter:
        if self._is_closed:
            raise ToolFailed("unavailable", "the inotify tool is shut down (daemon stopping)")
        if self._router is not None:
            return self._router
        try:
            inotify = INotify(nonblocking=True)
        except OSError as exc:
            raise ToolFailed(
                "unavailable",
                f"cannot create an inotify instance ({exc.strerror}); the kernel limit is "
                "fs.inotify.max_user_instances",
            ) from exc
        self._loop = asyncio.get_running_loop()
        self._loop.add_reader(inotify.fd, self._on_readable)
        self._inotify = inotify
        self._router = EventRouter(KernelWatches(inotify, self.max_kernel_watches), self.on_event)
        return self._router

    def _require_router(self) -> EventRouter:
        if self._router is None:
            raise ToolFailed("unavailable", "the inotify tool is shut down (daemon stopping)")
        return self._router

    def _get(self, watch_id: str) -> Watch:
        if self._is_closed:
            raise ToolFailed("unavailable", "the inotify tool is shut down (daemon stopping)")
        watch = self._router.watches.get(watch_id) if self._router is not None else None
        if watch is None:
            raise ToolFailed(
                "not_found",
                f"no watch {watch_id!r}; inotify.list shows the active ones "
                "(watches end when the daemon restarts)",
                {"watch_id": watch_id},
            )
        return watch

    @staticmethod
    def _new_id(router: EventRouter) -> str:
        while (watch_id := f"w_{secrets.token_hex(4)}") in router.watches:
            continue
        return watch_id

    async def _resolve(self, path: str) -> tuple[str, bool]:
        try:
            async with asyncio.timeout(self.scan_timeout_s):
                return await asyncio.to_thread(resolve_existing, path)
        except TimeoutError as exc:
            raise ToolFailed("timeout", f"resolving {path[:256]!r} did not finish") from exc
        except RuntimeError as exc:  # a symlink loop
            raise ToolFailed("invalid_input", f"cannot resolve {path[:256]!r}: {exc}") from exc
        except OSError as exc:
            raise watch_failure(exc, path) from exc

    def _subscribe_root(self, router: EventRouter, watch: Watch) -> None:
        try:
            router.subscribe(watch, watch.path, is_root=True)
        except KernelWatchCapReached as exc:
            raise ToolFailed(
                "limit_reached",
                f"this tool holds {self.max_kernel_watches} kernel watches, the limit; "
                "stop a watch (recursive ones hold one per directory)",
                {"max_kernel_watches": self.max_kernel_watches},
            ) from exc
        except OSError as exc:
            raise watch_failure(exc, watch.path) from exc

    async def _add_tree(self, watch: Watch, top: str, *, report_found: bool) -> None:
        """Watch every directory below ``top`` (already watched), breadth first, up to the cap."""
        router = self._require_router()
        queue = deque([top])
        while queue:
            directory = queue.popleft()
            listing = await self._list(directory, include_files=report_found)
            if router.watches.get(watch.watch_id) is not watch:
                return  # stopped while listing
            if not listing.is_complete:
                watch.is_complete = False
            for name, is_dir in listing.entries:
                path = child_path(directory, name)
                if report_found:
                    router.emit_found(watch, path, is_dir=is_dir)
                if is_dir and router.subscribe_child(watch, path):
                    queue.append(path)

    async def _list(self, directory: str, *, include_files: bool) -> Listing:
        try:
            async with asyncio.timeout(self.scan_timeout_s):
                return await asyncio.to_thread(
                    list_directory, directory, include_files=include_files
                )
        except TimeoutError:
            return Listing([], is_complete=False)

    def _on_readable(self) -> None:
        if self._inotify is None or self._router is None:
            return
        for _ in range(MAX_READS_PER_WAKEUP):
            try:
                data = os.read(self._inotify.fd, READ_BYTES)
            except BlockingIOError:
                return
            if not data:
                return
            for watch, directory in self._router.route(parse_events(data)):
                self._spawn(self._add_tree(watch, directory, report_found=True))

    def _spawn(self, work: Coroutine[object, object, None]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            _log.error("inotify: listing a new directory failed", exc_info=task.exception())


def _unique(events: list[EventName]) -> list[EventName]:
    return list(dict.fromkeys(events))
