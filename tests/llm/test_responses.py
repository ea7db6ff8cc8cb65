"""2xx bodies that are not chat completions become LlmProtocolError with status and snippet."""

from __future__ import annotations

import pytest

from sysward.llm import ChatMessage, LlmProtocolError
from sysward.llm.responses import snippet
from sysward.llm.scripted import ScriptedLlmServer, ScriptedReply

from .conftest import MakeClient

QUESTION = [ChatMessage(role="user", content="hi")]


async def protocol_error(server: ScriptedLlmServer, client_maker: MakeClient) -> LlmProtocolError:
    with pytest.raises(LlmProtocolError) as caught:
        await client_maker().complete(QUESTION, [])
    assert server.call_count == 1, "a protocol error is not retried"
    return caught.value


async def test_html_with_status_200_is_a_protocol_error(
    llm_server: ScriptedLlmServer, make_client: MakeClient
) -> None:
    page = "<html><head><title>Captive portal</title></head><body>Log in first</body></html>"
    llm_server.enqueue(ScriptedReply(text=page, headers={"Content-Type": "text/html"}))
    error = await protocol_error(llm_server, make_client)
    assert (error.status, error.snippet) == (200, "Captive portal Log in first")
    assert "answered HTTP 200 with a body that is not JSON: Captive portal" in str(error)


async def test_json_without_choices_is_a_protocol_error(
    llm_server: ScriptedLlmServer, make_client: MakeClient
) -> None:
    llm_server.enqueue({"object": "list", "data": []})
    error = await protocol_error(llm_server, make_client)
    assert "JSON that is not a chat completion (choices: Field required)" in str(error)


async def test_empty_choices_is_a_protocol_error(
    llm_server: ScriptedLlmServer, make_client: MakeClient
) -> None:
    llm_server.enqueue({"choices": []})
    error = await protocol_error(llm_server, make_client)
    assert "not a chat completion (choices:" in str(error)


async def test_choice_without_a_message_is_a_protocol_error(
    llm_server: ScriptedLlmServer, make_client: MakeClient
) -> None:
    llm_server.enqueue({"choices": [{"index": 0, "text": "legacy completions API"}]})
    error = await protocol_error(llm_server, make_client)
    assert "choices.0.message: Field required" in str(error)


async def test_error_object_with_status_200_names_the_error(
    llm_server: ScriptedLlmServer, make_client: MakeClient
) -> None:
    llm_server.enqueue({"error": {"message": "upstream provider timed out", "code": 504}})
    error = await protocol_error(llm_server, make_client)
    assert "an error instead of a completion (upstream provider timed out)" in str(error)


def test_snippet_is_short_and_on_one_line() -> None:
    text = "line one\n\n   line two " + "x" * 500
    short = snippet(text)
    assert short.startswith("line one line two x")
    assert len(short) == 200 and short.endswith("…")
    assert snippet("") == "(empty body)"


def test_snippet_drops_scripts_and_styles_from_html() -> None:
    page = "<html><style>p {color: red}</style><script>var a = 1;</script><p>Oops</p></html>"
    assert snippet(page) == "Oops"


async def test_absurdly_nested_json_is_a_protocol_error_not_a_crash(
    llm_server: ScriptedLlmServer, make_client: MakeClient
) -> None:
    llm_server.enqueue(ScriptedReply(text="[" * 100_000 + "]" * 100_000))
    error = await protocol_error(llm_server, make_client)
    assert "not JSON" in str(error)
