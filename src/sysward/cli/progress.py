"""One line per agent event worth showing while a turn runs (tool calls and results)."""

from __future__ import annotations

from typing import Any, cast

from sysward.cli.output import clip, compact
from sysward.cli.shapes import Envelope, ToolDispatchData, ToolFinishedData

ARGS_CHARS = 160
TEXT_CHARS = 160


def describe(event: Envelope) -> str | None:
    """The progress line of an event, or None for events a person need not see live."""
    topic = event["topic"]
    data = event["data"]
    if topic == "agent.tool_dispatch":
        return describe_dispatch(cast(ToolDispatchData, data))
    if topic.startswith("tool.") and "result" in data:
        return describe_result(cast(ToolFinishedData, data))
    if topic == "agent.llm_response":
        return describe_llm_response(data)
    if topic == "agent.error":
        return f"! {data.get('kind', 'error')}: {data.get('message', '')}"
    if topic == "agent.approval_requested":
        return describe_approval(data)
    if topic == "agent.approval_decided":
        return f"· approval {data.get('id', '')}: {data.get('decision', '?')}"
    return None


def describe_llm_response(data: dict[str, Any]) -> str | None:
    """What the model said on its way to tool calls, and calls it got wrong.

    A final answer (content without calls) is not progress: the caller prints it.
    """
    malformed = data.get("malformed") or []
    lines = []
    if data.get("content") and (data.get("tool_calls") or malformed):
        lines.append("· " + clip(str(data["content"]), TEXT_CHARS))
    lines += [f"✗ malformed call: {clip(str(m.get('error')), TEXT_CHARS)}" for m in malformed]
    return "\n".join(lines) or None


def describe_dispatch(data: ToolDispatchData) -> str:
    """`→ systemd.status {"unit": "nginx.service"}`, with the policy's word if not allow."""
    line = f"→ {data['tool']}.{data['action']} {compact(data.get('args', {}), ARGS_CHARS)}"
    if data.get("decision", "allow") != "allow":
        reason = data.get("reason")
        line += f"  [policy: {data['decision']}{f' — {reason}' if reason else ''}]"
    return line


def describe_result(data: ToolFinishedData) -> str:
    """`← ok (12 ms)` or `← error permission_denied: … (3 ms)`."""
    result = data["result"]
    took = f" ({data.get('duration_ms', 0)} ms)"
    if result.get("ok"):
        return "← ok" + took
    error = result.get("error") or {"code": "error", "message": ""}
    return f"← error {error['code']}: {clip(error['message'], TEXT_CHARS)}{took}"


def describe_approval(data: dict[str, Any]) -> str:
    approval = data.get("id") or data.get("approval") or "?"
    what = f"{data.get('tool', '?')}.{data.get('action', '?')}"
    return f"? {what} needs approval: sysward approve {approval}  (or: sysward deny {approval})"
