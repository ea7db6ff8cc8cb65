"""Carrying out a turn's next step: each step's effect and the events that record it.

Durability rules (DESIGN.md): the intent is durable before the effect
(`agent.tool_dispatch` before a tool runs), and the outcome is durable before
the next step (an LLM response or tool result and its `agent.message`, in one
atomic batch).
"""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING, assert_never

from sysward.agents.history import fit_context
from sysward.agents.payloads import (
    AgentFailed,
    LlmResponded,
    MessageAdded,
    Payload,
    ToolDispatched,
    ToolFinished,
    TurnCompleted,
)
from sysward.agents.turn import (
    Begin,
    CallLlm,
    Done,
    Fail,
    Finish,
    RecordInterrupted,
    RunCall,
    Step,
    TurnState,
)
from sysward.events import topics
from sysward.llm import ChatMessage, LlmError, LlmReply, MalformedCall, ToolCall, ToolSpec
from sysward.policy.rules import CallFacts, PolicyDecision, decide
from sysward.tools import ActionSpec, ToolFailed, ToolResult, tool_error

if TYPE_CHECKING:
    from sysward.agents.agent import Agent

Batch = list[tuple[str, str, Payload]]
# Tool names never contain "-", so this topic cannot collide with a real tool's.
UNKNOWN_TOOL_TOPIC = "tool.unknown-tool"


class StepRunner:
    """Runs one step of one agent's turn and appends what it produced."""

    def __init__(self, agent: Agent) -> None:
        self._agent = agent

    async def run(self, step: Step, state: TurnState) -> None:
        match step:
            case Begin(text=text):
                message = ChatMessage(role="user", content=text)
                await self._emit([_message(message)], state)
            case CallLlm():
                await self._call_llm(state)
            case RunCall(call=call, is_rerun=is_rerun):
                await self._run_call(call, state, is_rerun=is_rerun)
            case RecordInterrupted(call=call):
                await self._record_interrupted(call, state)
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
        messages = fit_context(agent.config.role.prompt, agent.conversation, agent.config.limits)
        try:
            reply = await agent.deps.model.complete(messages, self.offered_tools())
        except LlmError as exc:
            await self._fail(Fail("llm", str(exc)), state)
            return
        await self._emit(_reply_events(reply, state.steps + 1), state)

    # -- tools -----------------------------------------------------------------

    async def _run_call(self, call: ToolCall, state: TurnState, *, is_rerun: bool) -> None:
        registry = self._agent.deps.registry
        try:
            spec = registry.spec(call.tool, call.action)
        except ToolFailed as exc:
            dispatch = _dispatch(call, None, PolicyDecision("deny", exc.message), is_rerun)
            result = tool_error(exc.code, exc.message, exc.details)
            # The name came from the model: it is not a topic we may write.
            events = _result_events(call, result, 0, topic=UNKNOWN_TOOL_TOPIC)
            await self._emit([dispatch, *events], state)
            return
        decision = self._decide(call, spec)
        dispatch = _dispatch(call, spec, decision, is_rerun)
        if decision.decision != "allow":
            # `ask` fails closed until approvals exist: denied, with the reason shown.
            result = tool_error("permission_denied", f"policy: {decision.reason}")
            await self._emit([dispatch, *_result_events(call, result, 0)], state)
            return
        await self._emit([dispatch], state)
        started = time.monotonic()
        outcome = await registry.invoke(
            call.tool, call.action, call.args, timeout_s=self._agent.config.tool_timeout_s
        )
        duration_ms = int((time.monotonic() - started) * 1000)
        await self._emit(_result_events(call, outcome, duration_ms), state)

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

    async def _record_interrupted(self, call: ToolCall, state: TurnState) -> None:
        result = tool_error(
            "interrupted",
            f"sysward restarted while {call.tool}.{call.action} was running; its outcome is "
            "unknown and it was not run again. Check the current state before retrying.",
            {"call_id": call.id},
        )
        await self._emit(_result_events(call, result, 0, interrupted=True), state)

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


def _message(message: ChatMessage) -> tuple[str, str, Payload]:
    return (topics.AGENT_MESSAGE, message.role, MessageAdded(message=message))


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
    batch: Batch = [(topics.AGENT_LLM_RESPONSE, "responded", responded), _message(assistant)]
    batch += [_message(_malformed_observation(bad)) for bad in reply.malformed]
    return batch


def _malformed_observation(bad: MalformedCall) -> ChatMessage:
    error = tool_error("malformed_call", f"could not decode this tool call: {bad.error}")
    return ChatMessage(role="tool", tool_call_id=bad.id, content=error.model_dump_json())


def _dispatch(
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


def _result_events(
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
    return [(topic or topics.tool_topic(call.tool), "result", finished), _message(message)]
