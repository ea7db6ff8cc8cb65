"""The bodies the CLI reads, as TypedDicts: typed without importing pydantic at startup.

They mirror `sysward.control.models` (and the event payloads of
`sysward.agents.payloads`); tests/cli/test_shapes.py keeps the two in step.
Nothing is validated at run time: a body of the wrong shape surfaces as a
KeyError or TypeError, which the CLI reports as a protocol error.
"""

from __future__ import annotations

from typing import Any, Literal, NotRequired, TypedDict


class Health(TypedDict):
    status: Literal["ok", "stopping"]
    version: str
    uptime_s: float
    last_seq: int
    agents: int


class AgentInfo(TypedDict):
    name: str
    role: str
    llm: str
    state: str
    origin: Literal["config", "runtime"]
    max_steps: int
    read_only: bool
    current_turn: NotRequired[str | None]
    unfinished_turns: NotRequired[list[str]]
    restarts: NotRequired[int]


class Envelope(TypedDict):
    """One event as SPEC.md's envelope puts it on the wire."""

    seq: int
    ts: str
    topic: str
    type: str
    agent: str | None
    turn: str | None
    source: str
    data: dict[str, Any]
    context: NotRequired[dict[str, Any]]
    prev: NotRequired[str]


class PromptAccepted(TypedDict):
    agent: str
    turn: str


class TurnInfo(TypedDict):
    turn: str
    agent: str
    status: str
    prompt: NotRequired[str | None]
    answer: NotRequired[str | None]
    error: NotRequired[str | None]
    steps: NotRequired[int]
    events: NotRequired[list[Envelope]]


class ToolCallShape(TypedDict):
    id: str
    tool: str
    action: str
    args: NotRequired[dict[str, Any]]


class HistoryMessage(TypedDict):
    seq: int
    turn: str | None
    role: Literal["system", "user", "assistant", "tool"]
    content: str | None
    tool_calls: NotRequired[list[ToolCallShape]]
    tool_call_id: NotRequired[str | None]


class History(TypedDict):
    agent: str
    messages: list[HistoryMessage]


class EventsPage(TypedDict):
    events: list[Envelope]
    next_since: int


class ActionInfo(TypedDict):
    name: str
    effect: str
    description: str
    parameters: dict[str, Any]
    available: NotRequired[bool]
    unavailable_reason: NotRequired[str | None]


class ToolInfo(TypedDict):
    name: str
    description: str
    actions: list[ActionInfo]


class ChainReport(TypedDict):
    ok: bool
    checked: int
    last_seq: int
    head: str
    first_bad_seq: NotRequired[int | None]
    reason: NotRequired[str | None]
    checkpoints: NotRequired[int]
    last_signed_seq: NotRequired[int | None]
    unsigned_tail: NotRequired[int]


class Approval(TypedDict):
    """A pending `ask` decision. Only `id` is certain; the rest is shown when present."""

    id: str
    agent: NotRequired[str | None]
    turn: NotRequired[str | None]
    call_id: NotRequired[str]
    tool: NotRequired[str]
    action: NotRequired[str]
    args: NotRequired[dict[str, Any]]
    reason: NotRequired[str | None]
    requested_at: NotRequired[str]
    expires_at: NotRequired[str | None]


class ToolDispatchData(TypedDict):
    """agent.tool_dispatch: a call about to run (or refused by policy)."""

    call_id: str
    tool: str
    action: str
    args: dict[str, Any]
    effect: str | None
    decision: Literal["allow", "deny", "ask"]
    reason: NotRequired[str | None]


class ToolErrorShape(TypedDict):
    code: str
    message: str
    details: NotRequired[dict[str, Any]]


class ToolResultShape(TypedDict):
    ok: bool
    output: NotRequired[Any]
    error: NotRequired[ToolErrorShape]


class ToolFinishedData(TypedDict):
    """tool.<name>: a call's result."""

    call_id: str
    action: str
    result: ToolResultShape
    duration_ms: int


class TurnCompletedData(TypedDict):
    status: Literal["completed", "failed", "quarantined", "cancelled"]
    steps: int
    answer: NotRequired[str | None]
    error: NotRequired[str | None]
    cancelled_by_uid: NotRequired[int | None]
