"""The scripted demo model (no LLM): an OpenAI-compatible server in its own process.

`python -m sysward.demo.model [--port N] [--hold-step K]` prints its base_url
once it listens, answers `POST /v1/chat/completions` with `inspection.next_reply`
and `GET /demo/stats` with what it has served. It runs apart from the daemon, so
it outlives the daemon's SIGKILL and its counters span both of the daemon's lives.

With `--hold-step K` the first request for step K of a turn gets no answer until
the client goes away (or HOLD_TIMEOUT_S passes): the demo kills the daemon while
it waits, so the kill lands at a known point and no answer is ever lost.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import signal
import sys
from collections.abc import Sequence

from pydantic import BaseModel, Field, ValidationError

from sysward.demo.findings import MODEL_LABEL
from sysward.demo.inspection import ChatRequest, next_reply, read_turn
from sysward.llm.scripted.http import HttpRequest, ProtocolViolation, encode_response, read_request

HOST = "127.0.0.1"
CHAT_PATH = "/v1/chat/completions"
STATS_PATH = "/demo/stats"
HOLD_TIMEOUT_S = 20.0
MAX_REQUESTS_PER_CONNECTION = 10_000

Response = tuple[int, dict[str, str], bytes]
_JSON = {"Content-Type": "application/json"}


class ModelStats(BaseModel):
    """What the demo model has served: the counters the demo's proof reads."""

    label: str = MODEL_LABEL
    requests: int = Field(0, description="Chat-completion requests received")
    answered: int = Field(0, description="Answers sent")
    cut_off: int = Field(0, description="Requests whose client went away before an answer")
    repeated_answers: int = Field(0, description="Answers to a turn step answered before")
    is_holding: bool = Field(False, description="A held request is waiting right now")
    answered_steps: list[str] = Field(default_factory=list, description="turn:step, in order")


class DemoModel:
    """The server's state and request handling; `serve` runs it on a socket."""

    def __init__(self, *, hold_step: int | None = None) -> None:
        self.stats = ModelStats()
        self._hold_step = hold_step
        self._has_held = False

    async def serve_connection(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        try:
            for _ in range(MAX_REQUESTS_PER_CONNECTION):
                request = await read_request(reader)
                if request is None:
                    return
                response = await self.answer(request, reader)
                if response is None:
                    return
                writer.write(encode_response(*response, keep_alive=request.wants_keep_alive))
                await writer.drain()
                if not request.wants_keep_alive:
                    return
        except (ConnectionError, ProtocolViolation):
            pass  # a client that went away or spoke garbage gets no more answers
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()

    async def answer(self, request: HttpRequest, reader: asyncio.StreamReader) -> Response | None:
        """The response, or None to close the connection without one."""
        if (request.method, request.path) == ("GET", STATS_PATH):
            return 200, _JSON, self.stats.model_dump_json().encode()
        if (request.method, request.path) != ("POST", CHAT_PATH):
            return _error(404, f"the demo model serves POST {CHAT_PATH} and GET {STATS_PATH}")
        try:
            chat = ChatRequest.model_validate_json(request.body)
        except ValidationError as exc:
            return _error(400, f"not a chat-completion request: {exc.errors()[0]['msg']}")
        self.stats.requests += 1
        view = read_turn(chat)
        if view.step == self._hold_step and not self._has_held:
            self._has_held = True
            if await self._hold(reader):
                self.stats.cut_off += 1
                return None
        self._count_answer(f"{view.turn_index}:{view.step}")
        return 200, _JSON, json.dumps(next_reply(chat)).encode()

    async def _hold(self, reader: asyncio.StreamReader) -> bool:
        """Wait for the client to go away; False if it was still there at the timeout."""
        self.stats.is_holding = True
        try:
            async with asyncio.timeout(HOLD_TIMEOUT_S):
                await reader.read()
            return True
        except TimeoutError:
            return False
        finally:
            self.stats.is_holding = False

    def _count_answer(self, key: str) -> None:
        if key in self.stats.answered_steps:
            self.stats.repeated_answers += 1
        self.stats.answered += 1
        self.stats.answered_steps.append(key)


def _error(status: int, message: str) -> Response:
    body = {"error": {"message": f"{MODEL_LABEL}: {message}", "type": "demo_model_error"}}
    return status, _JSON, json.dumps(body).encode()


async def serve(model: DemoModel, *, port: int = 0) -> None:
    """Serve until SIGTERM or SIGINT, printing the base_url once listening."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    connections: set[asyncio.Task[None]] = set()

    async def track(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        connections.add(task)
        try:
            await model.serve_connection(reader, writer)
        finally:
            connections.discard(task)

    server = await asyncio.start_server(track, HOST, port)
    try:
        bound_port = server.sockets[0].getsockname()[1]
        print(f"http://{HOST}:{bound_port}/v1", flush=True)
        await stop.wait()
    finally:
        server.close()
        for task in list(connections):
            task.cancel()
        await asyncio.gather(*connections, return_exceptions=True)
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(signum)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m sysward.demo.model",
        description=f"The {MODEL_LABEL}: an OpenAI-compatible server on 127.0.0.1 that "
        "plays a read-only inspection of this host with real tools.",
    )
    parser.add_argument("--port", type=int, default=0, help="TCP port; 0 picks a free one")
    parser.add_argument(
        "--hold-step",
        type=int,
        metavar="K",
        help="hold the first request for step K of a turn until the client goes away",
    )
    args = parser.parse_args(argv)
    try:
        asyncio.run(serve(DemoModel(hold_step=args.hold_step), port=args.port))
    except OSError as exc:
        print(f"{MODEL_LABEL}: cannot listen on {HOST}:{args.port}: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
