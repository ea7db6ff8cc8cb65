"""Every change an inotify watch sees, as a durable `tool.inotify.event` in the log.

The inotify tool calls `record` from its fd's reader callback on the event
loop, so recording never waits: it puts the event on a bounded queue and one
task owned by the recorder appends what is queued, in batches. When the queue
is full an event is dropped and counted, and once the backlog is written one
`dropped` event says how many were lost. The agent that created a watch is
learnt from the log itself (its `tool.inotify` watch result).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import PurePath

from pydantic import BaseModel, ConfigDict, JsonValue, ValidationError

from sysward.agents.payloads import ToolFinished
from sysward.errors import SyswardError
from sysward.events import topics
from sysward.events.log import EventLog
from sysward.events.record import Event, NewEvent
from sysward.tools.inotify.models import InotifyEventOut
from sysward.tools.result import ToolOk

SOURCE = "sysward.tools.inotify"
INOTIFY_RESULT_TOPIC = topics.tool_topic("inotify")
DEFAULT_QUEUE_SIZE = 4096
MAX_BATCH = 512
# At shutdown the backlog gets this long to reach the log; the rest is counted as dropped.
FLUSH_TIMEOUT_S = 5.0

_log = logging.getLogger(__name__)


class WatchEventSeen(BaseModel):
    """The `data` of a `tool.inotify.event` of type `changed`: one change a watch saw."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    watch_id: str
    path: str
    name: str | None
    kinds: list[str]
    is_dir: bool
    cookie: int | None
    synthetic: bool
    read_at: str
    agent: str | None


class WatchEventsDropped(BaseModel):
    """The `data` of a `tool.inotify.event` of type `dropped`: changes that were not logged."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    dropped: int
    reason: str


@dataclass(frozen=True, slots=True)
class WatchOwner:
    """Who created a watch, and on which path."""

    agent: str | None
    path: str


class WatchEventRecorder:
    """Appends the inotify tool's events to the log without ever blocking its reader."""

    def __init__(self, *, queue_size: int = DEFAULT_QUEUE_SIZE) -> None:
        self._queue: asyncio.Queue[InotifyEventOut] = asyncio.Queue(maxsize=queue_size)
        self._owners: dict[str, WatchOwner] = {}
        self._dropped = 0
        self._is_open = False
        self.recorded = 0
        self.dropped_total = 0

    def record(self, event: InotifyEventOut) -> None:
        """The tool's `on_event` callback: queue the event, or count it as dropped."""
        if not self._is_open:
            self._count_dropped(1)
            return
        try:
            self._queue.put_nowait(event)
        except asyncio.QueueFull:
            self._count_dropped(1)

    @contextlib.asynccontextmanager
    async def running(self, log: EventLog) -> AsyncIterator[None]:
        """Record into `log` for the duration of the block; then flush (bounded) and stop."""
        remove_listener = log.add_listener(self._learn_owners)
        self._is_open = True
        task = asyncio.create_task(self._append_forever(log), name="inotify-events")
        try:
            yield
        finally:
            self._is_open = False
            remove_listener()
            await self._stop(task, log)

    async def _stop(self, task: asyncio.Task[None], log: EventLog) -> None:
        try:
            async with asyncio.timeout(FLUSH_TIMEOUT_S):
                await self._queue.join()
        except TimeoutError:
            _log.warning("inotify events still queued at shutdown were not logged")
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        self._count_dropped(self._queue.qsize())
        await self._append_dropped(log, reason="daemon stopping")

    async def _append_forever(self, log: EventLog) -> None:
        while True:
            batch = [await self._queue.get()]
            while len(batch) < MAX_BATCH and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            try:
                await self._append(log, batch)
            finally:
                for _ in batch:
                    self._queue.task_done()

    async def _append(self, log: EventLog, batch: Sequence[InotifyEventOut]) -> None:
        drafts = [self._draft(event) for event in batch]
        try:
            await log.append_many(drafts)
        except SyswardError as exc:  # a full disk must not end the recording
            _log.error("cannot log %d inotify events: %s", len(drafts), exc)
            self._count_dropped(len(drafts))
            return
        self.recorded += len(drafts)
        await self._append_dropped(log, reason="the queue of events to log was full")

    async def _append_dropped(self, log: EventLog, *, reason: str) -> None:
        if self._dropped == 0:
            return
        count, self._dropped = self._dropped, 0
        data = WatchEventsDropped(dropped=count, reason=reason).model_dump(mode="json")
        draft = NewEvent(topic=topics.TOOL_INOTIFY_EVENT, type="dropped", source=SOURCE, data=data)
        try:
            await log.append(draft)
        except SyswardError as exc:
            _log.error("cannot log that %d inotify events were dropped: %s", count, exc)

    def _draft(self, event: InotifyEventOut) -> NewEvent:
        owner = self._owners.get(event.watch_id)
        seen = WatchEventSeen(
            watch_id=event.watch_id,
            path=event.path,
            name=_name_within(owner.path, event.path) if owner else None,
            kinds=list(event.kinds),
            is_dir=event.is_dir,
            cookie=event.cookie,
            synthetic=event.synthetic,
            read_at=event.ts.isoformat(),
            agent=owner.agent if owner else None,
        )
        data: dict[str, JsonValue] = seen.model_dump(mode="json")
        return NewEvent(topic=topics.TOOL_INOTIFY_EVENT, type="changed", source=SOURCE, data=data)

    def _count_dropped(self, count: int) -> None:
        self._dropped += count
        self.dropped_total += count

    def _learn_owners(self, events: Sequence[Event]) -> None:
        for event in events:
            if event.topic == INOTIFY_RESULT_TOPIC:
                owner = _watch_started(event)
                if owner is not None:
                    self._owners[owner[0]] = owner[1]


def _watch_started(event: Event) -> tuple[str, WatchOwner] | None:
    """(watch id, owner) from a successful `inotify watch` result event, else None."""
    try:
        finished = ToolFinished.model_validate(event.data)
    except ValidationError:
        return None
    result = finished.result
    if finished.action != "watch" or not isinstance(result, ToolOk):
        return None
    output = result.output
    if not isinstance(output, dict):
        return None
    watch_id, path = output.get("watch_id"), output.get("path")
    if not isinstance(watch_id, str) or not isinstance(path, str):
        return None
    return watch_id, WatchOwner(agent=event.agent, path=path)


def _name_within(root: str, path: str) -> str:
    """`path` relative to the watched path; empty for the watched path itself."""
    if path == root:
        return ""
    prefix = root.rstrip(os.sep) + os.sep
    return path[len(prefix) :] if path.startswith(prefix) else PurePath(path).name
