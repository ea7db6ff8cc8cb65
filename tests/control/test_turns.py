"""TurnInfo and history folded from envelopes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sysward.agents.ids import new_turn_id, turn_created_at
from sysward.control.turns import fold_turn_info, history_messages, read_turn, turn_origin
from sysward.events.log import EventLog
from sysward.events.record import NewEvent


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


async def test_a_turn_is_read_whole_among_other_agents_events(tmp_path: Path) -> None:
    log = await EventLog.open(tmp_path / "events")
    try:
        noise = [NewEvent(topic="agent.message", type="user", agent="db", source="t")] * 50
        await log.append_many(noise)
        turn = new_turn_id()
        mine = [
            NewEvent(topic=topic, type="x", agent="ops", turn=turn, source="t")
            for topic in ("agent.prompt", "agent.message", "agent.turn_completed")
        ]
        await log.append_many([mine[0], *noise[:5], mine[1]])
        await log.append_many([*noise[:5], mine[2]])
        records = await read_turn(log, turn)
        assert [record.seq for record in records] == [51, 57, 63]
        assert await turn_origin(log, turn) == (51, "ops")
        assert await turn_origin(log, new_turn_id()) is None
    finally:
        await log.close()


def test_a_turn_id_tells_when_it_was_made() -> None:
    before = datetime.now(UTC) - timedelta(milliseconds=1)
    made = turn_created_at(new_turn_id())
    assert made is not None and before <= made <= datetime.now(UTC)
    assert turn_created_at("t_1") is None
    assert turn_created_at("t_ZZZZZZZZZZZZZZZZZZZZZZZZZZ") is None
