"""The `native` tool-call mode: tools as OpenAI functions, calls in `tool_calls`.

Each offered (tool, action) is a function named through the FunctionTable
(`systemd_status`); assistant calls and `tool` results go on the wire in the
OpenAI shape. A tool result that answers no call of the assistant message just
before it (a MalformedCall's error, say) would be rejected as a `tool` message,
so it is sent as json mode sends results: a user message naming the call.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from sysward.llm.functions import FunctionTable
from sysward.llm.jsonmode import tool_result_text
from sysward.llm.messages import ChatMessage, ToolCall
from sysward.llm.wire import (
    ChatRequest,
    WireFunctionCall,
    WireFunctionSpec,
    WireMessage,
    WireTool,
    WireToolCall,
)


def encode_native(model: str, messages: Sequence[ChatMessage], table: FunctionTable) -> ChatRequest:
    """A request offering the tools as functions (no `tools` key when none are offered)."""
    tools = [
        WireTool(
            function=WireFunctionSpec(
                name=name, description=spec.description, parameters=spec.parameters
            )
        )
        for name, spec in table
    ]
    return ChatRequest(
        model=model,
        messages=_NativeTranscript(table).encode(messages),
        tools=tools or None,
        stream=False,
    )


class _NativeTranscript:
    """Encodes a conversation, pairing each tool result with the call it answers."""

    def __init__(self, table: FunctionTable) -> None:
        self._table = table
        self._wire: list[WireMessage] = []
        self._open_calls: dict[str, ToolCall] = {}
        self._known_calls: dict[str, ToolCall] = {}
        self._orphans: list[str] = []

    def encode(self, messages: Sequence[ChatMessage]) -> list[WireMessage]:
        for message in messages:
            if message.role == "tool":
                self._add_result(message)
                continue
            self._flush_orphans()
            self._open_calls = {call.id: call for call in message.tool_calls}
            self._known_calls.update(self._open_calls)
            if message.role == "assistant":
                self._wire.append(self._assistant(message))
            else:
                self._wire.append(WireMessage(role=message.role, content=message.content or ""))
        self._flush_orphans()
        return self._wire

    def _add_result(self, message: ChatMessage) -> None:
        call_id = message.tool_call_id or ""
        call = self._open_calls.pop(call_id, None)
        if call is None:
            self._orphans.append(tool_result_text(message, self._known_calls.get(call_id)))
            return
        content = message.content or ""
        self._wire.append(WireMessage(role="tool", content=content, tool_call_id=call.id))

    def _flush_orphans(self) -> None:
        # After the matched results: a user message between them would be rejected.
        if self._orphans:
            self._wire.append(WireMessage(role="user", content="\n\n".join(self._orphans)))
            self._orphans = []

    def _assistant(self, message: ChatMessage) -> WireMessage:
        if not message.tool_calls:
            return WireMessage(role="assistant", content=message.content or "")
        calls = [
            WireToolCall(
                id=call.id,
                function=WireFunctionCall(
                    name=self._table.name_for(call.tool, call.action),
                    arguments=json.dumps(call.args, ensure_ascii=False),
                ),
            )
            for call in message.tool_calls
        ]
        return WireMessage(role="assistant", content=message.content or None, tool_calls=calls)
