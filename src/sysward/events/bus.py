"""In-process pub/sub over the event log: topic patterns, bounded queues, replay.

The bus only ever sees committed events (it is a listener of the log), so a
subscriber never observes an event that could still be lost. A subscription
is a cursor over seq: it replays from LMDB until it reaches the events that
arrived live, then serves those, skipping any seq it already delivered.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator, Sequence
from types import TracebackType

from sysward.errors import SyswardError
from sysward.events.log import EventLog
from sysward.events.patterns import MATCH_ALL, TopicPattern
from sysward.events.query import EventQuery
from sysward.events.record import Event

DEFAULT_QUEUE_SIZE = 1024
REPLAY_PAGE_SIZE = 1000


class SubscriberDropped(SyswardError):
    """The subscriber fell too far behind the live stream and was dropped.

    `resume_after_seq` is the last seq it was given: subscribe again with
    `since=resume_after_seq` to continue with no gap.
    """

    def __init__(self, resume_after_seq: int) -> None:
        super().__init__(
            f"subscriber dropped: too slow for the live stream; "
            f"resubscribe with since={resume_after_seq} to continue"
        )
        self.resume_after_seq = resume_after_seq


class Subscription:
    """A stream of matching events. Iterate it; close it (or use `async with`)."""

    def __init__(
        self,
        bus: EventBus,
        pattern: TopicPattern,
        agent: str | None,
        cursor: int,
        replay_until: int,
        max_queue: int,
    ) -> None:
        self._bus = bus
        self.pattern = pattern
        self.agent = agent
        self._cursor = cursor  # every seq <= cursor was delivered, did not match or is in _replayed
        self._replay_until = replay_until  # seqs up to here must come from the log
        # Read from the log but not yet yielded. Kept here, not in a generator frame,
        # so `next()` and a new `async for` after a `break` lose none of them.
        self._replayed: deque[Event] = deque()
        self._queue: deque[Event] = deque()
        self._max_queue = max_queue
        self._wakeup = asyncio.Event()
        self._dropped = False
        self._closed = False

    @property
    def cursor(self) -> int:
        """The last seq this subscription accounted for."""
        return self._cursor

    def matches(self, event: Event) -> bool:
        return (self.agent is None or event.agent == self.agent) and self.pattern.matches(
            event.topic
        )

    def _offer(self, events: Sequence[Event]) -> None:
        """Called by the bus on each committed batch; never blocks."""
        for event in events:
            if not self.matches(event):
                continue
            if len(self._queue) < self._max_queue:
                self._queue.append(event)
            elif self._replay_until > self._cursor:
                # Still catching up from the log: read this part from the log too.
                self._queue.clear()
                self._replay_until = event.seq
            else:
                self._dropped = True
                self._queue.clear()
                self._bus._remove(self)
                break
        self._wakeup.set()

    def __aiter__(self) -> AsyncIterator[Event]:
        return self._events()

    async def _events(self) -> AsyncIterator[Event]:
        while not self._closed:
            if self._replayed:
                yield self._replayed.popleft()
                continue
            if self._replay_until > self._cursor:
                self._replayed.extend(await self._replay_page())
                continue
            if self._queue:
                event = self._queue.popleft()
                if event.seq > self._cursor:
                    self._cursor = event.seq
                    yield event
                continue
            if self._dropped:
                raise SubscriberDropped(self._cursor)
            self._wakeup.clear()
            await self._wakeup.wait()

    async def _replay_page(self) -> list[Event]:
        query = EventQuery(
            topic=self.pattern.text,
            agent=self.agent,
            after_seq=self._cursor,
            until_seq=self._replay_until,
            limit=REPLAY_PAGE_SIZE,
        )
        page = await self._bus.log.query(query)
        self._cursor = max(self._cursor, page.scanned_seq)
        return page.events

    async def next(self, timeout_s: float) -> Event:
        """The next event, waiting at most `timeout_s` (TimeoutError otherwise)."""
        async with asyncio.timeout(timeout_s):
            return await anext(aiter(self))

    def close(self) -> None:
        self._closed = True
        self._bus._remove(self)
        self._wakeup.set()

    async def __aenter__(self) -> Subscription:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class EventBus:
    """Fans committed events out to subscribers whose pattern matches."""

    def __init__(self, log: EventLog, *, queue_size: int = DEFAULT_QUEUE_SIZE) -> None:
        self.log = log
        self._queue_size = queue_size
        self._subscribers: list[Subscription] = []
        self._unlisten = log.add_listener(self._publish)

    @property
    def subscriber_count(self) -> int:
        return len(self._subscribers)

    def subscribe(
        self,
        pattern: str | TopicPattern = MATCH_ALL,
        *,
        agent: str | None = None,
        since: int | None = None,
        max_queue: int | None = None,
    ) -> Subscription:
        """Subscribe to events matching `pattern` (and `agent`).

        `since=None` gives only events committed from now on; `since=N` first
        replays every matching event with seq > N from the log, then goes live,
        with no gap and no duplicate.
        """
        compiled = pattern if isinstance(pattern, TopicPattern) else TopicPattern.parse(pattern)
        # Registration and reading last_seq happen in one synchronous step on the
        # loop, so no commit can slip between "replay up to here" and "live from here".
        live_from = self.log.last_seq
        # A `since` past the tail still means "nothing up to since": those seqs are skipped.
        cursor = live_from if since is None else since
        subscription = Subscription(
            self, compiled, agent, cursor, live_from, max_queue or self._queue_size
        )
        self._subscribers.append(subscription)
        return subscription

    def _publish(self, events: Sequence[Event]) -> None:
        for subscription in list(self._subscribers):
            subscription._offer(events)

    def _remove(self, subscription: Subscription) -> None:
        if subscription in self._subscribers:
            self._subscribers.remove(subscription)

    def close(self) -> None:
        for subscription in list(self._subscribers):
            subscription.close()
        self._unlisten()
