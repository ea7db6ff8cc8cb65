"""Decoding a chat completion into an LlmReply, the same way in both tool-call modes.

Native `tool_calls` are read when present (even when `finish_reason` is "stop");
otherwise calls written as text in the content are extracted. Reasoning comes
from `reasoning_content`, `reasoning` or `thinking`, or a leading `<think>` block.
"""

from __future__ import annotations

import json
import re

from pydantic import JsonValue

from sysward.llm.calls import CallAttempt, resolve_calls
from sysward.llm.functions import FunctionTable
from sysward.llm.messages import LlmReply, Usage
from sysward.llm.textcalls import attempts_from_value, extract_text_calls
from sysward.llm.wire import ChatCompletion, ReplyMessage

_THINK_OPEN = re.compile(r"\s*<think>")
_THINK_CLOSE = "</think>"


def decode_completion(
    completion: ChatCompletion, table: FunctionTable, *, latency_ms: float, attempts: int
) -> LlmReply:
    """The reply in the first choice, its calls resolved against the offered tools."""
    choice = completion.choices[0]
    message = choice.message
    content, thought = split_reasoning(message_text(message.content))
    call_attempts = native_attempts(message)
    if not call_attempts and content is not None:
        found = extract_text_calls(content)
        content, call_attempts = found.content, found.attempts
    calls, malformed = resolve_calls(call_attempts, table)
    usage = completion.usage
    return LlmReply(
        content=content if content is not None and content.strip() else None,
        reasoning=message.reasoning_content or message.reasoning or message.thinking or thought,
        tool_calls=calls,
        malformed=malformed,
        finish_reason=choice.finish_reason,
        usage=Usage(**usage.model_dump()) if usage is not None else None,
        model=completion.model,
        latency_ms=latency_ms,
        attempts=attempts,
    )


def message_text(content: str | list[JsonValue] | None) -> str | None:
    """The content as text; a list of content parts is joined."""
    if not isinstance(content, list):
        return content
    texts = [part.get("text") for part in content if isinstance(part, dict)]
    return "".join(text for text in texts if isinstance(text, str))


def split_reasoning(content: str | None) -> tuple[str | None, str | None]:
    """(answer, reasoning) of content that may start with a `<think>…</think>` block.

    An unclosed block is all reasoning; a lone `</think>` (the opening tag was in
    the prompt template) ends the reasoning.
    """
    if content is None:
        return None, None
    opener = _THINK_OPEN.match(content)
    start = opener.end() if opener else 0
    close = content.find(_THINK_CLOSE, start)
    if close < 0:
        return (None, content[start:].strip() or None) if opener else (content, None)
    thought = content[start:close].strip() or None
    return content[close + len(_THINK_CLOSE) :].lstrip(), thought


def native_attempts(message: ReplyMessage) -> list[CallAttempt]:
    """The calls in `tool_calls` (or the legacy `function_call`), in order."""
    if message.tool_calls:
        return [
            attempt
            for item in message.tool_calls
            for attempt in attempts_from_value(item, _raw(item))
        ]
    legacy = message.function_call
    if legacy is not None and legacy.name:
        raw = _raw({"name": legacy.name, "arguments": legacy.arguments})
        return [CallAttempt(raw=raw, name=legacy.name, arguments=legacy.arguments)]
    return []


def _raw(value: JsonValue) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True)
