"""The turn state machine: a pure fold over a turn's events, and the next step to take.

A turn is prompt → (LLM call → tool calls)* → answer. Its state is rebuilt from
the log at every start, so `next_step` after a crash names exactly the step
that was not yet durable: a recorded LLM response is never requested again, a
recorded tool result never run again.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Final

from sysward.agents.payloads import (
    AgentFailed,
    ApprovalDecided,
    ApprovalRequested,
    LlmResponded,
    MessageAdded,
    Prompted,
    ToolDispatched,
    ToolFinished,
    TurnCompleted,
    parse_data,
    payload_model,
)
from sysward.events import topics
from sysward.events.record import Event
from sysward.llm import ToolCall

# Malformed output (bad JSON, unknown tool, invalid args) this many steps in a
# row ends the turn instead of letting a confused model loop.
MAX_MODEL_ERROR_STREAK: Final = 3
# A turn that crashed the agent this many times is quarantined, not resumed.
QUARANTINE_AFTER_CRASHES: Final = 3
# Result codes that mean the model, not the world, got something wrong.
MODEL_ERROR_CODES: Final = frozenset({"unknown_tool", "unknown_action", "invalid_args"})


@dataclass(frozen=True, slots=True)
class TurnState:
    """Everything needed to decide a turn's next step."""

    turn: str
    prompt: str = ""
    max_steps: int = 1
    has_started: bool = False
    steps: int = 0
    awaiting: tuple[ToolCall, ...] = ()
    dispatched: dict[str, ToolDispatched] = field(default_factory=dict)
    approvals: dict[str, ApprovalRequested] = field(default_factory=dict)
    decisions: dict[str, ApprovalDecided] = field(default_factory=dict)
    answered: frozenset[str] = frozenset()
    answer: str | None = None
    wants_answer_to_malformed: bool = False
    step_errors: int = 0
    step_successes: int = 0
    error_streak: int = 0
    crashes: int = 0
    completed: TurnCompleted | None = None
    first_seq: int = 0
    # The trigger that started the turn (its prompt's context), carried by every step's events.
    trigger: str | None = None
    trigger_seq: int | None = None

    @property
    def is_finished(self) -> bool:
        return self.completed is not None

    @property
    def unanswered(self) -> list[ToolCall]:
        return [call for call in self.awaiting if call.id not in self.answered]

    @property
    def pending_approval(self) -> ApprovalRequested | None:
        """The approval of an unanswered call that no decision has closed yet."""
        for call in self.unanswered:
            approval = self.approvals.get(call.id)
            if approval is not None and approval.id not in self.decisions:
                return approval
        return None


def fold_turn(state: TurnState, event: Event) -> TurnState:
    """The state after one more event of this turn (events of other turns are ignored)."""
    if event.turn != state.turn:
        return state
    model = payload_model(event.topic)
    if model is None:
        return state
    payload = parse_data(model, event.data)
    first_seq = state.first_seq or event.seq
    if isinstance(payload, Prompted) and event.context.trigger is not None:
        state = replace(state, trigger=event.context.trigger, trigger_seq=event.context.trigger_seq)
    return _apply(replace(state, first_seq=first_seq), payload)


def _apply(state: TurnState, payload: object) -> TurnState:
    match payload:
        case Prompted(text=text, max_steps=max_steps):
            return replace(state, prompt=text, max_steps=max_steps)
        case MessageAdded(message=message) if message.role == "user":
            return replace(state, has_started=True)
        case LlmResponded():
            return _apply_llm_response(_close_step(state), payload)
        case ToolDispatched():
            return replace(state, dispatched={**state.dispatched, payload.call_id: payload})
        case ApprovalRequested():
            return replace(state, approvals={**state.approvals, payload.call_id: payload})
        case ApprovalDecided() if payload.id not in state.decisions:
            # The first decision recorded is the one that counts; later ones change nothing.
            return replace(state, decisions={**state.decisions, payload.id: payload})
        case ToolFinished():
            return _apply_tool_result(state, payload)
        case AgentFailed(kind="crash"):
            return replace(state, crashes=state.crashes + 1)
        case TurnCompleted():
            return replace(state, completed=payload)
    return state


def _apply_llm_response(state: TurnState, reply: LlmResponded) -> TurnState:
    is_final = not reply.tool_calls and not reply.malformed
    # Calls are tracked per step: servers that number calls per reply reuse ids.
    return replace(
        state,
        steps=state.steps + 1,
        awaiting=tuple(reply.tool_calls),
        dispatched={},
        approvals={},
        decisions={},
        answered=frozenset(),
        answer=reply.content if is_final else None,
        wants_answer_to_malformed=bool(reply.malformed),
        step_errors=len(reply.malformed),
        step_successes=0,
    )


