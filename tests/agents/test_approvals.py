"""Durable approvals and turn cancellation through a real agent: log, scripted LLM, tools.

`notes.write` is a write action: with no rule matching it, policy asks an operator.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import pytest

from sysward.agents.agent import AgentState, TurnFinished
from sysward.agents.approvals import ApprovalClosed, ApprovalNotFound, action_sha256
from sysward.agents.payloads import ApprovalDecided, ApprovalRequested, parse_data
from sysward.config import PolicyRule
from sysward.events import topics
from sysward.events.record import Event, NewEvent
from sysward.llm.scripted import (
    ScriptedLlmServer,
    native_call,
    text_completion,
    tool_calls_completion,
)
from sysward.tools import ToolErr, ToolOk

from .rig import AGENT, WAIT_S, AgentRig, AgentSetup, wait_for_turn

ASKS = AgentSetup(rules=())
NOTE_CALL = native_call("notes_write", {"text": "x"}, call_id="c_note")


def script_note_then(llm_server: ScriptedLlmServer, answer: str = "done") -> None:
    llm_server.enqueue(tool_calls_completion(NOTE_CALL), text_completion(answer))


async def park(rig: AgentRig, text: str = "note x") -> tuple[str, ApprovalRequested]:
    """Prompt, and return the turn once it is parked on its approval."""
    async with rig.bus.subscribe(topics.AGENT_APPROVAL_REQUESTED, agent=AGENT) as requested:
        turn = await rig.supervisor.prompt(AGENT, text)
        event = await wait_for_turn(requested, turn)
    await wait_until(lambda: rig.supervisor.state_of(AGENT) is AgentState.AWAITING_APPROVAL)
    return turn, parse_data(ApprovalRequested, event.data)


async def completion_of(rig: AgentRig, turn: str) -> Event:
    async with rig.bus.subscribe(topics.AGENT_TURN_COMPLETED, agent=AGENT, since=0) as done:
        return await wait_for_turn(done, turn)


async def wait_until(condition: Callable[[], bool], timeout_s: float = WAIT_S) -> None:
    """Poll an agent's in-memory state (it has no event for "parked"), bounded."""
    async with asyncio.timeout(timeout_s):
        while not condition():  # noqa: ASYNC110
            await asyncio.sleep(0.01)


def error_message(result: ToolOk | ToolErr) -> str:
    assert isinstance(result, ToolErr), result
    return f"{result.error.code}: {result.error.message}"


async def test_an_ask_parks_the_turn_with_a_pending_approval(
    rig: AgentRig, llm_server: ScriptedLlmServer
) -> None:
    script_note_then(llm_server)
    await rig.start(ASKS)
    turn, approval = await park(rig)
    assert approval.id.startswith("ap_")
    assert (approval.tool, approval.action, approval.args) == ("notes", "write", {"text": "x"})
    assert approval.action_sha256 == action_sha256("notes", "write", {"text": "x"})
    assert approval.reason == "no rule matched a write action: approval required"
    assert (approval.expires_at - approval.requested_at).total_seconds() == 3600
    (pending,) = rig.supervisor.approvals.pending()
    assert (pending.agent, pending.turn, pending.request.id) == (AGENT, turn, approval.id)
    assert rig.notes.written == []
    await rig.supervisor.approvals.decide(approval.id, "deny", "", None)
    await completion_of(rig, turn)


async def test_an_approved_call_runs_once_with_a_fresh_allow_dispatch(
    rig: AgentRig, llm_server: ScriptedLlmServer
) -> None:
    script_note_then(llm_server)
    await rig.start(ASKS)
    turn, approval = await park(rig)
    await rig.supervisor.approvals.decide(approval.id, "approve", "go ahead", 1000)
    await completion_of(rig, turn)
    record = await rig.turn(turn)
    assert rig.notes.written == ["x"]
    ask, allow = record.dispatches
    assert (ask.decision, allow.decision) == ("ask", "allow")
    assert allow.rule == f"approval {approval.id}"
    assert allow.reason == "approved by uid 1000: go ahead"
    (result,) = record.results("notes")
    assert isinstance(result.result, ToolOk)
    assert record.completed.status == "completed"
    assert rig.supervisor.approvals.pending() == []


