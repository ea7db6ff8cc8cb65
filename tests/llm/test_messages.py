"""The canonical message types the agent loop speaks."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from sysward.llm import ChatMessage, ToolCall


def test_only_assistant_messages_carry_tool_calls() -> None:
    call = ToolCall(id="c1", tool="proc", action="list", args={})
    assert ChatMessage(role="assistant", content=None, tool_calls=[call]).tool_calls == [call]
    with pytest.raises(ValidationError, match="only assistant messages carry tool_calls"):
        ChatMessage(role="user", content="hi", tool_calls=[call])


def test_a_tool_message_needs_the_id_of_the_call_it_answers() -> None:
    with pytest.raises(ValidationError, match="tool_call_id"):
        ChatMessage(role="tool", content="{}")
    with pytest.raises(ValidationError, match="tool_call_id"):
        ChatMessage(role="user", content="hi", tool_call_id="c1")


def test_messages_round_trip_through_json() -> None:
    call = ToolCall(id="c1", tool="file", action="read", args={"path": "/etc/hostname"})
    message = ChatMessage(role="assistant", content="reading", tool_calls=[call])
    assert ChatMessage.model_validate_json(message.model_dump_json()) == message
