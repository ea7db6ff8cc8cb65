"""Carrying out a turn's next step: each step's effect and the events that record it.

Durability rules (DESIGN.md): the intent is durable before the effect
(`agent.tool_dispatch` before a tool runs), and the outcome is durable before
the next step (an LLM response or tool result and its `agent.message`, in one
atomic batch).
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, assert_never

from sysward.agents.approvals import ApprovalUnavailable
from sysward.agents.dispatch import Batch, CallRunner, message_event
from sysward.agents.history import fit_context
from sysward.agents.payloads import (
    AgentFailed,
    ApprovalDecided,
    LlmResponded,
    TurnCompleted,
)
from sysward.agents.turn import (
    AwaitApproval,
    Begin,
    CallLlm,
    Done,
    Fail,
    Finish,
    RecordInterrupted,
    RecordRefused,
    RunApproved,
    RunCall,
    Step,
    TurnState,
)
from sysward.events import topics
from sysward.llm import ChatMessage, LlmError, LlmReply, MalformedCall, ToolSpec
from sysward.tools import ToolRegistry, tool_error

if TYPE_CHECKING:
    from sysward.agents.agent import Agent


class StepRunner:
    """Runs one step of one agent's turn and appends what it produced."""

    def __init__(self, agent: Agent) -> None:
        self._agent = agent
        self._calls = CallRunner(agent)
        self._offered: tuple[ToolRegistry, list[ToolSpec]] | None = None

    async def run(self, step: Step, state: TurnState) -> None:
        match step:
            case Begin(text=text):
                message = ChatMessage(role="user", content=text)
                await self._emit([message_event(message)], state)
            case CallLlm():
                await self._call_llm(state)
            case (
                RunCall() | AwaitApproval() | RunApproved() | RecordRefused() | RecordInterrupted()
            ):
                await self._calls.run(step, state)
            case Finish(answer=answer):
                completed = TurnCompleted(status="completed", steps=state.steps, answer=answer)
                await self._emit([(topics.AGENT_TURN_COMPLETED, "completed", completed)], state)
            case Fail():
                await self._fail(step, state)
            case Done():
                return
            case _:
                assert_never(step)

    async def _emit(self, batch: Batch, state: TurnState) -> None:
        await self._agent.emit_many(batch, turn=state.turn)

    # -- LLM -------------------------------------------------------------------

    def offered_tools(self) -> list[ToolSpec]:
        # Built once per registry: the same objects each step let the encoder reuse their JSON.
        registry = self._agent.deps.registry
        if self._offered is None or self._offered[0] is not registry:
            self._offered = (registry, self._role_tools())
        return self._offered[1]

    def _role_tools(self) -> list[ToolSpec]:
        role = self._agent.config.role
        return [
            ToolSpec(
                tool=spec.tool,
                action=spec.action,
                description=spec.description,
                parameters=spec.parameters,
            )
            for spec in self._agent.deps.registry.actions()
            if role.allows(spec.tool, spec.action)
        ]

    async def _call_llm(self, state: TurnState) -> None:
        agent = self._agent
        conversation, omitted = await agent.context()
        messages = fit_context(
            agent.config.role.prompt,
            conversation,
            agent.config.limits,
            omitted=omitted,
            sizes=agent.sizes,
        )
        try:
            reply = await agent.deps.model.complete(messages, self.offered_tools())
        except LlmError as exc:
            await self._fail(Fail("llm", str(exc)), state)
            return
        reads = self._calls.dispatch_with_reply(reply.tool_calls)
        await self._emit(_reply_events(reply, state.steps + 1) + [d for _, d in reads], state)
        for call, _ in reads:
            await self._calls.run_dispatched(call, state)

    # -- cancellation ------------------------------------------------------------

    async def cancel(self, state: TurnState, uid: int | None) -> TurnCompleted:
        """End the turn as cancelled: close its approval, answer its calls, complete it."""
        by = "an operator" if uid is None else f"uid {uid}"
        completed = TurnCompleted(
            status="cancelled", steps=state.steps, error=f"cancelled by {by}", cancelled_by_uid=uid
        )
        batch: Batch = [
            *self._calls.cancelled_calls(state, uid),
            (topics.AGENT_TURN_COMPLETED, "cancelled", completed),
        ]
        approval = state.pending_approval
        with contextlib.ExitStack() as held:
            if approval is not None:
                # An operator deciding it right now loses: the turn's end closes it anyway.
                with contextlib.suppress(ApprovalUnavailable):
                    held.enter_context(self._agent.approvals.deciding(approval.id))
                    closed = ApprovalDecided(
                        id=approval.id,
                        decision="cancel",
                        reason=f"turn cancelled by {by}",
                        approver_uid=uid,
                        action_sha256=approval.action_sha256,
                    )
                    batch.insert(0, (topics.AGENT_APPROVAL_DECIDED, "cancel", closed))
            await self._emit(batch, state)
        return completed

    async def _fail(self, step: Fail, state: TurnState) -> None:
        kind = step.kind if step.kind in _FAILURE_KINDS else "crash"
        error = AgentFailed(kind=kind, message=step.message)
        status = "quarantined" if step.status == "quarantined" else "failed"
        completed = TurnCompleted(status=status, steps=state.steps, error=step.message)
        batch: Batch = [
            (topics.AGENT_ERROR, kind, error),
            (topics.AGENT_TURN_COMPLETED, status, completed),
        ]
        await self._emit(batch, state)


_FAILURE_KINDS = frozenset({"llm", "malformed_output", "max_steps", "quarantined"})


def _reply_events(reply: LlmReply, step: int) -> Batch:
    responded = LlmResponded(
        step=step,
        content=reply.content,
        reasoning=reply.reasoning,
        tool_calls=reply.tool_calls,
        malformed=reply.malformed,
        finish_reason=reply.finish_reason,
        usage=reply.usage,
        model=reply.model,
        latency_ms=reply.latency_ms,
        attempts=reply.attempts,
    )
    assistant = ChatMessage(role="assistant", content=reply.content, tool_calls=reply.tool_calls)
    batch: Batch = [(topics.AGENT_LLM_RESPONSE, "responded", responded), message_event(assistant)]
    batch += [message_event(_malformed_observation(bad)) for bad in reply.malformed]
    return batch


def _malformed_observation(bad: MalformedCall) -> ChatMessage:
    error = tool_error("malformed_call", f"could not decode this tool call: {bad.error}")
    return ChatMessage(role="tool", tool_call_id=bad.id, content=error.model_dump_json())
