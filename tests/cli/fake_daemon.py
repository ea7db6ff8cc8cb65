"""A fake control API: a real HTTP/1.1 server on a Unix socket with canned answers.

It stands in for syswardd while the CLI is tested: asyncio in its own thread,
every route of SPEC.md's "Control API", SSE streams with heartbeats, error
bodies in the API's shape. Knobs on the instance switch on the error paths
(403 for everyone, a broken chain, streams that end early or drop a reader).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from . import canned
from .fake_streams import StreamWriter, matches_topic
from .fake_turns import TurnRunner

Json = dict[str, Any]
REASONS = {200: "OK", 201: "Created", 202: "Accepted", 204: "No Content", 400: "Bad Request"}
REASONS |= {403: "Forbidden", 404: "Not Found", 409: "Conflict", 503: "Service Unavailable"}


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


class HttpError(Exception):
    def __init__(self, status: int, code: str, message: str, details: Json | None = None):
        super().__init__(message)
        self.status, self.code, self.message, self.details = status, code, message, details or {}

    def body(self) -> Json:
        return {"error": {"code": self.code, "message": self.message, "details": self.details}}


Handler = Callable[[Request, asyncio.StreamWriter, re.Match[str]], Awaitable[None]]


class FakeDaemon:
    """Serve the control API on `socket_path` from a background thread until `stop()`."""

    def __init__(self, socket_path: Path, *, heartbeat_s: float = 0.05) -> None:
        self.socket_path = socket_path
        self.heartbeat_s = heartbeat_s
        self.agents = canned.initial_agents()
        self.approvals = {canned.approval()["id"]: canned.approval()}
        self.requests: list[Request] = []
        self.is_forbidden = False
        self.is_chain_intact = True
        self.drop_prompt_stream_after: int | None = None
        self.drops_left = 0
        self.drop_subscriber_after = 3
        self.turns = TurnRunner(self.agents)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncio.AbstractServer | None = None
        self._routes: list[tuple[str, re.Pattern[str], Handler]] = self._route_table()

    # lifecycle -------------------------------------------------------------

    def start(self) -> FakeDaemon:
        self._thread.start()
        self._call(self._start())
        return self

    def stop(self) -> None:
        """Close the socket, end every stream; calling it again does nothing."""
        if self._loop.is_closed():
            return
        self._call(self._stop())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)
        self._loop.close()

    def _call(self, coroutine: Awaitable[Any]) -> Any:
        async def wrapped() -> Any:
            return await coroutine

        return asyncio.run_coroutine_threadsafe(wrapped(), self._loop).result(timeout=5)

    async def _start(self) -> None:
        self.turns.seed()
        self._server = await asyncio.start_unix_server(self._serve, path=str(self.socket_path))

    async def _stop(self) -> None:
        assert self._server is not None
        self._server.close()
        await self.turns.stop()
        current = asyncio.current_task()
        tasks = [task for task in asyncio.all_tasks() if task is not current]
        if tasks:
            _, stuck = await asyncio.wait(tasks, timeout=2)
            for task in stuck:
                task.cancel()
            await asyncio.gather(*stuck, return_exceptions=True)

    def requests_to(self, path: str) -> list[Request]:
        return [request for request in self.requests if request.path == path]

    # HTTP ------------------------------------------------------------------

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            request = await read_request(reader)
            self.requests.append(request)
            await self._dispatch(request, writer)
        except HttpError as exc:
            await respond(writer, exc.status, exc.body())
        except (ConnectionError, asyncio.IncompleteReadError):
            pass  # the client went away: nothing to answer
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()

    async def _dispatch(self, request: Request, writer: asyncio.StreamWriter) -> None:
        if self.is_forbidden:
            message = "uid 1000 is neither root nor in an allowed group (sysward)"
            raise HttpError(403, "forbidden", message, {"uid": 1000})
        allowed = []
        for method, pattern, handler in self._routes:
            match = pattern.fullmatch(request.path)
            if match and method == request.method:
                return await handler(request, writer, match)
            if match:
                allowed.append(method)
        if allowed:
            raise HttpError(405, "method_not_allowed", f"{request.method} {request.path}")
        raise HttpError(404, "not_found", f"no route {request.path}")

    def _route_table(self) -> list[tuple[str, re.Pattern[str], Handler]]:
        name = r"(?P<name>[^/]+)"
        table: list[tuple[str, str, Handler]] = [
            ("GET", "/v1/health", self._health),
            ("GET", "/v1/agents", self._list_agents),
            ("POST", "/v1/agents", self._create_agent),
            ("GET", f"/v1/agents/{name}", self._get_agent),
            ("DELETE", f"/v1/agents/{name}", self._delete_agent),
            ("POST", f"/v1/agents/{name}/(?P<verb>start|stop)", self._lifecycle),
            ("POST", f"/v1/agents/{name}/prompt", self._prompt),
            ("GET", f"/v1/agents/{name}/history", self._history),
            ("GET", r"/v1/turns/(?P<turn>[^/]+)", self._turn),
            ("GET", "/v1/events", self._events),
            ("GET", "/v1/events/stream", self._events_stream),
            ("GET", "/v1/approvals", self._approvals),
            ("POST", r"/v1/approvals/(?P<id>[^/]+)", self._decide),
            ("GET", "/v1/tools", self._tools),
            ("POST", "/v1/log/verify", self._verify),
            ("GET", "/metrics", self._metrics),
        ]
        return [(method, re.compile(path), handler) for method, path, handler in table]

    # routes ----------------------------------------------------------------

    async def _health(self, request: Request, writer: asyncio.StreamWriter, _: Any) -> None:
        body = {"status": "ok", "version": canned.VERSION, "uptime_s": 11655.2}
        body |= {"last_seq": self.turns.last_seq, "agents": len(self.agents)}
        await respond(writer, 200, body)

    async def _list_agents(self, request: Request, writer: asyncio.StreamWriter, _: Any) -> None:
        await respond(writer, 200, list(self.agents.values()))

    async def _create_agent(self, request: Request, writer: asyncio.StreamWriter, _: Any) -> None:
        body = request.json()
        if not isinstance(body, dict) or "name" not in body or "role" not in body:
            raise HttpError(400, "invalid_request", "name and role are required")
        if body["name"] in self.agents:
            raise HttpError(409, "agent_exists", f"an agent named {body['name']!r} exists")
        if body["role"] not in ("default", "sysadmin"):
            message = f"unknown role {body['role']!r} (roles: default, sysadmin)"
            raise HttpError(400, "invalid_config", message)
        fields = {key: body[key] for key in ("llm", "max_steps", "read_only") if key in body}
        agent = canned.agent(body["name"], role=body["role"], origin="runtime") | fields
        self.agents[agent["name"]] = agent
        await respond(writer, 201, agent)

    def _agent(self, name: str) -> Json:
        if name not in self.agents:
            raise HttpError(404, "agent_not_found", f"no agent named {name!r}")
        return self.agents[name]

    async def _get_agent(self, request: Request, writer: asyncio.StreamWriter, match: Any) -> None:
        await respond(writer, 200, self._agent(match["name"]))

    async def _delete_agent(self, request: Request, writer: Any, match: Any) -> None:
        agent = self._agent(match["name"])
        if agent["origin"] == "config":
            message = f"{agent['name']!r} is declared in sysward.toml; remove it there"
            raise HttpError(409, "agent_from_config", message)
        del self.agents[agent["name"]]
        await respond(writer, 204, None)

    async def _lifecycle(self, request: Request, writer: Any, match: Any) -> None:
        agent = self._agent(match["name"])
        agent["state"] = "idle" if match["verb"] == "start" else "stopped"
        await respond(writer, 200, agent)

    async def _prompt(self, request: Request, writer: asyncio.StreamWriter, match: Any) -> None:
        agent = self._agent(match["name"])
        body = request.json()
        if not isinstance(body, dict) or not body.get("text"):
            raise HttpError(400, "invalid_request", "text: field required")
        if agent["state"] == "busy":
            raise HttpError(409, "agent_busy", f"{agent['name']!r} is busy with another turn")
        is_streaming = body.get("wait") or "text/event-stream" in request.headers.get("accept", "")
        start_seq = self.turns.last_seq
        turn = self.turns.start(agent["name"], body["text"])
        if not is_streaming:
            return await respond(writer, 202, {"agent": agent["name"], "turn": turn})
        stream = await StreamWriter.open(writer, self.heartbeat_s)
        await stream.message("accepted", json.dumps({"agent": agent["name"], "turn": turn}))
        limit = self.drop_prompt_stream_after
        async for event in self.turns.follow(start_seq, stream):
            if event["turn"] != turn:
                continue
            await stream.event(event)
            if event["topic"] == "agent.turn_completed" or stream.sent == limit:
                break
        await stream.end()

    async def _history(self, request: Request, writer: asyncio.StreamWriter, match: Any) -> None:
        name = self._agent(match["name"])["name"]
        await respond(writer, 200, {"agent": name, "messages": self.turns.history(name)})

    async def _turn(self, request: Request, writer: asyncio.StreamWriter, match: Any) -> None:
        info = self.turns.info(match["turn"])
        if info is None:
            raise HttpError(404, "turn_not_found", f"no turn {match['turn']!r} in the log")
        await respond(writer, 200, info)

    async def _events(self, request: Request, writer: asyncio.StreamWriter, _: Any) -> None:
        query = request.query
        since = int(query["since"]) if query.get("since", "").isdigit() else 0
        limit = int(query.get("limit", "100"))
        events = [e for e in self.turns.log if e["seq"] > since and self._wanted(e, query)]
        page = events[:limit]
        next_since = page[-1]["seq"] if page else max(since, self.turns.last_seq)
        await respond(writer, 200, {"events": page, "next_since": next_since})

    def _wanted(self, event: Json, query: dict[str, str]) -> bool:
        return (
            matches_topic(query.get("topic"), event["topic"])
            and query.get("agent") in (None, event["agent"])
            and query.get("type") in (None, event["type"])
        )

    async def _events_stream(self, request: Request, writer: Any, _: Any) -> None:
        resume = request.headers.get("last-event-id") or request.query.get("since", "")
        since = int(resume) if resume.isdigit() else self.turns.last_seq
        stream = await StreamWriter.open(writer, self.heartbeat_s)
        async for event in self.turns.follow(since, stream):
            if not self._wanted(event, request.query):
                continue
            await stream.event(event)
            if self.drops_left and stream.sent == self.drop_subscriber_after:
                self.drops_left -= 1
                data = {"resume_after_seq": event["seq"], "message": "subscriber too slow"}
                await stream.message("dropped", json.dumps(data))
                break
        await stream.end()

    async def _approvals(self, request: Request, writer: asyncio.StreamWriter, _: Any) -> None:
        await respond(writer, 200, list(self.approvals.values()))

    async def _decide(self, request: Request, writer: asyncio.StreamWriter, match: Any) -> None:
        body = request.json()
        if not isinstance(body, dict) or body.get("decision") not in ("approve", "deny"):
            raise HttpError(400, "invalid_request", "decision must be approve or deny")
        if self.approvals.pop(match["id"], None) is None:
            raise HttpError(404, "approval_not_found", f"no pending approval {match['id']!r}")
        answer = {"id": match["id"], "decision": body["decision"], "reason": body.get("reason")}
        await respond(writer, 200, answer)

    async def _tools(self, request: Request, writer: asyncio.StreamWriter, _: Any) -> None:
        await respond(writer, 200, canned.tools())

    async def _verify(self, request: Request, writer: asyncio.StreamWriter, _: Any) -> None:
        report = canned.chain_report(is_intact=self.is_chain_intact, last_seq=self.turns.last_seq)
        await respond(writer, 200, report)

    async def _metrics(self, request: Request, writer: asyncio.StreamWriter, _: Any) -> None:
        text = f"# TYPE sysward_last_seq gauge\nsysward_last_seq {self.turns.last_seq}\n"
        await respond(writer, 200, text, content_type="text/plain; version=0.0.4")


async def read_request(reader: asyncio.StreamReader) -> Request:
    head = await reader.readuntil(b"\r\n\r\n")
    request_line, *header_lines = head.decode("latin-1").split("\r\n")
    method, target, _ = request_line.split(" ", 2)
    headers = {}
    for line in header_lines:
        if line:
            key, _, value = line.partition(":")
            headers[key.strip().lower()] = value.strip()
    body = await reader.readexactly(int(headers.get("content-length", "0")))
    url = urlsplit(target)
    return Request(method, url.path, dict(parse_qsl(url.query)), headers, body)


async def respond(
    writer: asyncio.StreamWriter,
    status: int,
    body: Any,
    *,
    content_type: str = "application/json",
) -> None:
    payload = (
        b"" if body is None else (body if isinstance(body, str) else json.dumps(body)).encode()
    )
    head = f"HTTP/1.1 {status} {REASONS.get(status, 'Error')}\r\n"
    if status != 204:
        head += f"Content-Type: {content_type}\r\nContent-Length: {len(payload)}\r\n"
    writer.write((head + "Connection: close\r\n\r\n").encode() + payload)
    await writer.drain()
