"""Request and response bodies of the control API (`/v1`), shared by server and CLI.

The CLI imports only this module and the client, never the server, so it starts fast.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue

NamePattern = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ErrorBody(_Body):
    code: str = Field(description="Stable machine-readable code, e.g. not_found")
    message: str = Field(description="What went wrong and what to do about it")
    details: dict[str, JsonValue] = Field(default_factory=dict)


class ErrorResponse(_Body):
    """Every error answer: `{"error": {"code", "message", "details"}}`."""

    error: ErrorBody


class Health(_Body):
    status: Literal["ok", "stopping"]
    version: str
    uptime_s: float
    last_seq: int
    agents: int


AgentStateName = Literal[
    "starting", "idle", "busy", "backoff", "stopped", "crashed", "awaiting_approval"
]


class AgentInfo(_Body):
    name: str
    role: str
    llm: str
    state: AgentStateName
    origin: Literal["config", "runtime"]
    max_steps: int
    read_only: bool
    current_turn: str | None = None
    unfinished_turns: list[str] = Field(default_factory=list)
    restarts: int = 0


class CreateAgent(_Body):
    name: str = Field(pattern=NamePattern)
    role: str = Field(pattern=NamePattern)
    llm: str = Field("default", pattern=NamePattern)
    max_steps: int | None = Field(None, ge=1, le=1000)
    read_only: bool = False


class PromptRequest(_Body):
    text: str = Field(min_length=1, max_length=100_000)
    wait: bool = Field(False, description="Stream the turn's events until it completes")


class PromptAccepted(_Body):
    agent: str
    turn: str


TurnStatus = Literal["pending", "running", "completed", "failed", "quarantined", "cancelled"]


class TurnInfo(_Body):
    turn: str
    agent: str
    status: TurnStatus
    prompt: str | None = None
    answer: str | None = None
    error: str | None = None
    steps: int = 0
    events: list[dict[str, JsonValue]] = Field(
        default_factory=list, description="The turn's events, envelopes as in the log"
    )


class HistoryMessage(_Body):
    seq: int
    turn: str | None
    role: Literal["system", "user", "assistant", "tool"]
    content: str | None
    tool_calls: list[dict[str, JsonValue]] = Field(default_factory=list)
    tool_call_id: str | None = None


class History(_Body):
    agent: str
    messages: list[HistoryMessage]


class EventsPage(_Body):
    events: list[dict[str, JsonValue]]
    next_since: int = Field(description="Pass as `since` to continue after this page")


class ApprovalDecision(_Body):
    decision: Literal["approve", "deny"]
    reason: str = Field("", max_length=2000)


class ApprovalInfo(_Body):
    """A tool call waiting for an operator's decision (`GET /v1/approvals`)."""

    id: str
    agent: str
    turn: str
    tool: str
    action: str
    args: dict[str, JsonValue]
    reason: str
    rule: str | None = None
    requested_at: datetime
    expires_at: datetime
    action_sha256: str = Field(description="SHA-256 of the canonical JSON of {tool, action, args}")


class ApprovalOutcome(_Body):
    """The decision as recorded in `agent.approval_decided`."""

    id: str
    agent: str
    turn: str
    decision: Literal["approve", "deny"]
    reason: str
    approver_uid: int | None
    action_sha256: str


class TurnCancelled(_Body):
    """A turn ended by `POST /v1/turns/{id}/cancel`."""

    turn: str
    agent: str
    status: Literal["cancelled"] = "cancelled"
    steps: int
    cancelled_by_uid: int | None
