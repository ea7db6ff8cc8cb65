"""Native mode on the wire: tools as functions, calls and results in the OpenAI shape."""

from __future__ import annotations

import json
from typing import Any

from sysward.llm import ChatMessage, ToolCall
from sysward.llm.functions import FunctionTable
from sysward.llm.native import NativeEncoder
from sysward.llm.scripted import (
    ScriptedLlmServer,
    native_call,
    text_completion,
    tool_calls_completion,
)

from .conftest import CRYPTO_GENERATE_KEY, SYSTEMD_STATUS, TOOLS, MakeClient

STATUS_CALL = ToolCall(id="call_a", tool="systemd", action="status", args={"unit": "nginx"})
KEY_CALL = ToolCall(id="call_b", tool="crypto", action="generate_key", args={"bits": 256})


def sent(server: ScriptedLlmServer, index: int = -1) -> dict[str, Any]:
    body = server.requests[index].json()
    assert isinstance(body, dict)
    return body


async def test_tools_are_offered_as_functions_with_their_schemas(
    llm_server: ScriptedLlmServer, make_client: MakeClient
) -> None:
    llm_server.enqueue(text_completion("ok"))
    await make_client().complete([ChatMessage(role="user", content="hi")], TOOLS)
    body = sent(llm_server)
    assert (body["model"], body["stream"]) == ("test-model", False)
    assert body["tools"][0] == {
        "type": "function",
        "function": {
            "name": "systemd_status",
            "description": SYSTEMD_STATUS.description,
            "parameters": SYSTEMD_STATUS.parameters,
        },
    }
    names = [tool["function"]["name"] for tool in body["tools"]]
    assert names == ["systemd_status", "crypto_generate_key", "net_port_check"]
    assert body["messages"] == [{"role": "user", "content": "hi"}]


async def test_no_tools_key_when_no_tools_are_offered(
    llm_server: ScriptedLlmServer, make_client: MakeClient
) -> None:
    llm_server.enqueue(text_completion("ok"))
    await make_client().complete([ChatMessage(role="user", content="hi")], [])
    assert "tools" not in sent(llm_server)


async def test_calls_and_results_go_back_in_the_openai_shape(
    llm_server: ScriptedLlmServer, make_client: MakeClient
) -> None:
    llm_server.enqueue(text_completion("done"))
    conversation = [
        ChatMessage(role="system", content="You are ops."),
        ChatMessage(role="user", content="check"),
        ChatMessage(role="assistant", content=None, tool_calls=[STATUS_CALL, KEY_CALL]),
        ChatMessage(role="tool", content='{"ok": true}', tool_call_id="call_a"),
        ChatMessage(role="tool", content='{"ok": false}', tool_call_id="call_b"),
    ]
    await make_client().complete(conversation, TOOLS)
    messages = sent(llm_server)["messages"]
    assert messages[2] == {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {
                "id": "call_a",
                "type": "function",
                "function": {"name": "systemd_status", "arguments": '{"unit": "nginx"}'},
            },
            {
                "id": "call_b",
                "type": "function",
                "function": {"name": "crypto_generate_key", "arguments": '{"bits": 256}'},
            },
        ],
    }
    assert messages[3:] == [
        {"role": "tool", "content": '{"ok": true}', "tool_call_id": "call_a"},
        {"role": "tool", "content": '{"ok": false}', "tool_call_id": "call_b"},
    ]


async def test_a_decoded_call_round_trips_to_the_same_function_name(
    llm_server: ScriptedLlmServer, make_client: MakeClient
) -> None:
    llm_server.enqueue(
        tool_calls_completion(native_call("crypto_generate_key", {"bits": 512}, call_id="k1")),
        text_completion("here is your key"),
    )
    client = make_client()
    question = ChatMessage(role="user", content="a key please")
    reply = await client.complete([question], [CRYPTO_GENERATE_KEY])
    assert [(c.tool, c.action) for c in reply.tool_calls] == [("crypto", "generate_key")]
    answer = ChatMessage(role="assistant", content=reply.content, tool_calls=reply.tool_calls)
    result = ChatMessage(role="tool", content='{"ok": true}', tool_call_id="k1")
    final = await client.complete([question, answer, result], [CRYPTO_GENERATE_KEY])
    assert final.content == "here is your key"
    function = sent(llm_server)["messages"][1]["tool_calls"][0]["function"]
    assert (function["name"], json.loads(function["arguments"])) == (
        "crypto_generate_key",
        {"bits": 512},
    )


