"""The boundary between the agent loop and the LLM client: messages, tool calls, replies.

The agent speaks only these types; how they go on the wire (native tool calls or
JSON in content) is the client's business.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field, JsonValue, model_validator


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ToolCall(_Model):
    """One decoded call of an offered (tool, action) with its arguments."""

    id: str
    tool: str
    action: str
    args: dict[str, JsonValue] = Field(default_factory=dict)


class MalformedCall(_Model):
    """Output that was clearly an attempted tool call but could not be decoded.

    The agent answers it with an error observation (a `tool` message whose
    `tool_call_id` is this `id`) so the model can correct itself.
    """

    id: str
    raw: str
    error: str


class Usage(_Model):
    """Token counts as reported by the server; any of them may be missing."""

    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    total_tokens: int | None = None


class LlmReply(_Model):
    """What one chat completion produced, decoded into our canonical form."""

    content: str | None
    reasoning: str | None = None
    tool_calls: list[ToolCall] = Field(default_factory=list)
    malformed: list[MalformedCall] = Field(default_factory=list)
    finish_reason: str | None = None
    usage: Usage | None = None
    model: str | None = None
    latency_ms: float = Field(ge=0, description="Wall time of the call, retries included")
    attempts: int = Field(ge=1, description="HTTP requests made, the successful one included")


class ChatMessage(_Model):
    """One message of a conversation in canonical form.

    An assistant message carries the calls it made; a `tool` message answers one
    call (or one MalformedCall) by `tool_call_id`, its content the tool's result.
    """

    role: Literal["system", "user", "assistant", "tool"]
    content: str | None
    tool_calls: list[ToolCall] = Field(default_factory=list)
    tool_call_id: str | None = None

    @model_validator(mode="after")
    def _calls_fit_the_role(self) -> ChatMessage:
        if self.tool_calls and self.role != "assistant":
            raise ValueError(f"only assistant messages carry tool_calls, not {self.role}")
        if (self.role == "tool") != (self.tool_call_id is not None):
            raise ValueError("a tool message, and only a tool message, has a tool_call_id")
        return self


def _no_parameters() -> dict[str, JsonValue]:
    return {"type": "object", "properties": {}}


class ToolSpec(_Model):
    """One (tool, action) offered to the model, with the JSON Schema of its arguments."""

    tool: str = Field(min_length=1)
    action: str = Field(min_length=1)
    description: str = ""
    parameters: dict[str, JsonValue] = Field(default_factory=_no_parameters)


class ChatModel(Protocol):
    """The narrow interface the agent loop uses to ask a model for its next step."""

    async def complete(
        self, messages: Sequence[ChatMessage], tools: Sequence[ToolSpec]
    ) -> LlmReply: ...