def _apply_tool_result(state: TurnState, finished: ToolFinished) -> TurnState:
    result = finished.result
    is_model_error = not result.ok and result.error.code in MODEL_ERROR_CODES
    return replace(
        state,
        answered=state.answered | {finished.call_id},
        step_errors=state.step_errors + int(is_model_error),
        step_successes=state.step_successes + int(result.ok),
    )


def _close_step(state: TurnState) -> TurnState:
    """Before a new LLM step: was the previous one all model errors?"""
    if state.steps == 0:
        return state
    all_errors = state.step_errors > 0 and state.step_successes == 0
    return replace(state, error_streak=state.error_streak + 1 if all_errors else 0)


# -- steps ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Begin:
    """Put the prompt into the conversation: the turn's first message."""

    text: str


@dataclass(frozen=True, slots=True)
class CallLlm:
    """Ask the model for the next step."""


@dataclass(frozen=True, slots=True)
class RunCall:
    """Check policy, record the dispatch, run the call, record its result."""

    call: ToolCall
    is_rerun: bool = False


@dataclass(frozen=True, slots=True)
class RecordInterrupted:
    """A write call was dispatched but its outcome is unknown: tell the model, do not re-run."""

    call: ToolCall
    dispatch: ToolDispatched


@dataclass(frozen=True, slots=True)
class AwaitApproval:
    """Policy asked an operator: wait for the decision, at most until it expires."""

    call: ToolCall
    approval: ApprovalRequested


@dataclass(frozen=True, slots=True)
class RunApproved:
    """An operator approved the call: run it if it is still the action they approved."""

    call: ToolCall
    approval: ApprovalRequested
    decision: ApprovalDecided
    is_rerun: bool = False


@dataclass(frozen=True, slots=True)
class RecordRefused:
    """The approval was denied, expired or closed: tell the model, do not run."""

    call: ToolCall
    approval: ApprovalRequested
    decision: ApprovalDecided


@dataclass(frozen=True, slots=True)
class Finish:
    answer: str | None


@dataclass(frozen=True, slots=True)
class Fail:
    kind: str
    message: str
    status: str = "failed"


@dataclass(frozen=True, slots=True)
class Done:
    """Nothing left to do: the turn has completed."""


Step = (
    Begin
    | CallLlm
    | RunCall
    | AwaitApproval
    | RunApproved
    | RecordRefused
    | RecordInterrupted
    | Finish
    | Fail
    | Done
)


def next_step(state: TurnState) -> Step:
    """The one step that is not yet durable."""
    if state.completed is not None:
        return Done()
    if state.crashes >= QUARANTINE_AFTER_CRASHES:
        return Fail(
            "quarantined",
            f"turn {state.turn} crashed the agent {state.crashes} times; quarantined",
            status="quarantined",
        )
    if not state.has_started:
        return Begin(state.prompt)
    unanswered = state.unanswered
    if unanswered:
        return _call_step(state, unanswered[0])
    return _after_results(state)


def _call_step(state: TurnState, call: ToolCall) -> Step:
    dispatch = state.dispatched.get(call.id)
    if dispatch is None:
        return RunCall(call)
    approval = state.approvals.get(call.id)
    if approval is not None:
        return _approval_step(state, call, approval, dispatch)
    if dispatch.effect == "read":
        return RunCall(call, is_rerun=True)
    return RecordInterrupted(call, dispatch)


def _approval_step(
    state: TurnState, call: ToolCall, approval: ApprovalRequested, dispatch: ToolDispatched
) -> Step:
    decision = state.decisions.get(approval.id)
    if decision is None:
        return AwaitApproval(call, approval)
    if decision.decision != "approve":
        return RecordRefused(call, approval, decision)
    # An `ask` dispatch ran nothing; only the approved `allow` dispatch started the tool.
    if dispatch.decision == "ask":
        return RunApproved(call, approval, decision)
    if dispatch.effect == "read":
        return RunApproved(call, approval, decision, is_rerun=True)
    return RecordInterrupted(call, dispatch)


def _after_results(state: TurnState) -> Step:
    streak = state.error_streak + int(state.step_errors > 0 and state.step_successes == 0)
    if streak >= MAX_MODEL_ERROR_STREAK:
        return Fail(
            "malformed_output",
            f"the model produced invalid tool calls {streak} steps in a row; turn ended",
        )
    if state.steps > 0 and not state.awaiting and not state.wants_answer_to_malformed:
        return Finish(state.answer)
    if state.steps >= state.max_steps:
        return Fail("max_steps", f"the turn reached max_steps={state.max_steps} without an answer")
    return CallLlm()


def new_turn_state(turn: str) -> TurnState:
    return TurnState(turn=turn)


def is_turn_topic(topic: str) -> bool:
    """Whether events of this topic take part in a turn's fold."""
    return topic.startswith(("agent.", "tool.")) and topic != topics.TOOL_INOTIFY_EVENT
