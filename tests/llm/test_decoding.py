"""Replies as real servers send them, decoded through the client from a loopback server.

Each quirk below was seen from vLLM, llama.cpp, Ollama, LiteLLM or OpenAI; the
scripted server sends it byte for byte and the client must decode it.
"""

from __future__ import annotations

import json
from typing import Any

from sysward.llm import ChatMessage, LlmReply, OpenAIChatClient
from sysward.llm.scripted import (
    ScriptedLlmServer,
    ScriptedReply,
    completion,
    native_call,
    text_completion,
    tool_calls_completion,
)

from .conftest import TOOLS, MakeClient

USER = [ChatMessage(role="user", content="Is nginx running?")]


async def ask(client: OpenAIChatClient) -> LlmReply:
    return await client.complete(USER, TOOLS)


def message(**fields: Any) -> dict[str, Any]:
    return {"role": "assistant", **fields}


def item(name: str, arguments: Any, **extra: Any) -> dict[str, Any]:
    return {"type": "function", "function": {"name": name, "arguments": arguments}, **extra}


async def test_plain_text_answer(llm_server: ScriptedLlmServer, make_client: MakeClient) -> None:
    llm_server.enqueue(text_completion("nginx is active."))
    reply = await ask(make_client())
    assert (reply.content, reply.tool_calls, reply.malformed) == ("nginx is active.", [], [])
    assert (reply.finish_reason, reply.model, reply.attempts) == ("stop", "scripted-model", 1)
    assert reply.latency_ms > 0


async def test_native_call_with_null_content(
    llm_server: ScriptedLlmServer, make_client: MakeClient
) -> None:
    llm_server.enqueue(tool_calls_completion(native_call("systemd_status", {"unit": "nginx"})))
    reply = await ask(make_client())
    assert reply.content is None
    assert [(c.id, c.tool, c.action, c.args) for c in reply.tool_calls] == [
        ("call_0", "systemd", "status", {"unit": "nginx"})
    ]
    assert reply.finish_reason == "tool_calls"


async def test_empty_and_blank_content_read_as_none(
    llm_server: ScriptedLlmServer, make_client: MakeClient
) -> None:
    call = native_call("systemd_status", {"unit": "a"})
    llm_server.enqueue(
        tool_calls_completion(call, content=""), tool_calls_completion(call, content="\n\n")
    )
    client = make_client()
    assert (await ask(client)).content is None
    assert (await ask(client)).content is None


async def test_arguments_sent_as_an_object(
    llm_server: ScriptedLlmServer, make_client: MakeClient
) -> None:
    llm_server.enqueue(tool_calls_completion(item("systemd_status", {"unit": "sshd"}, id="c1")))
    reply = await ask(make_client())
    assert reply.tool_calls[0].args == {"unit": "sshd"}


async def test_arguments_encoded_twice_are_decoded(
    llm_server: ScriptedLlmServer, make_client: MakeClient
) -> None:
    twice = json.dumps(json.dumps({"unit": "cron"}))
    llm_server.enqueue(tool_calls_completion(item("systemd_status", twice, id="c1")))
    reply = await ask(make_client())
    assert reply.tool_calls[0].args == {"unit": "cron"}


async def test_empty_or_missing_arguments_are_an_empty_object(
    llm_server: ScriptedLlmServer, make_client: MakeClient
) -> None:
    no_arguments = {"id": "c2", "type": "function", "function": {"name": "net_port_check"}}
    llm_server.enqueue(tool_calls_completion(item("net_port_check", "", id="c1"), no_arguments))
    reply = await ask(make_client())
    assert [c.args for c in reply.tool_calls] == [{}, {}]


async def test_missing_ids_are_generated_stable_and_unique(
    llm_server: ScriptedLlmServer, make_client: MakeClient
) -> None:
    body = completion(
        message(
            content=None,
            tool_calls=[
                item("systemd_status", '{"unit": "a"}'),
                item("systemd_status", '{"unit": "a"}', id=""),
            ],
        )
    )
    llm_server.enqueue(body, body)
    client = make_client()
    first, again = await ask(client), await ask(client)
    ids = [c.id for c in first.tool_calls]
    assert ids[0].startswith("call_0_") and ids[1].startswith("call_1_")
    assert len(set(ids)) == 2
    assert [c.id for c in again.tool_calls] == ids


async def test_duplicate_ids_in_one_reply_are_replaced(
    llm_server: ScriptedLlmServer, make_client: MakeClient
) -> None:
    llm_server.enqueue(
        tool_calls_completion(
            item("systemd_status", '{"unit": "a"}', id="dup"),
            item("systemd_status", '{"unit": "b"}', id="dup"),
        )
    )
    reply = await ask(make_client())
    assert reply.tool_calls[0].id == "dup"
    assert reply.tool_calls[1].id not in {"dup", ""}


