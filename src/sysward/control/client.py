"""A small synchronous client for the control API: HTTP/1.1 + JSON over the Unix socket.

Standard library only, because the CLI must start fast: `http.client` and `json`
import in about 40 ms, httpx in about 200 ms and pydantic (the shared models) in
about 150 ms (`python -X importtime`); dataclasses are avoided too (they pull in
`inspect`, another 8 ms). Bodies are therefore plain decoded JSON
here; the CLI reads them through the TypedDicts of `sysward.cli.shapes`.

Every request opens its own connection: connecting to a Unix socket costs
microseconds and a fresh connection never meets a keep-alive the server closed.
"""

from __future__ import annotations

import http.client
import json
import os
import socket
from collections.abc import Iterable, Iterator, Mapping
from types import TracebackType
from typing import Any, NamedTuple, Self
from urllib.parse import quote, urlencode

from sysward.errors import SyswardError

DEFAULT_SOCKET = "/run/sysward/sysward.sock"
SOCKET_ENV = "SYSWARD_SOCKET"
REQUEST_TIMEOUT_S = 30.0
# The server sends a heartbeat comment on idle streams; silence this long means a dead peer.
STREAM_READ_TIMEOUT_S = 60.0
MAX_LINE_BYTES = 16 * 1024 * 1024

Query = Mapping[str, str | int | None]


def socket_path_from(explicit: str | None = None) -> str:
    """The control socket: `--socket`, then `$SYSWARD_SOCKET`, then the packaged default."""
    return explicit or os.environ.get(SOCKET_ENV) or DEFAULT_SOCKET


def path_segment(value: str) -> str:
    """One URL path segment (an agent name, a turn or approval id), percent-encoded."""
    return quote(value, safe="")


class ControlError(SyswardError):
    """The control API could not answer a request as asked."""


class DaemonUnreachable(ControlError):
    """Nothing answers on the socket (not running, stale socket file, wrong path)."""

    def __init__(self, socket_path: str, reason: str) -> None:
        self.socket_path = socket_path
        self.reason = reason
        super().__init__(
            f"cannot reach the sysward daemon at {socket_path}: {reason}\n"
            "start it with `systemctl start sysward` (or, unprivileged, "
            "`syswardd --state-dir DIR` and pass --socket DIR/sysward.sock)"
        )


class StreamTimeout(ControlError):
    """A stream stayed silent (not even a heartbeat) for longer than its read timeout."""


class ProtocolError(ControlError):
    """The peer answered, but not in the control API's shape."""


class ApiError(ControlError):
    """The daemon answered with an error body `{"error": {code, message, details}}`."""

    def __init__(
        self, status: int, code: str, message: str, details: dict[str, Any] | None = None
    ) -> None:
        self.status = status
        self.code = code
        self.message = message
        self.details = details or {}
        super().__init__(f"{code}: {message}")

    def body(self) -> dict[str, Any]:
        """The error as the API spells it, for `--json` output."""
        return {"error": {"code": self.code, "message": self.message, "details": self.details}}


class PermissionDenied(ApiError):
    """The daemon refused this peer (403), or the socket file itself is not ours to open."""


def error_from(status: int, payload: bytes) -> ApiError:
    """Turn an error answer into an ApiError, tolerating bodies not in the API's shape."""
    kind = PermissionDenied if status == 403 else ApiError
    try:
        error = json.loads(payload)["error"]
        return kind(status, str(error["code"]), str(error["message"]), error.get("details"))
    except (ValueError, KeyError, TypeError, AttributeError):
        text = payload.decode("utf-8", "replace").strip()[:500]
        return kind(status, f"http_{status}", text or f"HTTP {status} without a body")


class SseEvent(NamedTuple):
    """One Server-Sent Events message: `event` type, `data` text and the last `id` seen."""

    event: str = "message"
    data: str = ""
    id: str | None = None

    def json(self) -> Any:
        """The data decoded as JSON (every event of the control API carries JSON)."""
        try:
            return json.loads(self.data)
        except ValueError as exc:
            raise ProtocolError(f"stream event {self.event!r} is not JSON: {exc}") from None


def parse_sse(lines: Iterable[str]) -> Iterator[SseEvent]:
    """Decode SSE lines (without line ends) into messages; comments are skipped.

    Unlike the HTML spec, a message with an `event:` but no `data:` is still
    delivered, so a bare `event: dropped` is not lost. An unterminated message
    at the end of the stream is discarded, as the spec says.
    """
    data: list[str] = []
    event = ""
    last_id: str | None = None
    for line in lines:
        if not line:
            if data or event:
                yield SseEvent(event or "message", "\n".join(data), last_id)
            data, event = [], ""
            continue
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "data":
            data.append(value)
        elif name == "event":
            event = value
        elif name == "id" and "\0" not in value:
            last_id = value


class UnixHTTPConnection(http.client.HTTPConnection):
    """`http.client` over a Unix stream socket instead of TCP."""

    def __init__(self, socket_path: str, timeout_s: float) -> None:
        super().__init__("localhost", timeout=timeout_s)
        self.socket_path = socket_path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        try:
            sock.connect(self.socket_path)
        except BaseException:
            sock.close()
            raise
        self.sock = sock


