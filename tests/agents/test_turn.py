"""The turn state machine: `fold_turn` over hand-built events and the `next_step` it names."""

from __future__ import annotations

from datetime import UTC, datetime

from sysward.agents.payloads import (
    AgentFailed,
    AgentLifecycle,
    LlmResponded,
    MessageAdded,
    Payload,
    Prompted,
    ToolDispatched,
    ToolFinished,
    TurnCompleted,
)
from sysward.agents.turn import (
    MAX_MODEL_ERROR_STREAK,
    QUARANTINE_AFTER_CRASHES,
    Begin,
    CallLlm,
    Done,
    Fail,
    Finish,
    RecordInterrupted,
    RunCall,
    TurnState,
    fold_turn,
    new_turn_state,
    next_step,
)
from sysward.events import topics
from sysward.events.record import GENESIS_PREV, Event
from sysward.llm import ChatMessage, MalformedCall, ToolCall
from sysward.tools import ToolOk, ToolResult, tool_error

TURN = "t_1"
SHA = ToolCall(id="call_0", tool="crypto", action="sha256", args={"data": "abc"})
ENCODE = ToolCall(id="call_1", tool="crypto", action="encode", args={"data": "hi"})
TOUCH = ToolCall(id="call_0", tool="notes", action="write", args={"text": "once"})


class TurnLog:
    """The events of one turn as the agent would append them, numbered in order."""

    def __init__(self, turn: str = TURN) -> None:
        self.turn = turn
        self.events: list[Event] = []
        self._steps = 0

    def add(self, topic: str, payload: Payload, *, turn: str | None = None) -> TurnLog:
        self.events.append(
            Event(
                seq=len(self.events) + 1,
                ts=datetime.now(UTC),
                topic=topic,
                type="test",
                agent="ops",
                turn=turn or self.turn,
                source="tests",
                data=payload.to_data(),
                prev=GENESIS_PREV,
            )
        )
        return self

    def prompt(self, text: str = "check the disk", *, max_steps: int = 10) -> TurnLog:
        return self.add(topics.AGENT_PROMPT, Prompted(text=text, max_steps=max_steps))

    def begin(self, text: str = "check the disk") -> TurnLog:
        message = ChatMessage(role="user", content=text)
        return self.add(topics.AGENT_MESSAGE, MessageAdded(message=message))

    def started(self, *, max_steps: int = 10) -> TurnLog:
        return self.prompt(max_steps=max_steps).begin()

    def reply(
        self,
        *calls: ToolCall,
        content: str | None = None,
        malformed: tuple[MalformedCall, ...] = (),
    ) -> TurnLog:
        self._steps += 1
        responded = LlmResponded(
            step=self._steps,
            content=content,
            tool_calls=list(calls),
            malformed=list(malformed),
            latency_ms=1.0,
            attempts=1,
        )
        self.add(topics.AGENT_LLM_RESPONSE, responded)
        assistant = ChatMessage(role="assistant", content=content, tool_calls=list(calls))
        return self.add(topics.AGENT_MESSAGE, MessageAdded(message=assistant))

    def dispatch(self, call: ToolCall, *, effect: str = "read") -> TurnLog:
        dispatched = ToolDispatched.model_validate(
            {
                "call_id": call.id,
                "tool": call.tool,
                "action": call.action,
                "args": call.args,
                "effect": effect,
                "decision": "allow",
            }
        )
        return self.add(topics.AGENT_TOOL_DISPATCH, dispatched)

    def result(self, call: ToolCall, result: ToolResult | None = None) -> TurnLog:
        finished = ToolFinished(
            call_id=call.id,
            action=call.action,
            result=result or ToolOk(output={"done": True}),
            duration_ms=1,
        )
        return self.add(topics.tool_topic(call.tool), finished)

    def run(self, call: ToolCall, result: ToolResult | None = None) -> TurnLog:
        """A call dispatched and answered."""
        return self.dispatch(call).result(call, result)

    def crash(self, *, turn: str | None = None) -> TurnLog:
        return self.add(topics.AGENT_ERROR, AgentFailed(kind="crash", message="boom"), turn=turn)

    def state(self) -> TurnState:
        state = new_turn_state(self.turn)
        for event in self.events:
            state = fold_turn(state, event)
        return state

    def next(self) -> object:
        return next_step(self.state())


