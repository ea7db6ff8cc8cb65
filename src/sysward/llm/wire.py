"""The OpenAI chat-completions wire format: the request we send, the reply we accept.

Requests are strict (we control them); replies are lenient: unknown fields are
ignored and a field of an unexpected type reads as absent rather than failing
the whole reply, because real servers differ in the details.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    JsonValue,
    ValidationError,
    ValidatorFunctionWrapHandler,
    WrapValidator,
)


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class WireFunctionCall(_Request):
    name: str
    arguments: str


class WireToolCall(_Request):
    id: str
    type: Literal["function"] = "function"
    function: WireFunctionCall


class WireMessage(_Request):
    """A message as sent; optional fields that are None are not sent."""

    role: Literal["system", "user", "assistant", "tool"]
    content: str | None
    tool_calls: list[WireToolCall] | None = None
    tool_call_id: str | None = None


class WireFunctionSpec(_Request):
    name: str
    description: str
    parameters: dict[str, JsonValue]


class WireTool(_Request):
    type: Literal["function"] = "function"
    function: WireFunctionSpec


class ChatRequest(_Request):
    """The body of `POST /chat/completions`."""

    model: str
    messages: list[WireMessage]
    tools: list[WireTool] | None = None
    stream: bool = False

    def to_json(self) -> bytes:
        body = self.model_dump(mode="json", exclude_none=True)
        for message in body["messages"]:
            # The OpenAI shape: `content` is always present, null beside tool_calls.
            message.setdefault("content", None)
        # ASCII escapes keep the body valid even if model output held a lone surrogate.
        return json.dumps(body).encode()


def _absent_if_invalid(value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
    try:
        return handler(value)
    except ValidationError:
        return None


Lenient = WrapValidator(_absent_if_invalid)
OptionalStr = Annotated[str | None, Lenient]
OptionalInt = Annotated[int | None, Lenient]


class _Reply(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class ReplyFunction(_Reply):
    """The legacy single `function_call` of a message."""

    name: OptionalStr = None
    arguments: JsonValue = None


class ReplyMessage(_Reply):
    """`choices[0].message` as servers send it."""

    role: OptionalStr = None
    content: Annotated[str | list[JsonValue] | None, Lenient] = None
    reasoning_content: OptionalStr = None
    reasoning: OptionalStr = None
    thinking: OptionalStr = None
    tool_calls: Annotated[list[JsonValue] | None, Lenient] = None
    function_call: Annotated[ReplyFunction | None, Lenient] = None


class ReplyChoice(_Reply):
    message: ReplyMessage
    finish_reason: OptionalStr = None


class ReplyUsage(_Reply):
    prompt_tokens: OptionalInt = None
    completion_tokens: OptionalInt = None
    total_tokens: OptionalInt = None


class ChatCompletion(_Reply):
    """A chat completion: at least one choice with a message."""

    model: OptionalStr = None
    choices: list[ReplyChoice] = Field(min_length=1)
    usage: Annotated[ReplyUsage | None, Lenient] = None