async def test_result_for_a_malformed_call_goes_as_a_user_message_after_the_tool_results(
    llm_server: ScriptedLlmServer, make_client: MakeClient
) -> None:
    llm_server.enqueue(text_completion("sorry"))
    conversation = [
        ChatMessage(role="user", content="check"),
        ChatMessage(role="assistant", content=None, tool_calls=[STATUS_CALL]),
        ChatMessage(role="tool", content="bad JSON in your call", tool_call_id="call_0_deadbeef"),
        ChatMessage(role="tool", content='{"ok": true}', tool_call_id="call_a"),
    ]
    await make_client().complete(conversation, TOOLS)
    messages = sent(llm_server)["messages"]
    assert [m["role"] for m in messages] == ["user", "assistant", "tool", "user"]
    assert messages[2]["tool_call_id"] == "call_a"
    assert messages[3]["content"].startswith("Tool result (call call_0_deadbeef)")
    assert "bad JSON in your call" in messages[3]["content"]


async def test_base_url_with_a_trailing_slash_posts_to_the_same_path(
    llm_server: ScriptedLlmServer, make_client: MakeClient
) -> None:
    llm_server.enqueue(text_completion("a"), text_completion("b"))
    question = [ChatMessage(role="user", content="hi")]
    await make_client(base_url=llm_server.base_url + "/").complete(question, [])
    await make_client(base_url=llm_server.base_url).complete(question, [])
    assert [r.path for r in llm_server.requests] == ["/v1/chat/completions"] * 2
    assert all(r.headers["content-type"] == "application/json" for r in llm_server.requests)


async def test_non_ascii_and_lone_surrogates_are_sent_as_valid_json(
    llm_server: ScriptedLlmServer, make_client: MakeClient
) -> None:
    llm_server.enqueue(text_completion("ok"))
    odd = ToolCall(id="c1", tool="systemd", action="status", args={"unit": "caf\u00e9\ud800"})
    conversation = [
        ChatMessage(role="user", content="état du service ✓"),
        ChatMessage(role="assistant", content=None, tool_calls=[odd]),
        ChatMessage(role="tool", content="sortie \ud83d", tool_call_id="c1"),
    ]
    await make_client().complete(conversation, TOOLS)
    messages = sent(llm_server)["messages"]
    assert messages[0]["content"] == "état du service ✓"
    arguments = messages[1]["tool_calls"][0]["function"]["arguments"]
    assert json.loads(arguments) == {"unit": "caf\u00e9\ud800"}


def growing_conversation() -> list[ChatMessage]:
    messages = [ChatMessage(role="system", content="sys"), ChatMessage(role="user", content="go")]
    for index in range(6):
        call = STATUS_CALL.model_copy(update={"id": f"call_{index}"})
        messages.append(ChatMessage(role="assistant", content=None, tool_calls=[call]))
        messages.append(ChatMessage(role="tool", tool_call_id=call.id, content=f'{{"n":{index}}}'))
    # A result answering no call of the message before it: sent as a user message.
    messages.append(ChatMessage(role="tool", tool_call_id="call_0", content="late"))
    messages.append(ChatMessage(role="assistant", content="done"))
    return messages


def test_an_encoder_that_reuses_earlier_messages_sends_what_a_fresh_one_would() -> None:
    table = FunctionTable(TOOLS)
    conversation = growing_conversation()
    reused = NativeEncoder()
    for end in range(1, len(conversation) + 1):
        # Each request is a new list (fit_context builds one) with a new system message.
        messages = [conversation[0].model_copy(), *conversation[1:end]]
        assert reused.encode("m", messages, table) == NativeEncoder().encode("m", messages, table)
    body = json.loads(reused.encode("m", conversation, table))
    assert body["messages"][-2]["role"] == "user" and "late" in body["messages"][-2]["content"]


def test_a_changed_earlier_message_or_tool_set_is_encoded_again() -> None:
    table = FunctionTable(TOOLS)
    conversation = growing_conversation()
    encoder = NativeEncoder()
    encoder.encode("m", conversation, table)
    edited = list(conversation)
    edited[3] = edited[3].model_copy(update={"content": '{"n":"edited"}'})
    assert b"edited" in encoder.encode("m", edited, table)
    fewer = FunctionTable(TOOLS[:1])
    assert encoder.encode("m", edited, fewer) == NativeEncoder().encode("m", edited, fewer)
