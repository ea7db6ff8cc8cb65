"""The path trigger source: changes under a path, seen through the inotify tool's watches.

The source reuses the inotify tool (one private instance per run) rather than a
second inotify implementation, so recursive watching, new-directory listings and
kernel limits behave exactly as the tool's do.
"""

from __future__ import annotations

import logging

from sysward.config import PathTrigger
from sysward.tools.inotify import InotifyEventOut, InotifyTool
from sysward.tools.inotify.models import MAX_POLL_LIMIT, PollArgs, WatchArgs
from sysward.tools.tool import ToolFailed
from sysward.triggers.source import Emit, SourceEvent, SourceUnavailable, clip

# The tool hands every event to on_event *and* buffers it for inotify.poll. The source
# only needs the callback; the buffer is drained by the gone-watching poll below, and
# this cap keeps it tiny even when a storm outpaces that poll.
MAX_BUFFERED_EVENTS = 16
# The poll is only how the source learns the path is gone; its wait is bounded so a
# wakeup the tool never sends cannot hang the source forever.
GONE_POLL_TIMEOUT_S = 30.0

_log = logging.getLogger(__name__)


class PathSource:
    """Watches a PathTrigger's path and emits one SourceEvent per change under it."""

    def __init__(self, settings: PathTrigger) -> None:
        self.settings = settings
        # The running watch's tool; None outside run(). Tests read its buffer through it.
        self.tool: InotifyTool | None = None
        self._emit: Emit | None = None

    async def run(self, emit: Emit) -> None:
        """Watch until cancelled; SourceUnavailable if the path cannot be watched or goes away."""
        tool = InotifyTool(
            on_event=self._on_event, max_watches=1, max_buffered_events=MAX_BUFFERED_EVENTS
        )
        self.tool, self._emit = tool, emit
        try:
            watch_id = await self._start(tool)
            await self._wait_until_gone(tool, watch_id)
        finally:
            self.tool, self._emit = None, None
            await tool.aclose()

    async def _start(self, tool: InotifyTool) -> str:
        args = WatchArgs(
            path=str(self.settings.path),
            events=list(self.settings.events),
            recursive=self.settings.recursive,
        )
        try:
            started = await tool.watch(args)
        except ToolFailed as exc:
            raise SourceUnavailable(exc.message) from exc
        if not started.is_complete:
            _log.warning(
                "path trigger: some directories under %s cannot be watched (a limit or an error)",
                started.path,
            )
        return started.watch_id

    async def _wait_until_gone(self, tool: InotifyTool, watch_id: str) -> None:
        poll = PollArgs(watch_id=watch_id, timeout_s=GONE_POLL_TIMEOUT_S, limit=MAX_POLL_LIMIT)
        while True:
            try:
                polled = await tool.poll(poll)
            except ToolFailed as exc:
                raise SourceUnavailable(f"the watch on {self.settings.path} ended: {exc}") from exc
            if polled.overflow:
                _log.warning(
                    "path trigger: the kernel's inotify queue overflowed; changes under %s "
                    "were lost (fs.inotify.max_queued_events)",
                    self.settings.path,
                )
            if polled.gone:
                raise SourceUnavailable(
                    f"{self.settings.path} was deleted or unmounted; there is nothing left to watch"
                )

    def _on_event(self, event: InotifyEventOut) -> None:
        if self._emit is None:
            return  # an event read while the run was ending
        self._emit(
            SourceEvent(
                key=None,
                fields={
                    "path": clip(event.path),
                    "kinds": ",".join(event.kinds),
                    "is_dir": "true" if event.is_dir else "false",
                    "watched": clip(str(self.settings.path)),
                },
            )
        )