def bad_json(call_id: str = "call_0") -> MalformedCall:
    return MalformedCall(id=call_id, raw="{", error="arguments are not valid JSON")


def invalid_args() -> ToolResult:
    return tool_error("invalid_args", "invalid arguments for crypto.sha256")


def unknown_tool() -> ToolResult:
    return tool_error("unknown_tool", "there is no tool 'nope'")


# -- the ordinary path -------------------------------------------------------------


def test_a_prompted_turn_begins_with_its_prompt() -> None:
    assert TurnLog().prompt("why is nginx down?").next() == Begin("why is nginx down?")


def test_a_begun_turn_asks_the_model() -> None:
    assert TurnLog().started().next() == CallLlm()


def test_each_call_of_a_reply_is_run_in_order() -> None:
    turn = TurnLog().started().reply(SHA, ENCODE)
    assert turn.next() == RunCall(SHA)
    assert turn.run(SHA).next() == RunCall(ENCODE)


def test_after_every_result_the_model_is_asked_again() -> None:
    turn = TurnLog().started().reply(SHA, ENCODE).run(SHA).run(ENCODE)
    assert turn.next() == CallLlm()


def test_a_recorded_reply_is_never_requested_again() -> None:
    turn = TurnLog().started().reply(SHA)
    assert not isinstance(turn.next(), CallLlm)
    assert turn.state().steps == 1


def test_a_reply_without_calls_finishes_the_turn_with_its_answer() -> None:
    turn = TurnLog().started().reply(SHA).run(SHA).reply(content="the disk is fine")
    assert turn.next() == Finish("the disk is fine")


def test_a_completed_turn_has_nothing_left_to_do() -> None:
    turn = TurnLog().started().reply(content="ok")
    turn.add(topics.AGENT_TURN_COMPLETED, TurnCompleted(status="completed", steps=1, answer="ok"))
    assert turn.state().is_finished
    assert turn.next() == Done()


# -- resuming after a crash --------------------------------------------------------


def test_a_read_call_dispatched_without_a_result_is_run_again() -> None:
    turn = TurnLog().started().reply(SHA).dispatch(SHA, effect="read")
    assert turn.next() == RunCall(SHA, is_rerun=True)


def test_a_write_call_dispatched_without_a_result_is_recorded_as_interrupted() -> None:
    turn = TurnLog().started().reply(TOUCH).dispatch(TOUCH, effect="write")
    step = turn.next()
    assert isinstance(step, RecordInterrupted)
    assert step.call == TOUCH
    assert step.dispatch.effect == "write"


def test_an_interrupted_result_answers_the_write_call() -> None:
    interrupted = tool_error("interrupted", "outcome unknown")
    turn = TurnLog().started().reply(TOUCH).dispatch(TOUCH, effect="write")
    assert turn.result(TOUCH, interrupted).next() == CallLlm()


def test_call_ids_reused_by_the_next_reply_are_new_calls() -> None:
    # Servers number calls per reply: both replies call `call_0`.
    second = ToolCall(id="call_0", tool="notes", action="write", args={"text": "two"})
    turn = TurnLog().started().reply(TOUCH).dispatch(TOUCH, effect="write").result(TOUCH)
    turn.reply(second)
    # Neither answered nor dispatched: step 1's record of `call_0` says nothing about it.
    assert turn.next() == RunCall(second)
    assert turn.dispatch(second, effect="write").result(second).next() == CallLlm()


# -- limits --------------------------------------------------------------------------


