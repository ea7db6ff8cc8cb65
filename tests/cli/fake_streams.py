"""The fake daemon's Server-Sent Events: chunked HTTP, heartbeats, topic patterns."""

from __future__ import annotations

import asyncio
import json
from typing import Any

HEARTBEAT = b": keepalive\n\n"


class StreamWriter:
    """One SSE response body, written as HTTP/1.1 chunks the way uvicorn sends them."""

    def __init__(self, writer: asyncio.StreamWriter, heartbeat_s: float) -> None:
        self.writer = writer
        self.heartbeat_s = heartbeat_s
        self.sent = 0

    @classmethod
    async def open(cls, writer: asyncio.StreamWriter, heartbeat_s: float) -> StreamWriter:
        writer.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream; charset=utf-8\r\n"
            b"Cache-Control: no-cache\r\nTransfer-Encoding: chunked\r\n\r\n"
        )
        stream = cls(writer, heartbeat_s)
        await stream._chunk(b": stream open\n\n")
        return stream

    async def event(self, envelope: dict[str, Any]) -> None:
        """An event: id = seq, event = topic, data = the envelope."""
        data = json.dumps(envelope, separators=(",", ":")).encode()
        message = b"id: %d\nevent: %s\ndata: %s\n\n" % (
            envelope["seq"],
            envelope["topic"].encode(),
            data,
        )
        # Split each message across two chunks: a reader must not care where chunks end.
        middle = len(message) // 2
        await self._chunk(message[:middle])
        await self._chunk(message[middle:])
        self.sent += 1

    async def message(self, event: str, data: str) -> None:
        await self._chunk(f"event: {event}\ndata: {data}\n\n".encode())

    async def heartbeat(self) -> None:
        await self._chunk(HEARTBEAT)

    async def end(self) -> None:
        self.writer.write(b"0\r\n\r\n")
        await self.writer.drain()

    async def _chunk(self, data: bytes) -> None:
        self.writer.write(b"%x\r\n%s\r\n" % (len(data), data))
        await self.writer.drain()


def matches_topic(pattern: str | None, topic: str) -> bool:
    """SPEC.md patterns: `*` is one dot-separated segment, `>` the rest."""
    if pattern is None:
        return True
    wanted, parts = pattern.split("."), topic.split(".")
    for index, segment in enumerate(wanted):
        if segment == ">":
            return len(parts) > index
        if index >= len(parts) or segment not in ("*", parts[index]):
            return False
    return len(parts) == len(wanted)
