"""Turning what a model wrote as a tool call into a ToolCall or a MalformedCall.

Both native `tool_calls` and calls written as text become CallAttempts first;
resolving them against the offered tools is the same for every source.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from pydantic import JsonValue, ValidationError

from sysward.llm.functions import FunctionTable
from sysward.llm.jsontext import decode_json
from sysward.llm.messages import MalformedCall, ToolCall, ToolSpec

MAX_RAW_CHARS = 4000
MAX_NAMES_LISTED = 40


@dataclass(frozen=True)
class CallAttempt:
    """A tool call as the model wrote it, not yet checked against the offered tools.

    It names the function either as `name` (`systemd_status`) or as the canonical
    `tool` + `action`; `error` is set when the attempt is already known to be
    undecodable (for example its JSON does not parse).
    """

    raw: str
    id: str | None = None
    name: str | None = None
    tool: str | None = None
    action: str | None = None
    arguments: JsonValue = None
    error: str | None = None


class _Undecodable(Exception):
    """An attempt that cannot become a ToolCall; the message tells the model why."""


def resolve_calls(
    attempts: Sequence[CallAttempt], table: FunctionTable
) -> tuple[list[ToolCall], list[MalformedCall]]:
    """Decode attempts in order, giving each a unique, stable id."""
    calls: list[ToolCall] = []
    malformed: list[MalformedCall] = []
    seen_ids: set[str] = set()
    for index, attempt in enumerate(attempts):
        call_id = attempt.id if attempt.id and attempt.id not in seen_ids else None
        call_id = call_id or generated_call_id(index, attempt.raw)
        seen_ids.add(call_id)
        try:
            calls.append(_resolve(attempt, call_id, table))
        except _Undecodable as exc:
            raw = attempt.raw[:MAX_RAW_CHARS]
            malformed.append(MalformedCall(id=call_id, raw=raw, error=str(exc)))
    return calls, malformed


def generated_call_id(index: int, raw: str) -> str:
    """An id for a call the server sent without one; the same reply gives the same id."""
    digest = hashlib.sha256(raw.encode("utf-8", "surrogatepass")).hexdigest()[:8]
    return f"call_{index}_{digest}"


def decode_arguments(value: JsonValue) -> dict[str, JsonValue]:
    """Arguments as an object, whether sent as an object, a JSON string or nothing."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return {}
    # Some models encode the arguments twice: a JSON string holding a JSON string.
    for _ in range(2):
        if not isinstance(value, str):
            break
        try:
            value = decode_json(value)
        except ValueError as exc:
            raise _Undecodable(f"arguments are not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise _Undecodable(f"arguments must be a JSON object, got {_json_type(value)}")
    return value


def _resolve(attempt: CallAttempt, call_id: str, table: FunctionTable) -> ToolCall:
    if attempt.error is not None:
        raise _Undecodable(attempt.error)
    spec = _find_spec(attempt, table)
    args = decode_arguments(attempt.arguments)
    try:
        return ToolCall(id=call_id, tool=spec.tool, action=spec.action, args=args)
    except ValidationError:
        raise _Undecodable("arguments are nested too deeply") from None


def _find_spec(attempt: CallAttempt, table: FunctionTable) -> ToolSpec:
    spec: ToolSpec | None = None
    if attempt.tool and attempt.action:
        spec = table.resolve_pair(attempt.tool, attempt.action)
        written = f"tool {attempt.tool!r} action {attempt.action!r}"
    elif attempt.name or attempt.tool:
        written = attempt.name or attempt.tool or ""
        spec = table.resolve(written)
        written = f"function {written!r}"
    else:
        raise _Undecodable("the call names no tool (expected 'tool' and 'action', or 'name')")
    if spec is None:
        raise _Undecodable(f"unknown {written}; {_offered(table)}")
    return spec


def _offered(table: FunctionTable) -> str:
    if not len(table):
        return "no tools are offered"
    names = [f"{spec.tool}.{spec.action}" for _, spec in table]
    listed = ", ".join(names[:MAX_NAMES_LISTED])
    more = f" and {len(names) - MAX_NAMES_LISTED} more" if len(names) > MAX_NAMES_LISTED else ""
    return f"offered: {listed}{more}"


def _json_type(value: JsonValue) -> str:
    if isinstance(value, list):
        return "an array"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    return "null"