async def test_parallel_calls_keep_their_order(
    llm_server: ScriptedLlmServer, make_client: MakeClient
) -> None:
    llm_server.enqueue(
        tool_calls_completion(
            native_call("systemd_status", {"unit": "a"}),
            native_call("crypto_generate_key", {"bits": 128}),
            native_call("net_port_check", {"port": 22}),
        )
    )
    reply = await ask(make_client())
    assert [(c.tool, c.action) for c in reply.tool_calls] == [
        ("systemd", "status"),
        ("crypto", "generate_key"),
        ("net", "port_check"),
    ]


async def test_finish_reason_stop_with_tool_calls_still_gives_the_calls(
    llm_server: ScriptedLlmServer, make_client: MakeClient
) -> None:
    llm_server.enqueue(
        tool_calls_completion(native_call("systemd_status", {"unit": "a"}), finish_reason="stop")
    )
    reply = await ask(make_client())
    assert (reply.finish_reason, len(reply.tool_calls)) == ("stop", 1)


async def test_bad_native_calls_are_malformed_beside_good_ones(
    llm_server: ScriptedLlmServer, make_client: MakeClient
) -> None:
    llm_server.enqueue(
        tool_calls_completion(
            item("systemd_status", '{"unit": ', id="bad_json"),
            item("shutdown_now", "{}", id="unknown"),
            item("systemd_status", "[1, 2]", id="not_object"),
            item("systemd_status", '{"unit": NaN}', id="not_json_number"),
            item("systemd_status", '{"unit": "ok"}', id="good"),
        )
    )
    reply = await ask(make_client())
    assert [c.id for c in reply.tool_calls] == ["good"]
    errors = {m.id: m.error for m in reply.malformed}
    assert "not valid JSON" in errors["bad_json"]
    assert "unknown function 'shutdown_now'" in errors["unknown"]
    assert "must be a JSON object" in errors["not_object"]
    assert "NaN is not valid JSON" in errors["not_json_number"]
    assert "systemd_status" in next(m.raw for m in reply.malformed if m.id == "bad_json")


async def test_hermes_tag_in_content_is_a_call_in_native_mode(
    llm_server: ScriptedLlmServer, make_client: MakeClient
) -> None:
    call = '{"name": "systemd_status", "arguments": {"unit": "x"}}'
    text = f"Checking.\n<tool_call>\n{call}\n</tool_call>"
    llm_server.enqueue(completion(message(content=text, tool_calls=[])))
    reply = await ask(make_client())
    assert reply.content == "Checking."
    assert [(c.tool, c.args) for c in reply.tool_calls] == [("systemd", {"unit": "x"})]


async def test_fenced_json_call_in_content_is_a_call_in_native_mode(
    llm_server: ScriptedLlmServer, make_client: MakeClient
) -> None:
    text = '```json\n{"tool": "net", "action": "port_check", "args": {"port": 80}}\n```'
    llm_server.enqueue(text_completion(text))
    reply = await ask(make_client())
    assert (reply.content, [c.args for c in reply.tool_calls]) == (None, [{"port": 80}])


async def test_bare_json_array_as_content_is_parallel_calls(
    llm_server: ScriptedLlmServer, make_client: MakeClient
) -> None:
    calls = [
        {"name": "systemd_status", "arguments": {"unit": "a"}},
        {"name": "systemd_status", "arguments": {"unit": "b"}},
    ]
    llm_server.enqueue(text_completion(json.dumps(calls)))
    reply = await ask(make_client())
    assert [c.args["unit"] for c in reply.tool_calls] == ["a", "b"]


async def test_native_calls_win_over_call_like_text(
    llm_server: ScriptedLlmServer, make_client: MakeClient
) -> None:
    text = '{"tool": "net", "action": "port_check", "args": {}}'
    llm_server.enqueue(
        tool_calls_completion(native_call("systemd_status", {"unit": "a"}), content=text)
    )
    reply = await ask(make_client())
    assert [c.tool for c in reply.tool_calls] == ["systemd"]
    assert reply.content == text


async def test_reasoning_content_and_reasoning_are_captured(
    llm_server: ScriptedLlmServer, make_client: MakeClient
) -> None:
    llm_server.enqueue(
        text_completion("yes", reasoning="nginx.service is listed"),
        completion(message(content="yes", reasoning="from ollama")),
    )
    client = make_client()
    assert (await ask(client)).reasoning == "nginx.service is listed"
    assert (await ask(client)).reasoning == "from ollama"


