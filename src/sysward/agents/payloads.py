"""The `data` of every event an agent writes, as typed models (one per topic).

Events are written with `to_data()` and read back with `parse_data()`; the
topic decides the model, so a record is never misread as another kind.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, JsonValue

from sysward.events import topics
from sysward.llm import ChatMessage, MalformedCall, ToolCall, Usage
from sysward.tools import ToolResult


class Payload(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    def to_data(self) -> dict[str, JsonValue]:
        return self.model_dump(mode="json")


class Prompted(Payload):
    """agent.prompt: an operator's (or script's) request started a turn."""

    text: str
    max_steps: int


class LlmResponded(Payload):
    """agent.llm_response: one completed LLM call (never made again after a restart)."""

    step: int
    content: str | None = None
    reasoning: str | None = None
    tool_calls: list[ToolCall] = Field(default_factory=list)
    malformed: list[MalformedCall] = Field(default_factory=list)
    finish_reason: str | None = None
    usage: Usage | None = None
    model: str | None = None
    latency_ms: float
    attempts: int


class MessageAdded(Payload):
    """agent.message: one message of the conversation; these alone rebuild it."""

    message: ChatMessage


class ToolDispatched(Payload):
    """agent.tool_dispatch: the intent to run a call, durable before it runs."""

    call_id: str
    tool: str
    action: str
    args: dict[str, JsonValue]
    effect: Literal["read", "write"] | None
    decision: Literal["allow", "deny", "ask"]
    rule: str | None = None
    reason: str | None = None
    rerun: bool = False


class ToolFinished(Payload):
    """tool.<name>: a call's result, durable before the next LLM call."""

    call_id: str
    action: str
    result: ToolResult
    duration_ms: int
    interrupted: bool = False


class ApprovalRequested(Payload):
    """agent.approval_requested: policy said `ask`; the turn waits for an operator."""

    id: str
    call_id: str
    tool: str
    action: str
    args: dict[str, JsonValue]
    action_sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    reason: str
    rule: str | None = None
    requested_at: datetime
    expires_at: datetime
    timeout_s: float


ApprovalVerdict = Literal["approve", "deny", "expire", "cancel"]


class ApprovalDecided(Payload):
    """agent.approval_decided: an approval's one decision (the first recorded counts)."""

    id: str
    decision: ApprovalVerdict
    reason: str = ""
    approver_uid: int | None = None
    action_sha256: str


class TurnCompleted(Payload):
    """agent.turn_completed: the turn ended; it is never resumed again."""

    status: Literal["completed", "failed", "quarantined", "cancelled"]
    steps: int
    answer: str | None = None
    error: str | None = None
    cancelled_by_uid: int | None = None


class AgentFailed(Payload):
    """agent.error: something went wrong that an operator may need to know about."""

    kind: Literal[
        "llm",
        "malformed_output",
        "max_steps",
        "crash",
        "crash_loop",
        "quarantined",
        "config",
        "unreadable_event",
    ]
    message: str
    details: dict[str, JsonValue] = Field(default_factory=dict)


class AgentCreated(Payload):
    """agent.created: an agent made at run time; restored at every start."""

    role: str
    llm: str
    max_steps: int | None = Field(None, ge=1, le=1000)
    read_only: bool = False


class AgentDeleted(Payload):
    """agent.deleted: a run-time agent removed."""

    reason: str | None = None


class AgentLifecycle(Payload):
    """agent.started / agent.stopped."""

    reason: str | None = None
    resumed_turns: list[str] = Field(default_factory=list)


P = TypeVar("P", bound=Payload)

_BY_TOPIC: dict[str, type[Payload]] = {
    topics.AGENT_PROMPT: Prompted,
    topics.AGENT_LLM_RESPONSE: LlmResponded,
    topics.AGENT_MESSAGE: MessageAdded,
    topics.AGENT_TOOL_DISPATCH: ToolDispatched,
    topics.AGENT_APPROVAL_REQUESTED: ApprovalRequested,
    topics.AGENT_APPROVAL_DECIDED: ApprovalDecided,
    topics.AGENT_TURN_COMPLETED: TurnCompleted,
    topics.AGENT_ERROR: AgentFailed,
    topics.AGENT_CREATED: AgentCreated,
    topics.AGENT_DELETED: AgentDeleted,
}


def payload_model(topic: str) -> type[Payload] | None:
    """The model of a topic's data, or None for topics agents do not fold."""
    if topic.startswith("tool.") and topic != topics.TOOL_INOTIFY_EVENT:
        return ToolFinished
    return _BY_TOPIC.get(topic)


def parse_data(model: type[P], data: dict[str, JsonValue]) -> P:
    return model.model_validate(data)
