"""The client against llmock, an independent OpenAI-compatible mock server (optional peer).

llmock writes its own tool calls (ids, schema-valid arguments, finish_reason)
and its own error bodies, so these tests check our reading of the wire format
against someone else's. Skipped when llmock is not installed.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from sysward.config import LlmEndpoint
from sysward.llm import ChatMessage, LlmRejected, OpenAIChatClient

from .conftest import NET_PORT_CHECK, SYSTEMD_STATUS, SleepRecorder

testing = pytest.importorskip("llmock.testing")
scenarios = pytest.importorskip("llmock.scenarios")

QUESTION = ChatMessage(role="user", content="What is the systemd status of the nginx unit?")
TOOLS = [SYSTEMD_STATUS, NET_PORT_CHECK]


@pytest.fixture(scope="module")
def llmock_server() -> Iterator[Any]:
    # Started outside the event loop: llmock's server runs in its own thread.
    with testing.LLMockServer() as server:
        yield server


@pytest.fixture
def llmock(llmock_server: Any) -> Iterator[Any]:
    llmock_server.state.reset()
    yield llmock_server
    llmock_server.state.reset()


def client_of(server: Any, sleeps: SleepRecorder) -> OpenAIChatClient:
    endpoint = LlmEndpoint(
        base_url=server.base_url("openai"), model="gpt-4o-mini", timeout_s=5, max_retries=2
    )
    return OpenAIChatClient(endpoint, sleep=sleeps, rng=lambda: 0.5)


async def test_native_tool_call_round_trip(llmock: Any, sleeps: SleepRecorder) -> None:
    async with client_of(llmock, sleeps) as client:
        first = await client.complete([QUESTION], TOOLS)
        assert first.malformed == []
        [call] = first.tool_calls
        assert (call.tool, call.action) == ("systemd", "status")
        assert call.id and isinstance(call.args.get("unit"), str)
        history = [
            QUESTION,
            ChatMessage(role="assistant", content=first.content, tool_calls=first.tool_calls),
            ChatMessage(
                role="tool", content='{"ok": true, "output": "active"}', tool_call_id=call.id
            ),
        ]
        second = await client.complete(history, TOOLS)
    assert second.tool_calls == [] and second.content
    assert second.usage is not None and second.usage.total_tokens


async def test_rate_limit_with_retry_after_is_honoured(llmock: Any, sleeps: SleepRecorder) -> None:
    llmock.state.scenarios.add(scenarios.Fail(429, retry_after=2))
    async with client_of(llmock, sleeps) as client:
        reply = await client.complete([QUESTION], [])
    assert reply.attempts == 2
    assert sleeps.delays == [2.0]


async def test_malformed_arguments_become_a_malformed_call(
    llmock: Any, sleeps: SleepRecorder
) -> None:
    llmock.state.scenarios.add(scenarios.ToolFault("malformed_arguments"))
    async with client_of(llmock, sleeps) as client:
        reply = await client.complete([QUESTION], TOOLS)
    assert reply.tool_calls == []
    assert "not valid JSON" in reply.malformed[0].error


async def test_unknown_tool_becomes_a_malformed_call(llmock: Any, sleeps: SleepRecorder) -> None:
    llmock.state.scenarios.add(scenarios.ToolFault("unknown_tool"))
    async with client_of(llmock, sleeps) as client:
        reply = await client.complete([QUESTION], TOOLS)
    assert reply.tool_calls == []
    assert "unknown function" in reply.malformed[0].error


async def test_unauthorized_is_rejected_with_the_server_message(
    llmock: Any, sleeps: SleepRecorder
) -> None:
    llmock.state.scenarios.add(scenarios.Fail(401, message="Invalid API key"))
    async with client_of(llmock, sleeps) as client:
        with pytest.raises(LlmRejected) as caught:
            await client.complete([QUESTION], [])
    assert caught.value.status == 401
    assert "Invalid API key" in caught.value.server_message
    assert sleeps.delays == []