async def test_think_block_in_content_becomes_reasoning(
    llm_server: ScriptedLlmServer, make_client: MakeClient
) -> None:
    text = '<think>I should call {"tool": "x"}</think>\n\nnginx is fine.'
    llm_server.enqueue(text_completion(text))
    reply = await ask(make_client())
    assert (reply.content, reply.reasoning) == ("nginx is fine.", 'I should call {"tool": "x"}')
    assert reply.malformed == []


async def test_usage_present_partial_or_absent(
    llm_server: ScriptedLlmServer, make_client: MakeClient
) -> None:
    without = text_completion("a")
    del without["usage"]
    partial = completion(message(content="b"), usage={"prompt_tokens": 7, "total_tokens": "x"})
    llm_server.enqueue(text_completion("c"), without, partial)
    client = make_client()
    full = await ask(client)
    assert full.usage is not None and full.usage.total_tokens == 15
    assert (await ask(client)).usage is None
    some = await ask(client)
    assert some.usage is not None
    assert (some.usage.prompt_tokens, some.usage.total_tokens) == (7, None)


async def test_unknown_fields_are_ignored(
    llm_server: ScriptedLlmServer, make_client: MakeClient
) -> None:
    body = completion(
        message(
            content=None,
            refusal=None,
            annotations=[],
            tool_calls=[item("systemd_status", "{}", id="c1", index=0, extra={"x": 1})],
        )
    )
    body["system_fingerprint"] = "fp_123"
    body["choices"][0]["logprobs"] = None
    body["usage"]["prompt_tokens_details"] = {"cached_tokens": 0}
    llm_server.enqueue(body)
    reply = await ask(make_client())
    assert [c.id for c in reply.tool_calls] == ["c1"]


async def test_content_as_a_list_of_parts_is_joined(
    llm_server: ScriptedLlmServer, make_client: MakeClient
) -> None:
    parts = [{"type": "text", "text": "nginx "}, {"type": "text", "text": "is up"}]
    llm_server.enqueue(completion(message(content=parts)))
    assert (await ask(make_client())).content == "nginx is up"


async def test_legacy_function_call_is_a_call(
    llm_server: ScriptedLlmServer, make_client: MakeClient
) -> None:
    legacy = {"name": "systemd_status", "arguments": '{"unit": "a"}'}
    llm_server.enqueue(completion(message(content=None, function_call=legacy)))
    reply = await ask(make_client())
    assert [(c.tool, c.args) for c in reply.tool_calls] == [("systemd", {"unit": "a"})]


async def test_json_answer_that_is_not_a_call_is_content(
    llm_server: ScriptedLlmServer, make_client: MakeClient
) -> None:
    llm_server.enqueue(text_completion('{"active": true}'))
    reply = await ask(make_client())
    assert (reply.content, reply.tool_calls, reply.malformed) == ('{"active": true}', [], [])


async def test_lone_surrogate_escapes_become_replacement_characters(
    llm_server: ScriptedLlmServer, make_client: MakeClient
) -> None:
    # Written as JSON text, escapes and all: json.dumps cannot produce them.
    arguments = json.dumps('{"unit": "x\\ud800"}')  # a lone escape inside the arguments
    native = (
        '{"choices": [{"message": {"content": "bad \\ud800 good \\ud83d\\ude00", '
        '"tool_calls": [{"id": "c1", "function": {"name": "systemd_status", '
        f'"arguments": {arguments}}}}}]}}}}]}}'
    )
    as_text = '{"tool": "net", "action": "port_check", "args": {"host": "\\udfff"}}'
    llm_server.enqueue(ScriptedReply(text=native), text_completion(as_text))
    client = make_client()
    reply = await ask(client)
    assert reply.content == "bad \ufffd good \U0001f600"
    assert reply.tool_calls[0].args == {"unit": "x\ufffd"}
    reply.model_dump_json()  # storable as an event: no lone surrogate survived
    written = await ask(client)
    assert written.tool_calls[0].args == {"host": "\ufffd"}
    written.model_dump_json()


async def test_absurdly_nested_arguments_are_malformed_not_a_crash(
    llm_server: ScriptedLlmServer, make_client: MakeClient
) -> None:
    nested = "[" * 600 + "]" * 600
    llm_server.enqueue(tool_calls_completion(item("systemd_status", f'{{"unit": {nested}}}')))
    reply = await ask(make_client())
    assert reply.tool_calls == []
    assert reply.malformed[0].error == "arguments are nested too deeply"
