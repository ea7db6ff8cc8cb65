"""Carrying out a tool call's steps: policy, approvals, the dispatch, the run and its result.

Every call passes the policy chokepoint (`policy.rules.decide`). `allow`: the
dispatch is durable, then the tool runs, then its result is durable. `deny`:
dispatch and error result together. `ask`: the dispatch and an
`agent.approval_requested` in one batch; the turn parks until an operator
decides or the approval expires. An approved call runs only if the hash of the
action about to run equals the hash that was approved.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Final, assert_never

from sysward.agents.approvals import ApprovalUnavailable, action_sha256, new_approval_id
from sysward.agents.payloads import (
    ApprovalDecided,
    ApprovalRequested,
    MessageAdded,
    Payload,
    ToolDispatched,
    ToolFinished,
)
from sysward.agents.turn import (
    AwaitApproval,
    RecordInterrupted,
    RecordRefused,
    RunApproved,
    RunCall,
    TurnState,
)
from sysward.events import topics
from sysward.llm import ChatMessage, ToolCall
from sysward.policy.rules import CallFacts, PolicyDecision, decide
from sysward.tools import ActionSpec, ToolFailed, ToolResult, tool_error

if TYPE_CHECKING:
    from sysward.agents.agent import Agent

Batch = list[tuple[str, str, Payload]]
DispatchedRead = tuple[ToolCall, tuple[str, str, Payload]]
CallStep = RunCall | AwaitApproval | RunApproved | RecordRefused | RecordInterrupted
# Tool names never contain "-", so this topic cannot collide with a real tool's.
UNKNOWN_TOOL_TOPIC: Final = "tool.unknown-tool"
# Someone else holds the approval (an operator deciding it): their decision wakes us sooner.
CONTENDED_WAIT_S: Final = 1.0


class CallRunner:
    """Runs the tool-call steps of one agent's turns and appends what they produced."""

    def __init__(self, agent: Agent) -> None:
        self._agent = agent
        self._running_since: dict[str, float] = {}

    async def run(self, step: CallStep, state: TurnState) -> None:
        match step:
            case RunCall(call=call, is_rerun=is_rerun):
                await self._run_call(call, state, is_rerun=is_rerun)
            case AwaitApproval(approval=approval):
                await self._await_decision(approval, state)
            case RunApproved():
                await self._run_approved(step, state)
            case RecordRefused(call=call, decision=decision):
                result = tool_error(
                    "permission_denied", refusal(decision), {"approval": decision.id}
                )
                await self._emit(result_events(call, result, 0), state)
            case RecordInterrupted(call=call):
                await self._record_interrupted(call, state)
            case _:
                assert_never(step)

    async def _emit(self, batch: Batch, state: TurnState) -> None:
        await self._agent.emit_many(batch, turn=state.turn)

    async def _run_call(self, call: ToolCall, state: TurnState, *, is_rerun: bool) -> None:
        try:
            spec = self._agent.deps.registry.spec(call.tool, call.action)
        except ToolFailed as exc:
            dispatch = dispatch_event(call, None, PolicyDecision("deny", exc.message), is_rerun)
            result = tool_error(exc.code, exc.message, exc.details)
            # The name came from the model: it is not a topic we may write.
            events = result_events(call, result, 0, topic=UNKNOWN_TOOL_TOPIC)
            await self._emit([dispatch, *events], state)
            return
        decision = self._decide(call, spec)
        dispatch = dispatch_event(call, spec, decision, is_rerun)
        if decision.decision == "ask":
            await self._emit([dispatch, self._approval_request(call, decision)], state)
        elif decision.decision == "deny":
            result = tool_error("permission_denied", f"policy: {decision.reason}")
            await self._emit([dispatch, *result_events(call, result, 0)], state)
        else:
            await self._invoke(call, dispatch, state)

    def dispatch_with_reply(self, calls: Sequence[ToolCall]) -> list[DispatchedRead]:
        """The leading calls of a reply that policy allows and that only read.

        Their dispatch is committed in the reply's own batch, saving a synced
        commit per step: the intent is still durable before the effect, and a
        crash before a result re-runs a read, which is what a read's dispatch
        means anyway. A write, an `ask`, a `deny` or an unknown action ends the
        run; it and the calls after it take their own steps.
        """
        ready: list[DispatchedRead] = []
        for call in calls:
            try:
                spec = self._agent.deps.registry.spec(call.tool, call.action)
            except ToolFailed:
                break
            if not spec.is_read_only:
                break
            decision = self._decide(call, spec)
            if decision.decision != "allow":
                break
            ready.append((call, dispatch_event(call, spec, decision, False)))
        return ready

    async def _invoke(
        self, call: ToolCall, dispatch: tuple[str, str, Payload], state: TurnState
    ) -> None:
        """Intent, effect, outcome: the dispatch is durable before the tool starts."""
        await self._emit([dispatch], state)
        await self.run_dispatched(call, state)

    async def run_dispatched(self, call: ToolCall, state: TurnState) -> None:
        """Run a call whose dispatch is durable, and record its result."""
        started = time.monotonic()
        self._running_since[call.id] = started
        try:
            outcome = await self._agent.deps.registry.invoke(
                call.tool, call.action, call.args, timeout_s=self._agent.config.tool_timeout_s
            )
        finally:
            self._running_since.pop(call.id, None)
        duration_ms = int((time.monotonic() - started) * 1000)
        await self._emit(result_events(call, outcome, duration_ms), state)

    def _decide(self, call: ToolCall, spec: ActionSpec) -> PolicyDecision:
        agent = self._agent
        role = agent.config.role
        facts = CallFacts(
            tool=call.tool,
            action=call.action,
            is_write=not spec.is_read_only,
            args=call.args,
            is_allowed_by_role=role.allows(call.tool, call.action),
            is_read_only=agent.config.read_only or agent.deps.global_read_only,
        )
        rules = [(f"role {role.name} rule {i}", r) for i, r in enumerate(role.policy.rules)]
        rules += [(f"policy.rules.{i}", r) for i, r in enumerate(agent.deps.global_rules)]
        return decide(facts, rules)

    # -- approvals ---------------------------------------------------------------

    def _approval_request(
        self, call: ToolCall, decision: PolicyDecision
    ) -> tuple[str, str, Payload]:
        timeout_s = self._agent.deps.approval_timeout_s
        now = datetime.now(UTC)
        requested = ApprovalRequested(
            id=new_approval_id(),
            call_id=call.id,
            tool=call.tool,
            action=call.action,
            args=call.args,
            action_sha256=action_sha256(call.tool, call.action, call.args),
            reason=decision.reason,
            rule=decision.rule,
            requested_at=now,
            expires_at=now + timedelta(seconds=timeout_s),
            timeout_s=timeout_s,
        )
        return (topics.AGENT_APPROVAL_REQUESTED, "requested", requested)

    async def _await_decision(self, approval: ApprovalRequested, state: TurnState) -> None:
        """Park until woken (a decision, a prompt) or expiry; the next fold tells which."""
        remaining_s = (approval.expires_at - datetime.now(UTC)).total_seconds()
        if remaining_s > 0:
            await self._agent.wait_for_wakeup(remaining_s, is_awaiting_approval=True)
            return
        reason = f"approval expired after {approval.timeout_s:g} s without a decision"
        try:
            await self._agent.approvals.decide(approval.id, "expire", reason, None)
        except ApprovalUnavailable:
            await self._agent.wait_for_wakeup(CONTENDED_WAIT_S, is_awaiting_approval=True)

    async def _run_approved(self, step: RunApproved, state: TurnState) -> None:
        call, approval, decided = step.call, step.approval, step.decision
        try:
            spec: ActionSpec | None = self._agent.deps.registry.spec(call.tool, call.action)
        except ToolFailed:
            spec = None
        rule = f"approval {approval.id}"
        actual = action_sha256(call.tool, call.action, call.args)
        if spec is None or actual != decided.action_sha256 or actual != approval.action_sha256:
            reason = (
                f"approval {approval.id} was given for another action "
                f"(sha256 {decided.action_sha256}); this call's is {actual}: not run"
            )
            dispatch = dispatch_event(call, spec, PolicyDecision("deny", reason, rule), False)
            result = tool_error("permission_denied", reason, {"approval": approval.id})
            await self._emit([dispatch, *result_events(call, result, 0)], state)
            return
        approver = "unknown" if decided.approver_uid is None else str(decided.approver_uid)
        reason = f"approved by uid {approver}" + (f": {decided.reason}" if decided.reason else "")
        decision = PolicyDecision("allow", reason, rule)
        await self._invoke(call, dispatch_event(call, spec, decision, step.is_rerun), state)

    async def _record_interrupted(self, call: ToolCall, state: TurnState) -> None:
        result = tool_error(
            "interrupted",
            f"sysward restarted while {call.tool}.{call.action} was running; its outcome is "
            "unknown and it was not run again. Check the current state before retrying.",
            {"call_id": call.id},
        )
        await self._emit(result_events(call, result, 0, interrupted=True), state)

    # -- cancellation --------------------------------------------------------------

    def cancelled_calls(self, state: TurnState, uid: int | None) -> Batch:
        """Results for every unanswered call of a cancelled turn, so the model is told."""
        by = "an operator" if uid is None else f"an operator (uid {uid})"
        batch: Batch = []
        now = time.monotonic()
        for call in state.unanswered:
            dispatch = state.dispatched.get(call.id)
            started = self._running_since.get(call.id)
            if dispatch is not None and dispatch.decision == "allow":
                message = (
                    f"cancelled by {by} while it ran; its effect, if any, is unknown. "
                    "Check the current state before retrying."
                )
            else:
                message = f"not run: the turn was cancelled by {by}"
            result = tool_error("cancelled", message, {"call_id": call.id})
            duration_ms = 0 if started is None else int((now - started) * 1000)
            batch += result_events(call, result, duration_ms, topic=self._result_topic(call))
        return batch

    def _result_topic(self, call: ToolCall) -> str:
        try:
            self._agent.deps.registry.spec(call.tool, call.action)
        except ToolFailed:
            return UNKNOWN_TOOL_TOPIC
        return topics.tool_topic(call.tool)


