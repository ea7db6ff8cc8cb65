"""The turn fold with approvals: which step `next_step` names for each approval path."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sysward.agents.approvals import action_sha256
from sysward.agents.payloads import (
    ApprovalDecided,
    ApprovalRequested,
    ApprovalVerdict,
    LlmResponded,
    MessageAdded,
    Payload,
    Prompted,
    ToolDispatched,
    ToolFinished,
)
from sysward.agents.turn import (
    AwaitApproval,
    CallLlm,
    RecordInterrupted,
    RecordRefused,
    RunApproved,
    RunCall,
    Step,
    fold_turn,
    new_turn_state,
    next_step,
)
from sysward.events import topics
from sysward.events.record import GENESIS_PREV, Event
from sysward.llm import ChatMessage, ToolCall
from sysward.tools import ToolOk

TURN = "t_1"
NOTE = ToolCall(id="c_0", tool="notes", action="write", args={"text": "x"})
COUNT = ToolCall(id="c_0", tool="notes", action="count", args={})
NOW = datetime(2026, 1, 1, tzinfo=UTC)


def event(seq: int, topic: str, payload: Payload) -> Event:
    return Event(
        seq=seq,
        ts=NOW,
        topic=topic,
        type="test",
        agent="ops",
        turn=TURN,
        source="tests",
        data=payload.to_data(),
        prev=GENESIS_PREV,
    )


def dispatched(call: ToolCall, decision: str, effect: str = "write") -> ToolDispatched:
    return ToolDispatched.model_validate(
        {
            "call_id": call.id,
            "tool": call.tool,
            "action": call.action,
            "args": call.args,
            "effect": effect,
            "decision": decision,
        }
    )


def requested(call: ToolCall, approval: str = "ap_1") -> ApprovalRequested:
    return ApprovalRequested(
        id=approval,
        call_id=call.id,
        tool=call.tool,
        action=call.action,
        args=call.args,
        action_sha256=action_sha256(call.tool, call.action, call.args),
        reason="approval required",
        requested_at=NOW,
        expires_at=NOW + timedelta(hours=1),
        timeout_s=3600,
    )


def decided(verdict: ApprovalVerdict, approval: str = "ap_1") -> ApprovalDecided:
    return ApprovalDecided(id=approval, decision=verdict, action_sha256="0" * 64)


def step_after(call: ToolCall, *payloads: tuple[str, Payload]) -> Step:
    """The next step of a turn whose model asked for `call`, after `payloads`."""
    reply = LlmResponded(step=1, tool_calls=[call], latency_ms=1, attempts=1)
    user = MessageAdded(message=ChatMessage(role="user", content="go"))
    prefix: list[tuple[str, Payload]] = [
        (topics.AGENT_PROMPT, Prompted(text="go", max_steps=5)),
        (topics.AGENT_MESSAGE, user),
        (topics.AGENT_LLM_RESPONSE, reply),
    ]
    state = new_turn_state(TURN)
    for seq, (topic, payload) in enumerate([*prefix, *payloads], start=1):
        state = fold_turn(state, event(seq, topic, payload))
    return next_step(state)


ASK = (topics.AGENT_TOOL_DISPATCH, dispatched(NOTE, "ask"))
REQUESTED = (topics.AGENT_APPROVAL_REQUESTED, requested(NOTE))


def test_an_ask_without_a_decision_awaits_it_and_is_not_interrupted() -> None:
    step = step_after(NOTE, ASK, REQUESTED)
    assert step == AwaitApproval(NOTE, requested(NOTE))


def test_an_approval_runs_the_call() -> None:
    approve = (topics.AGENT_APPROVAL_DECIDED, decided("approve"))
    assert step_after(NOTE, ASK, REQUESTED, approve) == RunApproved(
        NOTE, requested(NOTE), decided("approve")
    )


def test_an_approved_write_dispatched_without_a_result_is_interrupted() -> None:
    approve = (topics.AGENT_APPROVAL_DECIDED, decided("approve"))
    allow = (topics.AGENT_TOOL_DISPATCH, dispatched(NOTE, "allow"))
    step = step_after(NOTE, ASK, REQUESTED, approve, allow)
    assert isinstance(step, RecordInterrupted)


def test_an_approved_read_dispatched_without_a_result_runs_again_approved() -> None:
    ask = (topics.AGENT_TOOL_DISPATCH, dispatched(COUNT, "ask", "read"))
    approve = (topics.AGENT_APPROVAL_DECIDED, decided("approve"))
    allow = (topics.AGENT_TOOL_DISPATCH, dispatched(COUNT, "allow", "read"))
    step = step_after(
        COUNT, ask, (topics.AGENT_APPROVAL_REQUESTED, requested(COUNT)), approve, allow
    )
    assert isinstance(step, RunApproved) and step.is_rerun


def test_a_denial_and_an_expiry_are_refusals() -> None:
    for verdict in ("deny", "expire", "cancel"):
        decision = (topics.AGENT_APPROVAL_DECIDED, decided(verdict))
        assert step_after(NOTE, ASK, REQUESTED, decision) == RecordRefused(
            NOTE, requested(NOTE), decided(verdict)
        )


def test_only_the_first_decision_counts() -> None:
    deny = (topics.AGENT_APPROVAL_DECIDED, decided("deny"))
    approve = (topics.AGENT_APPROVAL_DECIDED, decided("approve"))
    assert isinstance(step_after(NOTE, ASK, REQUESTED, deny, approve), RecordRefused)


def test_a_denied_dispatch_is_answered_and_an_allowed_one_runs() -> None:
    assert step_after(NOTE) == RunCall(NOTE)
    deny = (topics.AGENT_TOOL_DISPATCH, dispatched(NOTE, "deny"))
    result = ToolFinished(call_id=NOTE.id, action="write", result=ToolOk(output=1), duration_ms=0)
    assert step_after(NOTE, deny, (topics.tool_topic("notes"), result)) == CallLlm()
