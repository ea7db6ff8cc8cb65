"""The `native` tool-call mode: tools as OpenAI functions, calls in `tool_calls`.

Each offered (tool, action) is a function named through the FunctionTable
(`systemd_status`); assistant calls and `tool` results go on the wire in the
OpenAI shape. A tool result that answers no call of the assistant message just
before it (a MalformedCall's error, say) would be rejected as a `tool` message,
so it is sent as json mode sends results: a user message naming the call.

An agent's conversation only grows between two requests, so `NativeEncoder`
keeps each earlier message's JSON and encodes only what is new: a step costs
the same at message 200 as at message 2. The tools' JSON is kept too while the
offered tools stay the same.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field

from pydantic import JsonValue

from sysward.llm.functions import FunctionTable
from sysward.llm.jsonmode import tool_result_text
from sysward.llm.messages import ChatMessage, ToolCall

WireDict = dict[str, JsonValue]


@dataclass(slots=True)
class _Segment:
    """A non-tool message and the tool results after it: encoded together, kept together."""

    messages: list[ChatMessage]
    fragments: list[str]
    # The calls seen up to the end of this segment: an orphan result names its call.
    known_calls: dict[str, ToolCall] = field(default_factory=dict)

    def is_same(self, messages: Sequence[ChatMessage]) -> bool:
        if len(messages) != len(self.messages):
            return False
        return all(
            new is old or new == old for new, old in zip(messages, self.messages, strict=True)
        )


@dataclass(slots=True)
class _ToolsJson:
    specs: Sequence[tuple[str, str, str, object]]
    json: str


class NativeEncoder:
    """Encodes requests for one endpoint, reusing the JSON of what it encoded last time."""

    def __init__(self) -> None:
        self._segments: list[_Segment] = []
        self._tools: _ToolsJson | None = None
        self._table_names: dict[tuple[str, str], str] = {}

    def encode(self, model: str, messages: Sequence[ChatMessage], table: FunctionTable) -> bytes:
        """The request body (no `tools` key when none are offered)."""
        names = {(spec.tool, spec.action): name for name, spec in table}
        if names != self._table_names:
            # Calls are written with the table's names: other names, other JSON.
            self._segments, self._table_names = [], names
        fragments = self._messages(messages, table)
        body = f'{{"model": {json.dumps(model)}, "messages": [{", ".join(fragments)}]'
        tools = self._tools_json(table)
        if tools is not None:
            body += f', "tools": {tools}'
        return (body + ', "stream": false}').encode()

    def _messages(self, messages: Sequence[ChatMessage], table: FunctionTable) -> list[str]:
        fragments: list[str] = []
        kept: list[_Segment] = []
        known: dict[str, ToolCall] = {}
        # A segment's JSON depends on the calls before it: reuse only an unchanged prefix.
        is_prefix = True
        for index, segment in enumerate(_split_segments(messages)):
            cached = self._segments[index] if index < len(self._segments) else None
            is_prefix = is_prefix and cached is not None and cached.is_same(segment)
            if cached is not None and is_prefix:
                kept.append(cached)
                fragments += cached.fragments
                known = cached.known_calls
                continue
            encoded = _encode_segment(segment, table, known)
            kept.append(encoded)
            fragments += encoded.fragments
            known = encoded.known_calls
        self._segments = kept
        return fragments

    def _tools_json(self, table: FunctionTable) -> str | None:
        if not len(table):
            return None
        specs = [(name, spec.description, spec.tool, spec.parameters) for name, spec in table]
        cached = self._tools
        if cached is None or not _same_specs(cached.specs, specs):
            tools = [
                {
                    "type": "function",
                    "function": {"name": name, "description": description, "parameters": params},
                }
                for name, description, _, params in specs
            ]
            cached = self._tools = _ToolsJson(specs, json.dumps(tools))
        return cached.json


def _same_specs(
    old: Sequence[tuple[str, str, str, object]], new: Sequence[tuple[str, str, str, object]]
) -> bool:
    # The registry hands out the same parameter schemas each time: identity first.
    return len(old) == len(new) and all(
        a[:3] == b[:3] and (a[3] is b[3] or a[3] == b[3]) for a, b in zip(old, new, strict=True)
    )


def _split_segments(messages: Sequence[ChatMessage]) -> list[list[ChatMessage]]:
    segments: list[list[ChatMessage]] = []
    for message in messages:
        if message.role != "tool" or not segments:
            segments.append([])
        segments[-1].append(message)
    return segments


def _encode_segment(
    messages: list[ChatMessage], table: FunctionTable, known: dict[str, ToolCall]
) -> _Segment:
    head, results = messages[0], messages[1:]
    wire: list[WireDict] = []
    open_calls: dict[str, ToolCall] = {}
    orphans: list[str] = []
    if head.role == "tool":  # a conversation that starts with a result
        results = messages
    else:
        open_calls = {call.id: call for call in head.tool_calls}
        known = {**known, **open_calls}
        wire.append(_assistant(head, table) if head.role == "assistant" else _plain(head))
    for message in results:
        call_id = message.tool_call_id or ""
        call = open_calls.pop(call_id, None)
        if call is None:
            orphans.append(tool_result_text(message, known.get(call_id)))
            continue
        wire.append({"role": "tool", "content": message.content or "", "tool_call_id": call.id})
    # After the matched results: a user message between them would be rejected.
    if orphans:
        wire.append({"role": "user", "content": "\n\n".join(orphans)})
    return _Segment(list(messages), [json.dumps(item) for item in wire], known)


def _plain(message: ChatMessage) -> WireDict:
    return {"role": message.role, "content": message.content or ""}


def _assistant(message: ChatMessage, table: FunctionTable) -> WireDict:
    if not message.tool_calls:
        return {"role": "assistant", "content": message.content or ""}
    calls: list[JsonValue] = [
        {
            "id": call.id,
            "type": "function",
            "function": {
                "name": table.name_for(call.tool, call.action),
                "arguments": json.dumps(call.args, ensure_ascii=False),
            },
        }
        for call in message.tool_calls
    ]
    # The OpenAI shape: `content` is always present, null beside tool_calls.
    return {"role": "assistant", "content": message.content or None, "tool_calls": calls}