def refusal(decision: ApprovalDecided) -> str:
    """What the model is told when an approval did not let its call run."""
    if decision.decision == "expire":
        return decision.reason or "approval expired without a decision"
    if decision.decision == "cancel":
        return "not run: the turn was cancelled"
    who = "unknown" if decision.approver_uid is None else str(decision.approver_uid)
    return f"denied by the operator (uid {who}): {decision.reason or 'no reason given'}"


def message_event(message: ChatMessage) -> tuple[str, str, Payload]:
    return (topics.AGENT_MESSAGE, message.role, MessageAdded(message=message))


def dispatch_event(
    call: ToolCall, spec: ActionSpec | None, decision: PolicyDecision, is_rerun: bool
) -> tuple[str, str, Payload]:
    dispatched = ToolDispatched(
        call_id=call.id,
        tool=call.tool,
        action=call.action,
        args=call.args,
        effect=spec.effect.value if spec is not None else None,
        decision=decision.decision,
        rule=decision.rule,
        reason=decision.reason,
        rerun=is_rerun,
    )
    return (topics.AGENT_TOOL_DISPATCH, "dispatched", dispatched)


def result_events(
    call: ToolCall,
    result: ToolResult,
    duration_ms: int,
    *,
    interrupted: bool = False,
    topic: str | None = None,
) -> Batch:
    finished = ToolFinished(
        call_id=call.id,
        action=call.action,
        result=result,
        duration_ms=duration_ms,
        interrupted=interrupted,
    )
    content = json.dumps(result.model_dump(mode="json"), separators=(",", ":"))
    message = ChatMessage(role="tool", tool_call_id=call.id, content=content)
    return [(topic or topics.tool_topic(call.tool), "result", finished), message_event(message)]
