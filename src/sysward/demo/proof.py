"""What the demo proves, counted from the event log and the model's own counter.

`DemoSummary` is also the `--json` document, so a test (or a curious operator)
reads the same numbers the prose shows.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from pydantic import BaseModel, ConfigDict, Field

from sysward.agents.payloads import LlmResponded, ToolDispatched, ToolFinished, TurnCompleted
from sysward.demo.model import ModelStats
from sysward.events import topics
from sysward.events.record import Event


class CallCounts(BaseModel):
    """Calls of one kind in the demo's turn, split at the crash."""

    model_config = ConfigDict(frozen=True)

    before_crash: int
    after_restart: int
    repeated: int = Field(description="Calls made again although their outcome was durable")

    @property
    def total(self) -> int:
        return self.before_crash + self.after_restart


class ModelCounts(BaseModel):
    """The scripted model's view: what it served over both lives of the daemon."""

    model_config = ConfigDict(frozen=True)

    answered_before_crash: int
    answered_total: int
    cut_off_by_crash: int = Field(description="Requests in flight at the kill, never answered")
    repeated_answers: int = Field(description="Turn steps the model answered twice")


class DemoSummary(BaseModel):
    """The `python -m sysward.demo --json` document."""

    model_config = ConfigDict(frozen=True)

    is_ok: bool
    problems: list[str]
    model: str
    is_scripted_model: bool
    work_dir: str
    state_dir: str
    socket: str
    config: str
    turn: str
    status: str
    answer: str | None
    steps: int
    killed_after_seq: int
    llm_calls: CallCounts
    tool_calls: CallCounts
    model_counts: ModelCounts | None
    log_verified: bool
    log_events: int
    pids: list[int] = Field(description="Every process the demo started")


def count_llm_calls(events: Sequence[Event], turn: str, killed_after_seq: int) -> CallCounts:
    """LLM calls of a turn: each durable `agent.llm_response`; a repeat is a step seen twice."""
    responses = [
        (event.seq, LlmResponded.model_validate(event.data))
        for event in events
        if event.turn == turn and event.topic == topics.AGENT_LLM_RESPONSE
    ]
    steps = Counter(response.step for _, response in responses)
    return CallCounts(
        before_crash=sum(1 for seq, _ in responses if seq <= killed_after_seq),
        after_restart=sum(1 for seq, _ in responses if seq > killed_after_seq),
        repeated=sum(count - 1 for count in steps.values()),
    )


def count_tool_calls(events: Sequence[Event], turn: str, killed_after_seq: int) -> CallCounts:
    """Tool calls of a turn that ran; a repeat is a re-run dispatch or a second result."""
    results = [
        (event.seq, ToolFinished.model_validate(event.data))
        for event in events
        if event.turn == turn and event.topic.startswith("tool.") and event.type == "result"
    ]
    reruns = sum(
        1
        for event in events
        if event.turn == turn
        and event.topic == topics.AGENT_TOOL_DISPATCH
        and ToolDispatched.model_validate(event.data).rerun
    )
    per_call = Counter(result.call_id for _, result in results)
    return CallCounts(
        before_crash=sum(1 for seq, _ in results if seq <= killed_after_seq),
        after_restart=sum(1 for seq, _ in results if seq > killed_after_seq),
        repeated=reruns + sum(count - 1 for count in per_call.values()),
    )


def turn_outcome(events: Sequence[Event], turn: str) -> TurnCompleted | None:
    for event in events:
        if event.turn == turn and event.topic == topics.AGENT_TURN_COMPLETED:
            return TurnCompleted.model_validate(event.data)
    return None


def model_counts(before: ModelStats, after: ModelStats) -> ModelCounts:
    return ModelCounts(
        answered_before_crash=before.answered,
        answered_total=after.answered,
        cut_off_by_crash=after.cut_off,
        repeated_answers=after.repeated_answers,
    )


def find_problems(
    outcome: TurnCompleted | None,
    llm: CallCounts,
    tools: CallCounts,
    model: ModelCounts | None,
) -> list[str]:
    """Everything that contradicts the claim: resumed, nothing done twice, nothing lost."""
    if outcome is None:
        return ["the turn has no agent.turn_completed event"]
    problems = [] if outcome.status == "completed" else [f"the turn {outcome.status}"]
    if llm.before_crash == 0 or tools.before_crash == 0:
        problems.append("the crash came before any step was durable: nothing was resumed")
    if llm.after_restart == 0:
        problems.append("no LLM call happened after the restart: the turn was not resumed")
    if llm.repeated or tools.repeated:
        problems.append(f"calls were repeated: {llm.repeated} LLM, {tools.repeated} tool")
    if llm.total != outcome.steps:
        problems.append(f"{llm.total} LLM calls in the log for a turn of {outcome.steps} steps")
    if model is not None and (model.repeated_answers or model.answered_total != outcome.steps):
        problems.append(
            f"the model answered {model.answered_total} times ({model.repeated_answers} "
            f"repeats) for a turn of {outcome.steps} steps"
        )
    return problems
