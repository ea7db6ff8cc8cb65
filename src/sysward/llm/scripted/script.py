"""What the scripted server answers, call by call, and helpers to write the bodies.

A script is a list of responses, persisted as JSON for `python -m
sysward.llm.scripted --script FILE`: each entry is a `reply` (status, headers,
body, optional delay), a `hang` (never answer) or a `drop` (close the connection
without answering). An entry without `kind` is a chat-completion body for a 200.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue, TypeAdapter

DEFAULT_MODEL = "scripted-model"


class _Entry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ScriptedReply(_Entry):
    """Answer with this status, headers and body, after `delay_s`."""

    kind: Literal["reply"] = "reply"
    status: int = Field(200, ge=100, le=599)
    body: JsonValue = None
    text: str | None = Field(None, description="Raw body sent instead of `body` as JSON")
    headers: dict[str, str] = Field(default_factory=dict)
    delay_s: float = Field(0, ge=0, le=600)

    def payload(self) -> tuple[bytes, str]:
        """The body bytes and their default content type."""
        if self.text is not None:
            return self.text.encode(), "text/plain; charset=utf-8"
        return json.dumps(self.body).encode(), "application/json"


class ScriptedHang(_Entry):
    """Read the request and never answer, until the client gives up or the server stops."""

    kind: Literal["hang"] = "hang"


class ScriptedDrop(_Entry):
    """Read the request and close the connection without answering."""

    kind: Literal["drop"] = "drop"


ScriptedResponse = Annotated[
    ScriptedReply | ScriptedHang | ScriptedDrop, Field(discriminator="kind")
]
_SCRIPT = TypeAdapter(list[ScriptedResponse])


def parse_script(entries: Sequence[JsonValue]) -> list[ScriptedResponse]:
    """Validate script entries; one without `kind` is the body of a 200 reply."""
    wrapped = [
        entry if isinstance(entry, dict) and "kind" in entry else {"kind": "reply", "body": entry}
        for entry in entries
    ]
    return _SCRIPT.validate_python(wrapped)


def load_script(path: Path) -> list[ScriptedResponse]:
    """A script file: a JSON list of entries."""
    entries = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(entries, list):
        raise ValueError(f"{path}: a script is a JSON list of responses")
    return parse_script(entries)


def completion(
    message: dict[str, JsonValue],
    *,
    finish_reason: str | None = "stop",
    model: str = DEFAULT_MODEL,
    usage: dict[str, JsonValue] | None = None,
) -> dict[str, JsonValue]:
    """A chat-completion body whose first choice is `message`."""
    body: dict[str, JsonValue] = {
        "id": "chatcmpl-scripted",
        "object": "chat.completion",
        "created": 0,
        "model": model,
        "choices": [{"index": 0, "message": message, "finish_reason": finish_reason}],
    }
    body["usage"] = usage or {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}
    return body


def text_completion(text: str | None, *, reasoning: str | None = None) -> dict[str, JsonValue]:
    """A plain answer (with optional `reasoning_content`)."""
    message: dict[str, JsonValue] = {"role": "assistant", "content": text}
    if reasoning is not None:
        message["reasoning_content"] = reasoning
    return completion(message)


def native_call(
    name: str, args: dict[str, JsonValue], *, call_id: str | None = None
) -> dict[str, JsonValue]:
    """One OpenAI `tool_calls` item: function `name` with `args` as a JSON string."""
    item: dict[str, JsonValue] = {
        "type": "function",
        "function": {"name": name, "arguments": json.dumps(args)},
    }
    if call_id is not None:
        item["id"] = call_id
    return item


def tool_calls_completion(
    *calls: dict[str, JsonValue], content: str | None = None, finish_reason: str = "tool_calls"
) -> dict[str, JsonValue]:
    """A reply making native tool calls (see `native_call`); ids default to `call_<n>`."""
    items: list[JsonValue] = [
        call if "id" in call else {"id": f"call_{index}", **call}
        for index, call in enumerate(calls)
    ]
    message: dict[str, JsonValue] = {"role": "assistant", "content": content, "tool_calls": items}
    return completion(message, finish_reason=finish_reason)


def json_call_completion(
    tool: str, action: str, args: dict[str, JsonValue]
) -> dict[str, JsonValue]:
    """A json-mode reply: the canonical call object as the content."""
    return text_completion(json.dumps({"tool": tool, "action": action, "args": args}))


def error_reply(
    status: int, message: str, *, headers: dict[str, str] | None = None
) -> ScriptedReply:
    """A failure with an OpenAI error body."""
    body: JsonValue = {"error": {"message": message, "type": "scripted_error", "code": None}}
    return ScriptedReply(status=status, body=body, headers=headers or {})
