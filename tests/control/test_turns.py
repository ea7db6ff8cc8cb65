"""TurnInfo and history folded from envelopes."""

from __future__ import annotations

from typing import Any

from sysward.control.turns import fold_turn_info, history_messages


def envelope(seq: int, topic: str, **data: Any) -> dict[str, Any]:
    return {"seq": seq, "topic": topic, "agent": "ops", "turn": "t_1", "data": data}


def test_no_events_is_no_turn() -> None:
    assert fold_turn_info("t_1", [], is_current=False) is None


def test_a_prompt_alone_is_pending_unless_the_agent_is_on_it() -> None:
    events = [envelope(1, "agent.prompt", text="hi", max_steps=5)]
    pending = fold_turn_info("t_1", events, is_current=False)
    assert pending is not None
    assert pending.status == "pending"
    assert pending.prompt == "hi"
    running = fold_turn_info("t_1", events, is_current=True)
    assert running is not None
    assert running.status == "running"


def test_llm_responses_make_it_running_and_count_steps() -> None:
    events = [
        envelope(1, "agent.prompt", text="hi"),
        envelope(2, "agent.llm_response", step=1),
        envelope(3, "agent.llm_response", step=2),
    ]
    info = fold_turn_info("t_1", events, is_current=False)
    assert info is not None
    assert (info.status, info.steps) == ("running", 2)


def test_completion_gives_status_answer_and_error() -> None:
    events = [
        envelope(1, "agent.prompt", text="hi"),
        envelope(2, "agent.turn_completed", status="failed", steps=0, error="llm down"),
    ]
    info = fold_turn_info("t_1", events, is_current=True)
    assert info is not None
    assert (info.status, info.error, info.answer) == ("failed", "llm down", None)
    assert info.events == events


def test_history_is_the_agent_messages_in_order() -> None:
    events = [
        envelope(1, "agent.message", message={"role": "user", "content": "hi"}),
        envelope(2, "agent.llm_response", step=1),
        envelope(
            3,
            "agent.message",
            message={
                "role": "assistant",
                "content": None,
                "tool_calls": [{"id": "c1", "tool": "crypto", "action": "sha256", "args": {}}],
            },
        ),
        envelope(
            4, "agent.message", message={"role": "tool", "content": "{}", "tool_call_id": "c1"}
        ),
    ]
    messages = history_messages(events)
    assert [(m.seq, m.role) for m in messages] == [(1, "user"), (3, "assistant"), (4, "tool")]
    assert messages[1].tool_calls[0]["id"] == "c1"
    assert messages[2].tool_call_id == "c1"
