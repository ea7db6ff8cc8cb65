"""Just enough HTTP/1.1 for the scripted server: read a request, write a response.

Requests need a Content-Length (httpx and curl send one for a JSON body);
keep-alive is honoured; anything else malformed is a ProtocolViolation.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from http import HTTPStatus

MAX_BODY_BYTES = 16 * 1024 * 1024


class ProtocolViolation(Exception):
    """The client sent something that is not an HTTP/1.1 request we can read."""


@dataclass(frozen=True)
class HttpRequest:
    method: str
    path: str
    version: str
    headers: dict[str, str]
    body: bytes

    @property
    def wants_keep_alive(self) -> bool:
        connection = self.headers.get("connection", "").lower()
        if self.version == "HTTP/1.0":
            return connection == "keep-alive"
        return connection != "close"


async def read_request(reader: asyncio.StreamReader) -> HttpRequest | None:
    """The next request on a connection, or None when the client closed it cleanly."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError as exc:
        if not exc.partial.strip():
            return None
        raise ProtocolViolation("connection closed in the middle of a request head") from None
    except asyncio.LimitOverrunError:
        raise ProtocolViolation("request head too large") from None
    method, path, version, headers = _parse_head(head.decode("latin-1"))
    if "chunked" in headers.get("transfer-encoding", "").lower():
        raise ProtocolViolation("chunked request bodies are not supported; send Content-Length")
    length = _content_length(headers)
    try:
        body = await reader.readexactly(length)
    except asyncio.IncompleteReadError:
        raise ProtocolViolation(f"body shorter than Content-Length {length}") from None
    return HttpRequest(method, path, version, headers, body)


def _parse_head(head: str) -> tuple[str, str, str, dict[str, str]]:
    request_line, *header_lines = head.rstrip("\r\n").split("\r\n")
    parts = request_line.split(" ")
    if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
        raise ProtocolViolation(f"bad request line {request_line[:100]!r}")
    headers: dict[str, str] = {}
    for line in header_lines:
        name, colon, value = line.partition(":")
        if not colon or not name.strip():
            raise ProtocolViolation(f"bad header line {line[:100]!r}")
        headers[name.strip().lower()] = value.strip()
    return parts[0], parts[1], parts[2], headers


def _content_length(headers: dict[str, str]) -> int:
    raw = headers.get("content-length", "0")
    try:
        length = int(raw)
    except ValueError:
        raise ProtocolViolation(f"bad Content-Length {raw[:40]!r}") from None
    if not 0 <= length <= MAX_BODY_BYTES:
        raise ProtocolViolation(f"Content-Length {length} out of range")
    return length


def encode_response(
    status: int, headers: dict[str, str], body: bytes, *, keep_alive: bool
) -> bytes:
    """A complete response; Content-Length and Connection are always set here."""
    try:
        reason = HTTPStatus(status).phrase
    except ValueError:
        reason = "Status"
    lines = [f"HTTP/1.1 {status} {reason}"]
    lines += [
        f"{name}: {value}"
        for name, value in headers.items()
        if name.lower() not in {"content-length", "connection"}
    ]
    lines.append(f"Content-Length: {len(body)}")
    lines.append(f"Connection: {'keep-alive' if keep_alive else 'close'}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body
