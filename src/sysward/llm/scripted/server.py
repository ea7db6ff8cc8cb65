"""A real OpenAI-compatible HTTP server on 127.0.0.1 that answers from a script.

For tests and `make demo`: it records every request, answers
`POST /v1/chat/completions` with the next scripted response, and fails loudly
(HTTP 500 naming the problem, recorded in `failures`) on any call it was not
scripted for, so a test can never silently talk to the wrong thing.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from types import TracebackType

from pydantic import JsonValue

from sysward.llm.scripted.http import (
    HttpRequest,
    ProtocolViolation,
    encode_response,
    read_request,
)
from sysward.llm.scripted.script import (
    ScriptedDrop,
    ScriptedHang,
    ScriptedReply,
    ScriptedResponse,
    parse_script,
)

HOST = "127.0.0.1"
CHAT_PATH = "/v1/chat/completions"
STATE_PATH = "/_scripted/state"
MAX_REQUESTS_PER_CONNECTION = 10_000


class ScriptedServerError(AssertionError):
    """The scripted server saw calls it was not scripted for, or kept unused responses."""


@dataclass(frozen=True)
class RecordedRequest:
    """A request as the server received it."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    def json(self) -> JsonValue:
        parsed: JsonValue = json.loads(self.body)
        return parsed


class ScriptedLlmServer:
    """Serves a script of chat-completion responses; use `async with`."""

    def __init__(
        self, script: Iterable[ScriptedResponse | JsonValue] = (), *, port: int = 0
    ) -> None:
        self._script: deque[ScriptedResponse] = deque()
        self._requested_port = port
        self._server: asyncio.Server | None = None
        self._connections: set[asyncio.Task[None]] = set()
        self._changed = asyncio.Condition()
        self._is_stopping = False
        self.requests: list[RecordedRequest] = []
        self.failures: list[str] = []
        self.enqueue(*script)

    def enqueue(self, *responses: ScriptedResponse | JsonValue) -> None:
        """Add responses; a plain dict is the body of a 200 reply."""
        for response in responses:
            if isinstance(response, ScriptedReply | ScriptedHang | ScriptedDrop):
                self._script.append(response)
            else:
                self._script.extend(parse_script([response]))

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the scripted server is not started")
        port: int = self._server.sockets[0].getsockname()[1]
        return port

    @property
    def base_url(self) -> str:
        """What goes in `llm.<name>.base_url`: `http://127.0.0.1:<port>/v1`."""
        return f"http://{HOST}:{self.port}/v1"

    @property
    def call_count(self) -> int:
        return len(self.requests)

    @property
    def remaining(self) -> int:
        """Scripted responses not used yet."""
        return len(self._script)

    def problems(self) -> list[str]:
        """Unscripted calls seen, and scripted responses never used."""
        unused = [f"{self.remaining} scripted response(s) never used"] if self._script else []
        return [*self.failures, *unused]

    def verify(self) -> None:
        """Raise ScriptedServerError if anything happened that the script did not plan."""
        problems = self.problems()
        if problems:
            raise ScriptedServerError("scripted LLM server: " + "; ".join(problems))

    def take_failures(self) -> list[str]:
        """The failures so far, cleared (for tests that provoke them on purpose)."""
        failures, self.failures = self.failures, []
        return failures

    async def wait_for_calls(self, count: int, *, timeout_s: float = 5.0) -> None:
        """Return once `count` requests have arrived; TimeoutError after `timeout_s`."""
        async with asyncio.timeout(timeout_s), self._changed:
            await self._changed.wait_for(lambda: self.call_count >= count)

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, HOST, self._requested_port)

    async def stop(self) -> None:
        self._is_stopping = True
        if self._server is not None:
            self._server.close()
        for task in list(self._connections):
            task.cancel()
        await asyncio.gather(*self._connections, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()

    async def __aenter__(self) -> ScriptedLlmServer:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.stop()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._connections.add(task)
        try:
            await self._serve_connection(reader, writer)
        except asyncio.CancelledError:
            # stop() cancels its connections; the stream machinery that owns this
            # task would log the cancellation as an error, so end quietly then.
            if not self._is_stopping:
                raise
        finally:
            if task is not None:
                self._connections.discard(task)

    async def _serve_connection(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        try:
            await self._serve_requests(reader, writer)
        except ConnectionError:
            pass  # the client went away; nothing to answer
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()

    async def _serve_requests(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        for _ in range(MAX_REQUESTS_PER_CONNECTION):
            try:
                request = await read_request(reader)
            except ProtocolViolation as exc:
                body = self._fail(f"unreadable HTTP request: {exc}")
                writer.write(encode_response(400, _JSON, body, keep_alive=False))
                await writer.drain()
                return
            if request is None:
                return
            response = await self._answer(request, reader)
            if response is None:
                return
            keep_alive = request.wants_keep_alive
            writer.write(encode_response(*response, keep_alive=keep_alive))
            await writer.drain()
            if not keep_alive:
                return

    async def _answer(
        self, request: HttpRequest, reader: asyncio.StreamReader
    ) -> tuple[int, dict[str, str], bytes] | None:
        """The response to send, or None to close the connection without one."""
        if (request.method, request.path) == ("GET", STATE_PATH):
            return 200, _JSON, self._state()
        await self._record(request)
        where = f"call #{self.call_count} ({request.method} {request.path})"
        if (request.method, request.path) != ("POST", CHAT_PATH):
            return 500, _JSON, self._fail(f"unscripted {where}: only POST {CHAT_PATH} is served")
        if not self._script:
            return 500, _JSON, self._fail(f"unscripted {where}: the script is exhausted")
        scripted = self._script.popleft()
        if isinstance(scripted, ScriptedHang):
            await reader.read()  # until the client gives up, or stop() cancels us
            return None
        if isinstance(scripted, ScriptedDrop):
            return None
        if scripted.delay_s:
            await asyncio.sleep(scripted.delay_s)
        body, content_type = scripted.payload()
        headers = dict(scripted.headers)
        if not any(name.lower() == "content-type" for name in headers):
            headers["Content-Type"] = content_type
        return scripted.status, headers, body

    async def _record(self, request: HttpRequest) -> None:
        recorded = RecordedRequest(request.method, request.path, request.headers, request.body)
        async with self._changed:
            self.requests.append(recorded)
            self._changed.notify_all()

    def _fail(self, problem: str) -> bytes:
        self.failures.append(problem)
        error = {"message": f"ScriptedLlmServer: {problem}", "type": "scripted_server_error"}
        return json.dumps({"error": error}).encode()

    def _state(self) -> bytes:
        state = {
            "calls": self.call_count,
            "remaining": self.remaining,
            "failures": self.failures,
            "requests": [request.text for request in self.requests],
        }
        return json.dumps(state).encode()


_JSON = {"Content-Type": "application/json"}