class EventStream:
    """An open SSE response; iterate it for SseEvents, close it (or use `with`) when done."""

    def __init__(self, connection: UnixHTTPConnection, response: http.client.HTTPResponse):
        self._connection = connection
        self._response = response
        self.read_timeout_s = connection.timeout

    def __iter__(self) -> Iterator[SseEvent]:
        return parse_sse(self._lines())

    def _lines(self) -> Iterator[str]:
        while True:
            try:
                raw = self._response.readline(MAX_LINE_BYTES)
            except TimeoutError:
                raise StreamTimeout(
                    f"the stream was silent for {self.read_timeout_s} s (no heartbeat)"
                ) from None
            except (ConnectionError, http.client.HTTPException):
                return  # the peer went away mid-stream: that is the end of this stream
            if not raw:
                return
            yield raw.decode("utf-8", "replace").rstrip("\r\n")

    def close(self) -> None:
        self._connection.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


class ControlClient:
    """Requests to one daemon's control socket; errors are ControlError subclasses."""

    def __init__(self, socket_path: str, *, timeout_s: float = REQUEST_TIMEOUT_S) -> None:
        self.socket_path = socket_path
        self.timeout_s = timeout_s

    def get(self, path: str, query: Query | None = None) -> Any:
        return self.request("GET", path, query=query)

    def post(self, path: str, body: object = None, *, timeout_s: float | None = None) -> Any:
        return self.request("POST", path, body=body, timeout_s=timeout_s)

    def delete(self, path: str) -> Any:
        return self.request("DELETE", path)

    def request(
        self,
        method: str,
        path: str,
        *,
        body: object = None,
        query: Query | None = None,
        timeout_s: float | None = None,
    ) -> Any:
        """Send one request and return its decoded JSON body (None when it has none)."""
        payload = self.request_bytes(method, path, body=body, query=query, timeout_s=timeout_s)
        if not payload.strip():
            return None
        try:
            return json.loads(payload)
        except ValueError as exc:
            raise ProtocolError(f"{method} {path}: the answer is not JSON: {exc}") from None

    def request_bytes(
        self,
        method: str,
        path: str,
        *,
        body: object = None,
        query: Query | None = None,
        timeout_s: float | None = None,
    ) -> bytes:
        """Send one request and return the raw body of a successful answer (e.g. /metrics)."""
        connection = self._connect(timeout_s or self.timeout_s)
        try:
            response = self._exchange(connection, method, url(path, query), body, {})
            payload = self._read(response)
        finally:
            connection.close()
        if response.status >= 400:
            raise error_from(response.status, payload)
        return payload

    def stream(
        self,
        method: str,
        path: str,
        *,
        body: object = None,
        query: Query | None = None,
        last_event_id: str | None = None,
        read_timeout_s: float = STREAM_READ_TIMEOUT_S,
    ) -> EventStream:
        """Open a Server-Sent Events response; the caller iterates and closes it."""
        headers = {"Accept": "text/event-stream"}
        if last_event_id is not None:
            headers["Last-Event-ID"] = last_event_id
        connection = self._connect(read_timeout_s)
        try:
            response = self._exchange(connection, method, url(path, query), body, headers)
            if response.status >= 400:
                raise error_from(response.status, self._read(response))
            content_type = response.getheader("Content-Type", "")
            if not content_type.startswith("text/event-stream"):
                raise ProtocolError(
                    f"{method} {path}: expected an event stream, got {content_type!r}"
                )
        except BaseException:
            connection.close()
            raise
        return EventStream(connection, response)

    def _connect(self, timeout_s: float) -> UnixHTTPConnection:
        connection = UnixHTTPConnection(self.socket_path, timeout_s)
        try:
            connection.connect()
        except PermissionError:
            raise PermissionDenied(
                403,
                "permission_denied",
                f"no permission to open {self.socket_path}: run as root or as a member "
                "of one of the daemon's allowed_groups (default: sysward)",
            ) from None
        except FileNotFoundError:
            raise DaemonUnreachable(self.socket_path, "no such socket") from None
        except ConnectionRefusedError:
            raise DaemonUnreachable(
                self.socket_path, "connection refused (a stale socket: the daemon is not running)"
            ) from None
        except OSError as exc:
            raise DaemonUnreachable(self.socket_path, exc.strerror or str(exc)) from None
        return connection

    def _exchange(
        self,
        connection: UnixHTTPConnection,
        method: str,
        target: str,
        body: object,
        headers: dict[str, str],
    ) -> http.client.HTTPResponse:
        headers = {"Accept": "application/json", "Connection": "close", **headers}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        try:
            connection.request(method, target, body=data, headers=headers)
            return connection.getresponse()
        except TimeoutError:
            reason = f"no answer within {connection.timeout} s"
            raise DaemonUnreachable(self.socket_path, reason) from None
        except (ConnectionError, http.client.HTTPException) as exc:
            reason = f"the connection broke before an answer ({type(exc).__name__})"
            raise DaemonUnreachable(self.socket_path, reason) from None

    def _read(self, response: http.client.HTTPResponse) -> bytes:
        try:
            return response.read()
        except TimeoutError:
            raise DaemonUnreachable(self.socket_path, "the answer stopped arriving") from None
        except (ConnectionError, http.client.HTTPException) as exc:
            reason = f"the connection broke mid-answer ({type(exc).__name__})"
            raise DaemonUnreachable(self.socket_path, reason) from None


def url(path: str, query: Query | None = None) -> str:
    """A request target: the path plus the query's non-None parameters."""
    params = {key: str(value) for key, value in (query or {}).items() if value is not None}
    return f"{path}?{urlencode(params)}" if params else path
