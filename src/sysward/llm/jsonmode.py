"""The `json` tool-call mode: tools described in the system prompt, calls as JSON content.

No `tools` go in the request. The model answers a call with
`{"tool": ..., "action": ..., "args": {...}}` (or a list of them) as its content;
tool results go back as user messages naming the call, since many servers
reject role "tool" without native tool calls.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from pydantic import JsonValue

from sysward.llm.functions import FunctionTable
from sysward.llm.messages import ChatMessage, ToolCall
from sysward.llm.wire import ChatRequest, WireMessage

TOOL_INSTRUCTIONS = """\
# Tools
You can call tools. To call one, reply with only a JSON object and no other text:
{"tool": "<tool>", "action": "<action>", "args": {<arguments>}}
To make several independent calls at once, reply with a JSON array of such objects.
Each result comes back in a user message that starts with "Tool result".
When you need no tool, answer in plain text, not JSON.

Available tools; the args of each follow its JSON Schema:"""


def encode_json_mode(
    model: str, messages: Sequence[ChatMessage], table: FunctionTable
) -> ChatRequest:
    """A request that offers the tools in the system prompt instead of `tools`."""
    calls_by_id = {call.id: call for message in messages for call in message.tool_calls}
    wire = [_encode(message, calls_by_id) for message in messages]
    if len(table):
        wire = _with_tool_instructions(wire, describe_tools(table))
    return ChatRequest(model=model, messages=_merge_adjacent_user_messages(wire), stream=False)


def describe_tools(table: FunctionTable) -> str:
    """The system-prompt addendum listing every offered (tool, action) and its schema."""
    lines = [TOOL_INSTRUCTIONS]
    for _, spec in table:
        description = " ".join(spec.description.split()) or "(no description)"
        lines.append(f'- tool "{spec.tool}", action "{spec.action}": {description}')
        lines.append(f"  args schema: {_compact(spec.parameters)}")
    return "\n".join(lines)


def canonical_calls(calls: Sequence[ToolCall]) -> str:
    """Calls written the way json mode asks the model to write them."""
    objects: list[JsonValue] = [
        {"tool": call.tool, "action": call.action, "args": call.args} for call in calls
    ]
    return _compact(objects[0] if len(objects) == 1 else objects)


def tool_result_text(message: ChatMessage, call: ToolCall | None) -> str:
    """A tool result as a user message's text, naming the call it answers."""
    about = f", {call.tool} {call.action}" if call is not None else ""
    return f"Tool result (call {message.tool_call_id}{about}):\n{message.content or ''}"


def _encode(message: ChatMessage, calls_by_id: dict[str, ToolCall]) -> WireMessage:
    if message.role == "tool":
        call = calls_by_id.get(message.tool_call_id or "")
        return WireMessage(role="user", content=tool_result_text(message, call))
    if message.role == "assistant" and message.tool_calls:
        return WireMessage(role="assistant", content=canonical_calls(message.tool_calls))
    return WireMessage(role=message.role, content=message.content or "")


def _with_tool_instructions(wire: list[WireMessage], instructions: str) -> list[WireMessage]:
    if wire and wire[0].role == "system":
        prompt = f"{wire[0].content}\n\n{instructions}" if wire[0].content else instructions
        return [WireMessage(role="system", content=prompt), *wire[1:]]
    return [WireMessage(role="system", content=instructions), *wire]


def _merge_adjacent_user_messages(wire: list[WireMessage]) -> list[WireMessage]:
    # Several chat templates insist that user and assistant turns alternate.
    merged: list[WireMessage] = []
    for message in wire:
        if merged and message.role == "user" and merged[-1].role == "user":
            text = f"{merged[-1].content or ''}\n\n{message.content or ''}"
            merged[-1] = WireMessage(role="user", content=text)
        else:
            merged.append(message)
    return merged


def _compact(value: JsonValue) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
