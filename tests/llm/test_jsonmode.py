"""JSON mode on the wire: tools in the system prompt, calls as JSON content, results as text."""

from __future__ import annotations

import json
from typing import Any

from sysward.llm import ChatMessage, ToolCall
from sysward.llm.scripted import ScriptedLlmServer, json_call_completion, text_completion

from .conftest import SYSTEMD_STATUS, TOOLS, MakeClient

STATUS_CALL = ToolCall(id="call_a", tool="systemd", action="status", args={"unit": "nginx"})
PORT_CALL = ToolCall(id="call_b", tool="net", action="port_check", args={"port": 22})


def sent(server: ScriptedLlmServer) -> dict[str, Any]:
    body = server.requests[-1].json()
    assert isinstance(body, dict)
    return body


async def test_tools_are_described_in_the_system_prompt_not_offered(
    llm_server: ScriptedLlmServer, make_client: MakeClient
) -> None:
    llm_server.enqueue(text_completion("ok"))
    conversation = [
        ChatMessage(role="system", content="You are ops."),
        ChatMessage(role="user", content="hi"),
    ]
    await make_client(tool_calls="json").complete(conversation, TOOLS)
    body = sent(llm_server)
    assert "tools" not in body
    assert body["stream"] is False
    system = body["messages"][0]
    assert system["role"] == "system"
    assert system["content"].startswith("You are ops.\n\n# Tools")
    assert '{"tool": "<tool>", "action": "<action>", "args": {<arguments>}}' in system["content"]
    assert 'tool "crypto", action "generate_key"' in system["content"]
    schema = json.dumps(SYSTEMD_STATUS.parameters, separators=(",", ":"))
    assert f"args schema: {schema}" in system["content"]


async def test_a_system_prompt_is_added_when_there_is_none(
    llm_server: ScriptedLlmServer, make_client: MakeClient
) -> None:
    llm_server.enqueue(text_completion("ok"))
    await make_client(tool_calls="json").complete([ChatMessage(role="user", content="hi")], TOOLS)
    roles = [m["role"] for m in sent(llm_server)["messages"]]
    assert roles == ["system", "user"]


async def test_no_tool_prompt_when_no_tools_are_offered(
    llm_server: ScriptedLlmServer, make_client: MakeClient
) -> None:
    llm_server.enqueue(text_completion("ok"))
    await make_client(tool_calls="json").complete([ChatMessage(role="user", content="hi")], [])
    assert sent(llm_server)["messages"] == [{"role": "user", "content": "hi"}]


async def test_calls_go_back_as_json_content_and_results_as_one_user_message(
    llm_server: ScriptedLlmServer, make_client: MakeClient
) -> None:
    llm_server.enqueue(text_completion("both fine"))
    conversation = [
        ChatMessage(role="user", content="check"),
        ChatMessage(role="assistant", content=None, tool_calls=[STATUS_CALL, PORT_CALL]),
        ChatMessage(role="tool", content='{"ok": true, "output": "active"}', tool_call_id="call_a"),
        ChatMessage(role="tool", content='{"ok": true, "output": "open"}', tool_call_id="call_b"),
    ]
    await make_client(tool_calls="json").complete(conversation, TOOLS)
    messages = sent(llm_server)["messages"][1:]
    assert all(m["role"] != "tool" and "tool_calls" not in m for m in messages)
    assert [m["role"] for m in messages] == ["user", "assistant", "user"]
    assert json.loads(messages[1]["content"]) == [
        {"tool": "systemd", "action": "status", "args": {"unit": "nginx"}},
        {"tool": "net", "action": "port_check", "args": {"port": 22}},
    ]
    results = messages[2]["content"]
    assert results.startswith("Tool result (call call_a, systemd status):\n")
    assert 'Tool result (call call_b, net port_check):\n{"ok": true, "output": "open"}' in results


async def test_a_json_call_in_the_reply_is_decoded(
    llm_server: ScriptedLlmServer, make_client: MakeClient
) -> None:
    llm_server.enqueue(json_call_completion("systemd", "status", {"unit": "sshd"}))
    reply = await make_client(tool_calls="json").complete(
        [ChatMessage(role="user", content="sshd?")], TOOLS
    )
    assert reply.content is None
    assert [(c.tool, c.action, c.args) for c in reply.tool_calls] == [
        ("systemd", "status", {"unit": "sshd"})
    ]


async def test_a_call_of_a_tool_not_offered_is_malformed(
    llm_server: ScriptedLlmServer, make_client: MakeClient
) -> None:
    llm_server.enqueue(json_call_completion("bash", "exec", {"command": "id"}))
    reply = await make_client(tool_calls="json").complete(
        [ChatMessage(role="user", content="who am i")], [SYSTEMD_STATUS]
    )
    assert reply.tool_calls == []
    assert "unknown tool 'bash' action 'exec'" in reply.malformed[0].error
    assert "offered: systemd.status" in reply.malformed[0].error