def test_max_steps_ends_a_turn_still_calling_tools() -> None:
    turn = TurnLog().started(max_steps=2).reply(SHA).run(SHA).reply(SHA).run(SHA)
    step = turn.next()
    assert isinstance(step, Fail)
    assert step.kind == "max_steps"
    assert "max_steps=2" in step.message


def test_an_answer_on_the_last_allowed_step_still_finishes() -> None:
    turn = TurnLog().started(max_steps=2).reply(SHA).run(SHA).reply(content="done")
    assert turn.next() == Finish("done")


def test_three_steps_of_model_errors_in_a_row_end_the_turn() -> None:
    turn = TurnLog().started()
    turn.reply(malformed=(bad_json(),))
    turn.reply(SHA).run(SHA, invalid_args())
    assert turn.next() == CallLlm()
    turn.reply(SHA).run(SHA, unknown_tool())
    step = turn.next()
    assert isinstance(step, Fail)
    assert step.kind == "malformed_output"
    assert str(MAX_MODEL_ERROR_STREAK) in step.message


def test_a_malformed_only_reply_is_answered_by_asking_again_not_finished() -> None:
    turn = TurnLog().started().reply(content="let me try", malformed=(bad_json(),))
    assert turn.next() == CallLlm()


def test_a_good_step_resets_the_model_error_streak() -> None:
    turn = TurnLog().started()
    turn.reply(malformed=(bad_json(),)).reply(malformed=(bad_json(),))
    turn.reply(SHA).run(SHA)
    turn.reply(malformed=(bad_json(),)).reply(malformed=(bad_json(),))
    assert turn.next() == CallLlm()
    assert turn.state().error_streak == 1


def test_a_step_with_one_good_call_is_not_a_model_error_step() -> None:
    turn = TurnLog().started()
    turn.reply(malformed=(bad_json(),)).reply(malformed=(bad_json(),))
    turn.reply(SHA, malformed=(bad_json("call_9"),)).run(SHA)
    turn.reply(malformed=(bad_json(),))
    assert turn.next() == CallLlm()


def test_errors_the_world_caused_do_not_count_as_model_errors() -> None:
    denied = tool_error("permission_denied", "policy: no")
    turn = TurnLog().started()
    for _ in range(MAX_MODEL_ERROR_STREAK + 1):
        turn.reply(SHA).run(SHA, denied)
    assert turn.next() == CallLlm()


# -- quarantine ---------------------------------------------------------------------


def test_a_turn_that_crashed_the_agent_three_times_is_quarantined() -> None:
    turn = TurnLog().started().reply(SHA)
    for _ in range(QUARANTINE_AFTER_CRASHES):
        turn.crash()
    step = turn.next()
    assert isinstance(step, Fail)
    assert (step.kind, step.status) == ("quarantined", "quarantined")
    assert TURN in step.message


def test_two_crashes_are_not_yet_a_quarantine() -> None:
    turn = TurnLog().started().reply(SHA).crash().crash()
    assert turn.next() == RunCall(SHA)


def test_crashes_during_other_turns_do_not_count() -> None:
    turn = TurnLog().started()
    for _ in range(QUARANTINE_AFTER_CRASHES):
        turn.crash(turn="t_other")
    assert turn.next() == CallLlm()


# -- what the fold ignores -----------------------------------------------------------


def test_events_of_other_turns_do_not_change_the_state() -> None:
    state = TurnLog().started().state()
    other = TurnLog("t_other").started().reply(SHA).run(SHA).crash()
    for event in other.events:
        assert fold_turn(state, event) == state


def test_lifecycle_events_do_not_change_the_state() -> None:
    turn = TurnLog().started()
    before = turn.state()
    turn.add(topics.AGENT_STARTED, AgentLifecycle(reason="start"))
    assert turn.state() == before


def test_the_turn_remembers_the_seq_of_its_first_event() -> None:
    turn = TurnLog()
    turn.add(topics.AGENT_STARTED, AgentLifecycle(reason="start"), turn="t_other")
    turn.prompt()
    assert turn.state().first_seq == 2
