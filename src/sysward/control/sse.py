"""Server-Sent Events over the event bus: `id:` is the seq, `data:` the stored envelope.

A stream follows one bus subscription. Idle streams get a heartbeat comment;
a subscriber dropped for being too slow gets an `event: dropped` message with
the seq to resume from; when the daemon stops, what is already committed is
flushed briefly and the stream ends (a client resumes with Last-Event-ID).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncGenerator, AsyncIterator
from typing import Any

from starlette.responses import StreamingResponse

from sysward.events import topics
from sysward.events.bus import SubscriberDropped, Subscription
from sysward.events.record import Event

MEDIA_TYPE = "text/event-stream"
HEARTBEAT = b": keepalive\n\n"
OPENED = b": stream open\n\n"
# After the daemon starts stopping: how long to wait for each already-committed event.
CLOSE_GRACE_S = 0.05
HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


def sse_message(data: bytes, *, event: str | None = None, id_: int | None = None) -> bytes:
    """One SSE message; `data` must be a single line (JSON from the log always is)."""
    lines = []
    if id_ is not None:
        lines.append(b"id: %d" % id_)
    if event is not None:
        lines.append(b"event: " + event.encode())
    lines.append(b"data: " + data)
    return b"\n".join(lines) + b"\n\n"


def event_message(event: Event) -> bytes:
    """An event as SSE: id = seq, event = topic, data = the exact stored bytes."""
    return sse_message(event.encode(), event=event.topic, id_=event.seq)


def dropped_message(exc: SubscriberDropped) -> bytes:
    data = {"resume_after_seq": exc.resume_after_seq, "message": str(exc)}
    return sse_message(json.dumps(data).encode(), event="dropped")


def sse_response(body: AsyncIterator[bytes]) -> StreamingResponse:
    return StreamingResponse(body, media_type=MEDIA_TYPE, headers=HEADERS)


async def follow(
    subscription: Subscription, closing: asyncio.Event, heartbeat_s: float
) -> AsyncGenerator[Event | None, None]:
    """The subscription's events, and None after every `heartbeat_s` without one.

    Ends when `closing` is set (after flushing what arrives within CLOSE_GRACE_S
    of each other); raises SubscriberDropped if the bus dropped the subscription.
    The subscription is closed when the iteration ends, however it ends.
    """
    events = aiter(subscription)
    pending: asyncio.Future[Event] | None = None
    closed = asyncio.ensure_future(closing.wait())
    try:
        while True:
            if pending is None:
                pending = asyncio.ensure_future(anext(events))
            if closed.done():
                done, _ = await asyncio.wait({pending}, timeout=CLOSE_GRACE_S)
                if not done:
                    return
            else:
                waiting: set[asyncio.Future[Any]] = {pending, closed}
                await asyncio.wait(
                    waiting, timeout=heartbeat_s, return_when=asyncio.FIRST_COMPLETED
                )
            if pending.done():
                event, pending = pending.result(), None
                yield event
            elif not closed.done():
                yield None
    except StopAsyncIteration:
        return
    finally:
        for task in (pending, closed):
            if task is not None and not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, StopAsyncIteration):
                    await task
        subscription.close()


async def stream_events(
    subscription: Subscription, closing: asyncio.Event, heartbeat_s: float
) -> AsyncIterator[bytes]:
    """The `GET /v1/events/stream` body."""
    yield OPENED
    try:
        async with contextlib.aclosing(follow(subscription, closing, heartbeat_s)) as events:
            async for event in events:
                yield HEARTBEAT if event is None else event_message(event)
    except SubscriberDropped as exc:
        yield dropped_message(exc)


async def stream_turn(
    subscription: Subscription,
    accepted: bytes,
    turn: str,
    closing: asyncio.Event,
    heartbeat_s: float,
) -> AsyncIterator[bytes]:
    """A prompt's streamed answer: `event: accepted` with the turn id, then the turn's
    events (the agent's subscription filtered by turn) up to `agent.turn_completed`."""
    yield sse_message(accepted, event="accepted")
    try:
        async with contextlib.aclosing(follow(subscription, closing, heartbeat_s)) as events:
            async for event in events:
                if event is None:
                    yield HEARTBEAT
                elif event.turn == turn:
                    yield event_message(event)
                    if event.topic == topics.AGENT_TURN_COMPLETED:
                        return
    except SubscriberDropped as exc:
        yield dropped_message(exc)
