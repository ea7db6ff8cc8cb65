"""The client as the agent loop sees it: a ChatModel with a lifecycle and clean boundaries."""

from __future__ import annotations

import subprocess
import sys

import httpx
import pytest

from sysward.config import LlmEndpoint
from sysward.llm import ChatMessage, ChatModel, OpenAIChatClient
from sysward.llm.scripted import ScriptedLlmServer, text_completion

from .conftest import TOOLS, MakeClient

QUESTION = [ChatMessage(role="user", content="hi")]


async def ask_any_model(model: ChatModel) -> str | None:
    """Written against the protocol only, as the agent loop is."""
    reply = await model.complete(QUESTION, TOOLS)
    return reply.content


async def test_the_client_is_a_chat_model(
    llm_server: ScriptedLlmServer, make_client: MakeClient
) -> None:
    llm_server.enqueue(text_completion("hello"))
    assert await ask_any_model(make_client()) == "hello"


async def test_context_manager_closes_the_http_client(llm_server: ScriptedLlmServer) -> None:
    llm_server.enqueue(text_completion("once"))
    endpoint = LlmEndpoint(base_url=llm_server.base_url, model="m", timeout_s=2)
    async with OpenAIChatClient(endpoint) as client:
        assert (await client.complete(QUESTION, [])).content == "once"
    with pytest.raises(RuntimeError, match="closed"):
        await client.complete(QUESTION, [])
    assert llm_server.call_count == 1


async def test_a_custom_transport_is_used() -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(200, json=text_completion("from the transport"))

    endpoint = LlmEndpoint(base_url="http://llm.invalid/v1", model="m")
    async with OpenAIChatClient(endpoint, transport=httpx.MockTransport(handler)) as client:
        reply = await client.complete(QUESTION, [])
    assert reply.content == "from the transport"
    assert seen == ["http://llm.invalid/v1/chat/completions"]


async def test_credentials_in_the_base_url_are_not_shown(make_client: MakeClient) -> None:
    client = make_client(base_url="http://user:hunter2@127.0.0.1:9/v1")
    assert "hunter2" not in repr(client)
    assert "http://127.0.0.1:9/v1/chat/completions" in repr(client)


def test_llm_depends_only_on_config_and_errors() -> None:
    code = (
        "import sys, sysward.llm, sysward.llm.scripted\n"
        "print(' '.join(sorted(m for m in sys.modules if m.startswith('sysward'))))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    ours = {name for name in result.stdout.split() if not name.startswith("sysward.llm")}
    assert ours == {"sysward", "sysward.config", "sysward.errors"}
