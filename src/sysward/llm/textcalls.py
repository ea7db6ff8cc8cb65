"""Finding tool calls a model wrote as text instead of (or without) native tool calls.

Recognised: a bare JSON object/array of calls making up the whole content;
else, scanning left to right, tagged calls (`<tool_call>…</tool_call>`,
`<function_call>`, Mistral's `[TOOL_CALLS]`, Llama's `<|python_tag|>`) and
fenced ```json blocks holding call objects. A call object is
`{"tool", "action", "args"}`, `{"name", "arguments"}` (or `"parameters"`) or the
OpenAI `{"function": {...}}` shape; a list of them is parallel calls.
Text that clearly attempts a call but does not decode becomes a failed attempt;
any other text is left alone as the model's answer. Never raises.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from pydantic import JsonValue

from sysward.llm.calls import CallAttempt
from sysward.llm.jsontext import STRICT_JSON, without_lone_surrogates

MAX_VALUES = 64
_OPENER = re.compile(
    r"<(?P<tag>tool_call|function_call|tool_calls)>|\[TOOL_CALLS\]|<\|python_tag\|>"
)
_FENCE = re.compile(r"```[ \t]*(?P<lang>[A-Za-z_]*)[ \t]*(?:\r?\n)?")
_JSON_FENCE_LANGS = frozenset({"", "json", "tool_call", "tool_calls", "jsonc"})
_MENTIONS_CALL = re.compile(r'"(?:tool|name|function|tool_calls)"\s*:')
_WS = re.compile(r"\s*")
_STRAY_BRACKETS = re.compile(r"[\s\]}]{0,8}")
_ARGUMENT_KEYS = ("args", "arguments", "parameters")


@dataclass(frozen=True)
class TextCalls:
    """The calls found in a text, and the text left once they are taken out."""

    content: str | None
    attempts: list[CallAttempt] = field(default_factory=list)


@dataclass(frozen=True)
class _Region:
    start: int
    end: int
    attempts: list[CallAttempt]


def extract_text_calls(text: str) -> TextCalls:
    """The tool calls written in `text`; `content` is the prose around them."""
    return (
        _bare_calls(text)
        or _marked_calls(text)
        or _broken_bare_call(text)
        or TextCalls(content=text)
    )


def looks_like_call(value: JsonValue) -> bool:
    """Whether a decoded JSON value has the shape of a tool call, or is a list of them."""
    if isinstance(value, list):
        return bool(value) and all(_is_call_object(item) for item in value)
    return _is_call_object(value)


def _is_call_object(value: JsonValue) -> bool:
    if not isinstance(value, dict):
        return False
    if "tool" in value or isinstance(value.get("tool_calls"), list):
        return True
    if isinstance(value.get("function"), dict):
        return True
    return "name" in value and any(key in value for key in _ARGUMENT_KEYS)


def attempts_from_value(value: JsonValue, raw: str) -> list[CallAttempt]:
    """The call attempts in one decoded JSON value: a call object, a list of them, or
    `{"tool_calls": [...]}`; anything else is a failed attempt. Never recurses deeper."""
    if isinstance(value, dict) and isinstance(value.get("tool_calls"), list):
        value = value["tool_calls"]
    if not isinstance(value, list):
        return [_attempt_from_item(value, raw)]
    return [_attempt_from_item(item, _dump(item)) for item in value[:MAX_VALUES]]


def _attempt_from_item(value: JsonValue, raw: str) -> CallAttempt:
    if not isinstance(value, dict):
        return CallAttempt(raw=raw, error=f"a tool call must be a JSON object, got: {raw[:80]}")
    return _attempt_from_object(value, raw)


def _attempt_from_object(value: dict[str, JsonValue], raw: str) -> CallAttempt:
    call_id = value.get("id")
    ident = call_id if isinstance(call_id, str) else None
    function = value.get("function")
    if isinstance(function, dict):
        value = function
    arguments = next((value[key] for key in _ARGUMENT_KEYS if key in value), None)
    tool, action, name = value.get("tool"), value.get("action"), value.get("name")
    for label, part in (("tool", tool), ("action", action), ("name", name)):
        if part is not None and not isinstance(part, str):
            return CallAttempt(raw=raw, id=ident, error=f"'{label}' must be a string")
    if tool is None and name is None:
        return CallAttempt(
            raw=raw, id=ident, error='not a tool call: expected {"tool", "action", "args"}'
        )
    names = {"name": _str(name), "tool": _str(tool), "action": _str(action)}
    return CallAttempt(raw=raw, id=ident, arguments=arguments, **names)


def _marked_calls(text: str) -> TextCalls | None:
    """Calls in tags and fenced blocks, scanned left to right so that markup quoted
    inside one call's JSON is never taken for the start of another."""
    regions: list[_Region] = []
    pos = 0
    for _ in range(MAX_VALUES):
        tag, fence = _OPENER.search(text, pos), _FENCE.search(text, pos)
        if tag is not None and (fence is None or tag.start() <= fence.start()):
            region: _Region | None = _read_tagged(text, tag)
            pos = max(region.end if region else 0, tag.end())
        elif fence is not None:
            region, pos = _read_fence(text, fence)
        else:
            break
        if region is not None:
            regions.append(region)
    return _without_regions(text, regions) if regions else None


