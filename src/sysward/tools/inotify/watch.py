"""One watch a model asked for: its settings, its bounded event buffer and its flags."""

from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime

from inotify_simple import flags

from sysward.tools.inotify.models import (
    EVENT_MASKS,
    EventName,
    InotifyEventOut,
    WatchInfo,
    display_path,
)

SELF_BITS = flags.DELETE_SELF | flags.MOVE_SELF | flags.UNMOUNT


@dataclass(eq=False)
class Watch:
    """A watch id's state; only the event loop's thread touches it."""

    watch_id: str
    path: str
    events: list[EventName]
    recursive: bool
    created: datetime
    buffer: deque[InotifyEventOut]
    wds: set[int] = field(default_factory=set)
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    dropped: int = 0
    overflow: bool = False
    gone: bool = False
    is_complete: bool = True

    @classmethod
    def new(
        cls,
        watch_id: str,
        path: str,
        events: list[EventName],
        *,
        recursive: bool,
        created: datetime,
        max_buffered: int,
    ) -> Watch:
        """A watch with an empty buffer that keeps the newest ``max_buffered`` events."""
        return cls(
            watch_id=watch_id,
            path=path,
            events=events,
            recursive=recursive,
            created=created,
            buffer=deque(maxlen=max_buffered),
        )

    @property
    def mask(self) -> int:
        """The inotify bits the model asked for."""
        mask = 0
        for name in self.events:
            mask |= EVENT_MASKS[name]
        return mask

    def wants(self, mask: int, *, is_root: bool) -> bool:
        """Whether an event with ``mask`` on one of this watch's paths is reported."""
        if is_root and mask & flags.UNMOUNT:
            return True
        bits = self.mask if is_root else self.mask & ~SELF_BITS
        return bool(mask & bits)

    def deliver(self, event: InotifyEventOut) -> None:
        """Buffer an event, discarding the oldest one when the buffer is full."""
        if len(self.buffer) == self.buffer.maxlen:
            self.dropped += 1
        self.buffer.append(event)
        self.ready.set()

    def wake(self) -> None:
        """Let pollers waiting on this watch return (it changed state)."""
        self.ready.set()

    async def wait(self, timeout_s: float) -> None:
        """Wait up to ``timeout_s`` for an event when none is buffered."""
        if self.buffer or self.gone or timeout_s <= 0:
            return
        self.ready.clear()
        try:
            async with asyncio.timeout(timeout_s):
                await self.ready.wait()
        except TimeoutError:
            return  # nothing happened in time: the poll returns empty

    def take(self, limit: int, max_bytes: int) -> list[InotifyEventOut]:
        """Remove and return the oldest events: at most ``limit``, within ``max_bytes`` of JSON."""
        taken: list[InotifyEventOut] = []
        budget = max_bytes
        while self.buffer and len(taken) < limit:
            size = len(self.buffer[0].model_dump_json()) + 1
            if taken and size > budget:
                break
            budget -= size
            taken.append(self.buffer.popleft())
        return taken

    def info(self) -> WatchInfo:
        """What inotify.list reports about this watch."""
        return WatchInfo(
            watch_id=self.watch_id,
            path=display_path(self.path),
            events=list(self.events),
            recursive=self.recursive,
            created=self.created,
            buffered=len(self.buffer),
            kernel_watches=len(self.wds),
            is_complete=self.is_complete,
            overflow=self.overflow,
            dropped=self.dropped,
            gone=self.gone,
        )