async def test_a_denied_call_does_not_run_and_the_model_is_told_why(
    rig: AgentRig, llm_server: ScriptedLlmServer
) -> None:
    script_note_then(llm_server, "I was not allowed to")
    await rig.start(ASKS)
    turn, approval = await park(rig)
    await rig.supervisor.approvals.decide(approval.id, "deny", "not on a Friday", 0)
    await completion_of(rig, turn)
    record = await rig.turn(turn)
    assert rig.notes.written == []
    (result,) = record.results("notes")
    message = error_message(result.result)
    assert message == "permission_denied: denied by the operator (uid 0): not on a Friday"
    shown = [m["content"] for m in rig.request_messages(1) if m["role"] == "tool"]
    assert "not on a Friday" in shown[0]
    (decided,) = record.payloads(topics.AGENT_APPROVAL_DECIDED, ApprovalDecided)
    assert (decided.decision, decided.approver_uid) == ("deny", 0)


async def test_an_approval_expires_to_a_denial_recorded_by_the_agent(
    rig: AgentRig, llm_server: ScriptedLlmServer
) -> None:
    script_note_then(llm_server)
    await rig.start(AgentSetup(rules=(), approval_timeout_s=0.3))
    started = time.monotonic()
    record = await rig.ask("note x")
    assert time.monotonic() - started >= 0.3
    (decided,) = record.payloads(topics.AGENT_APPROVAL_DECIDED, ApprovalDecided)
    assert (decided.decision, decided.approver_uid) == ("expire", None)
    (result,) = record.results("notes")
    assert "approval expired after 0.3 s" in error_message(result.result)
    assert rig.notes.written == []
    with pytest.raises(ApprovalClosed, match="expire"):
        await rig.supervisor.approvals.decide(decided.id, "approve", "", 0)


async def test_a_read_only_agent_is_denied_without_an_approval(
    rig: AgentRig, llm_server: ScriptedLlmServer
) -> None:
    script_note_then(llm_server)
    await rig.start(AgentSetup(rules=(), read_only=True))
    record = await rig.ask("note x")
    (dispatch,) = record.dispatches
    assert dispatch.decision == "deny"
    assert record.of(topics.AGENT_APPROVAL_REQUESTED) == []
    assert rig.notes.written == []


async def test_an_allowed_write_needs_no_approval(
    rig: AgentRig, llm_server: ScriptedLlmServer
) -> None:
    script_note_then(llm_server)
    await rig.start(AgentSetup(rules=(PolicyRule(tool="notes", decision="allow"),)))
    record = await rig.ask("note x")
    assert [d.decision for d in record.dispatches] == ["allow"]
    assert record.of(topics.AGENT_APPROVAL_REQUESTED) == []
    assert rig.notes.written == ["x"]


async def test_an_approval_for_another_action_is_refused(
    rig: AgentRig, llm_server: ScriptedLlmServer
) -> None:
    script_note_then(llm_server)
    await rig.start(ASKS)
    turn, approval = await park(rig)
    forged = ApprovalDecided(
        id=approval.id,
        decision="approve",
        approver_uid=0,
        action_sha256=action_sha256("notes", "write", {"text": "something else"}),
    )
    draft = NewEvent(
        topic=topics.AGENT_APPROVAL_DECIDED,
        type="approve",
        agent=AGENT,
        turn=turn,
        source="tests.forger",
        data=forged.to_data(),
    )
    await rig.log.append(draft)
    await completion_of(rig, turn)
    record = await rig.turn(turn)
    assert rig.notes.written == []
    refused = record.dispatches[-1]
    assert (refused.decision, refused.rule) == ("deny", f"approval {approval.id}")
    (result,) = record.results("notes")
    assert "was given for another action" in error_message(result.result)


