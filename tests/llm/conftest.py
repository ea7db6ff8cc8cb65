"""Fixtures for the LLM client tests: a real scripted server on 127.0.0.1 and clients of it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from sysward.config import LlmEndpoint
from sysward.llm import OpenAIChatClient, ToolSpec
from sysward.llm.scripted import ScriptedLlmServer

SYSTEMD_STATUS = ToolSpec(
    tool="systemd",
    action="status",
    description="ActiveState, SubState and MainPID of a unit.",
    parameters={
        "type": "object",
        "properties": {"unit": {"type": "string"}},
        "required": ["unit"],
    },
)
CRYPTO_GENERATE_KEY = ToolSpec(
    tool="crypto",
    action="generate_key",
    description="A random key.",
    parameters={"type": "object", "properties": {"bits": {"type": "integer"}}},
)
NET_PORT_CHECK = ToolSpec(tool="net", action="port_check", description="Is a TCP port open?")
TOOLS = [SYSTEMD_STATUS, CRYPTO_GENERATE_KEY, NET_PORT_CHECK]


class SleepRecorder:
    """A `sleep` for the client that records the delays instead of waiting."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)


@pytest.fixture
async def llm_server() -> AsyncIterator[ScriptedLlmServer]:
    """A scripted server; the test fails if it saw unscripted calls or left responses unused."""
    async with ScriptedLlmServer() as server:
        yield server
    server.verify()


@pytest.fixture
def sleeps() -> SleepRecorder:
    return SleepRecorder()


MakeClient = Callable[..., OpenAIChatClient]


@pytest.fixture
async def make_client(
    llm_server: ScriptedLlmServer, sleeps: SleepRecorder
) -> AsyncIterator[MakeClient]:
    """Clients of `llm_server` with recorded sleeps and a fixed jitter (rng = 0.5)."""
    clients: list[OpenAIChatClient] = []

    def make(**overrides: Any) -> OpenAIChatClient:
        fields: dict[str, Any] = {
            "base_url": llm_server.base_url,
            "model": "test-model",
            "timeout_s": 2.0,
            "max_retries": 2,
        }
        client = OpenAIChatClient(
            LlmEndpoint(**(fields | overrides)), sleep=sleeps, rng=lambda: 0.5
        )
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.aclose()