def _read_tagged(text: str, opener: re.Match[str]) -> _Region:
    tag = opener.group("tag")
    body = _skip_fence_opener(text, opener.end())
    values, end, error = _decode_values(text, body)
    if error is not None or not values:
        body_end, stop = _end_of_broken_tag(text, body, tag)
        raw = text[body:body_end].strip() or text[opener.start() : stop]
        reason = error or "the tool call has no JSON object"
        return _Region(opener.start(), stop, [CallAttempt(raw=raw, error=reason)])
    end = _skip_closing(text, end, "```")
    if tag is not None:
        # Models often close one brace too many before the closing tag.
        end = _skip_closing(text, _skip_stray_brackets(text, end), f"</{tag}>", fallback=end)
    attempts = [a for value, raw in values for a in attempts_from_value(value, raw)]
    return _Region(opener.start(), end, attempts)


def _end_of_broken_tag(text: str, body: int, tag: str | None) -> tuple[int, int]:
    """Where the undecodable body of a tag ends, and where the tag ends."""
    next_open = _OPENER.search(text, body)
    limit = next_open.start() if next_open else len(text)
    if tag is not None:
        close = text.find(f"</{tag}>", body, limit)
        if close >= 0:
            return close, close + len(tag) + 3
    return limit, limit


def _read_fence(text: str, fence: re.Match[str]) -> tuple[_Region | None, int]:
    """The calls in a fenced block, if it holds any, and where scanning goes on."""
    close = text.find("```", fence.end())
    block_end = close + 3 if close >= 0 else len(text)
    region = None
    if fence.group("lang") in _JSON_FENCE_LANGS:
        region = _read_fenced(text, fence, close, block_end)
    return region, max(region.end if region else block_end, fence.end())


def _read_fenced(text: str, fence: re.Match[str], close: int, block_end: int) -> _Region | None:
    values, end, error = _decode_values(text, fence.end())
    closed_here = text.startswith("```", end) or end == len(text)
    if values and error is None and closed_here and _all_calls(values):
        attempts = [a for value, raw in values for a in attempts_from_value(value, raw)]
        return _Region(fence.start(), min(end + 3, len(text)), attempts)
    block = text[fence.end() : close if close >= 0 else len(text)]
    if not values and _MENTIONS_CALL.search(block):
        reason = error or "the tool call is not a JSON object"
        return _Region(fence.start(), block_end, [CallAttempt(raw=block.strip(), error=reason)])
    return None


def _bare_calls(text: str) -> TextCalls | None:
    """Calls written as bare JSON making up the whole text (prose may follow them)."""
    start = _skip_ws(text, 0)
    if start == len(text) or text[start] not in "{[":
        return None
    values, end, error = _decode_values(text, start)
    if not values or not _all_calls(values):
        return None
    attempts = [a for value, raw in values for a in attempts_from_value(value, raw)]
    rest = text[end:]
    if error is not None and _MENTIONS_CALL.search(rest):
        return TextCalls(None, [*attempts, CallAttempt(raw=rest.strip(), error=error)])
    return TextCalls(rest.strip() or None, attempts)


def _broken_bare_call(text: str) -> TextCalls | None:
    """Text that is JSON-like, names a tool, and does not decode: a failed call."""
    start = _skip_ws(text, 0)
    if start == len(text) or text[start] not in "{[":
        return None
    values, _, error = _decode_values(text, start)
    if values or error is None or not _MENTIONS_CALL.search(text):
        return None
    return TextCalls(None, [CallAttempt(raw=text.strip(), error=error)])


def _all_calls(values: list[tuple[JsonValue, str]]) -> bool:
    return all(looks_like_call(value) for value, _ in values)


def _without_regions(text: str, regions: list[_Region]) -> TextCalls:
    prose: list[str] = []
    pos = 0
    for region in regions:
        prose.append(text[pos : region.start])
        pos = max(pos, region.end)
    prose.append(text[pos:])
    content = "".join(prose).strip() or None
    return TextCalls(content, [a for region in regions for a in region.attempts])


def _decode_values(text: str, pos: int) -> tuple[list[tuple[JsonValue, str]], int, str | None]:
    """Consecutive JSON objects/arrays from `pos`: (value, its text) pairs, end, first error."""
    values: list[tuple[JsonValue, str]] = []
    safe = without_lone_surrogates(text)  # same length, so positions carry over
    pos = _skip_ws(text, pos)
    for _ in range(MAX_VALUES):
        if pos >= len(text) or text[pos] not in "{[":
            break
        try:
            value, end = STRICT_JSON.raw_decode(safe, pos)
        except (ValueError, RecursionError) as exc:
            return values, pos, f"the tool call is not valid JSON: {_describe(exc)}"
        values.append((value, text[pos:end]))
        pos = _skip_ws(text, end)
    return values, pos, None


def _describe(exc: BaseException) -> str:
    if isinstance(exc, json.JSONDecodeError):
        return f"{exc.msg} at line {exc.lineno} column {exc.colno}"
    if isinstance(exc, RecursionError):
        return "nested too deeply"
    return str(exc)


def _skip_ws(text: str, pos: int) -> int:
    match = _WS.match(text, pos)
    return match.end() if match else pos


def _skip_fence_opener(text: str, pos: int) -> int:
    fence = _FENCE.match(text, _skip_ws(text, pos))
    return fence.end() if fence else pos


def _skip_closing(text: str, pos: int, closing: str, *, fallback: int | None = None) -> int:
    """Past `closing` if it comes next (after whitespace); else `fallback` or `pos`."""
    at = _skip_ws(text, pos)
    if text.startswith(closing, at):
        return _skip_ws(text, at + len(closing))
    return pos if fallback is None else fallback


def _skip_stray_brackets(text: str, pos: int) -> int:
    match = _STRAY_BRACKETS.match(text, pos)
    return match.end() if match else pos


def _dump(value: JsonValue) -> str:
    return json.dumps(value, ensure_ascii=False)


def _str(value: JsonValue) -> str | None:
    return value if isinstance(value, str) else None