async def test_a_pending_approval_survives_a_restart_and_then_runs_once(
    rig: AgentRig, llm_server: ScriptedLlmServer
) -> None:
    script_note_then(llm_server)
    await rig.start(ASKS)
    turn, approval = await park(rig)
    await rig.restart()
    await wait_until(lambda: rig.supervisor.state_of(AGENT) is AgentState.AWAITING_APPROVAL)
    (pending,) = rig.supervisor.approvals.pending()
    assert pending.request.id == approval.id
    await rig.supervisor.approvals.decide(approval.id, "approve", "", 0)
    await completion_of(rig, turn)
    record = await rig.turn(turn)
    assert rig.notes.written == ["x"]
    assert [d.decision for d in record.dispatches] == ["ask", "allow"]
    assert record.results("notes")[0].interrupted is False


async def test_deciding_an_unknown_or_decided_approval_is_refused(
    rig: AgentRig, llm_server: ScriptedLlmServer
) -> None:
    script_note_then(llm_server)
    await rig.start(ASKS)
    turn, approval = await park(rig)
    with pytest.raises(ApprovalNotFound):
        await rig.supervisor.approvals.decide("ap_nosuch", "approve", "", 0)
    await rig.supervisor.approvals.decide(approval.id, "deny", "", 0)
    with pytest.raises(ApprovalClosed):
        await rig.supervisor.approvals.decide(approval.id, "approve", "", 0)
    await completion_of(rig, turn)
    assert rig.notes.written == []


async def test_cancelling_a_parked_turn_closes_its_approval(
    rig: AgentRig, llm_server: ScriptedLlmServer
) -> None:
    llm_server.enqueue(tool_calls_completion(NOTE_CALL))
    await rig.start(ASKS)
    turn, approval = await park(rig)
    completed = await rig.supervisor.cancel_turn(AGENT, turn, 1000)
    assert (completed.status, completed.cancelled_by_uid) == ("cancelled", 1000)
    record = await rig.turn(turn)
    (decided,) = record.payloads(topics.AGENT_APPROVAL_DECIDED, ApprovalDecided)
    assert (decided.id, decided.decision, decided.approver_uid) == (approval.id, "cancel", 1000)
    (result,) = record.results("notes")
    assert error_message(result.result).startswith("cancelled: not run")
    assert rig.supervisor.approvals.pending() == []
    await wait_until(lambda: rig.supervisor.state_of(AGENT) is AgentState.IDLE)
    with pytest.raises(TurnFinished):
        await rig.supervisor.cancel_turn(AGENT, turn, 0)


async def test_cancelling_a_running_tool_ends_the_turn_at_once(
    rig: AgentRig, llm_server: ScriptedLlmServer
) -> None:
    llm_server.enqueue(
        tool_calls_completion(native_call("hold_change", {}, call_id="c_hold")),
        text_completion("next turn answered"),
    )
    await rig.start()
    async with rig.bus.subscribe(topics.AGENT_TOOL_DISPATCH, agent=AGENT) as dispatched:
        turn = await rig.supervisor.prompt(AGENT, "hold on")
        await wait_for_turn(dispatched, turn)
    await wait_until(lambda: rig.hold.runs == 1)
    started = time.monotonic()
    completed = await rig.supervisor.cancel_turn(AGENT, turn, 0)
    assert time.monotonic() - started < 5
    assert completed.status == "cancelled"
    record = await rig.turn(turn)
    (result,) = record.results("hold")
    assert error_message(result.result).startswith("cancelled: cancelled by an operator (uid 0)")
    assert record.completed.status == "cancelled"
    after = await rig.ask("and now?")
    assert after.completed.answer == "next turn answered"


async def test_a_queued_turn_is_cancelled_without_running(
    rig: AgentRig, llm_server: ScriptedLlmServer
) -> None:
    llm_server.enqueue(tool_calls_completion(NOTE_CALL))
    await rig.start(ASKS)
    parked, _ = await park(rig)
    queued = await rig.supervisor.prompt(AGENT, "queued")
    completed = await rig.supervisor.cancel_turn(AGENT, queued, 0)
    assert (completed.status, completed.steps) == ("cancelled", 0)
    assert rig.supervisor.state_of(AGENT) is AgentState.AWAITING_APPROVAL
    await rig.supervisor.cancel_turn(AGENT, parked, 0)
