"""A record of an agent whose data does not parse as its payload ("poison") is skipped by
the agent's fold and reported once as `agent.error`, instead of crash-looping the agent."""

from __future__ import annotations

from pydantic import JsonValue

from sysward.agents.payloads import AgentFailed, parse_data
from sysward.events import topics
from sysward.events.log import EventLog
from sysward.events.query import EventQuery
from sysward.events.record import Event, NewEvent
from sysward.llm.scripted import ScriptedLlmServer, text_completion

from .rig import AGENT, AgentRig


async def append_poison(
    log: EventLog, topic: str, data: dict[str, JsonValue], turn: str | None = None
) -> Event:
    draft = NewEvent(topic=topic, type="poison", agent=AGENT, turn=turn, source="test", data=data)
    return await log.append(draft)


async def agent_errors(log: EventLog) -> list[tuple[Event, AgentFailed]]:
    page = await log.query(EventQuery(topic=topics.AGENT_ERROR, agent=AGENT))
    return [(event, parse_data(AgentFailed, event.data)) for event in page.events]


async def test_a_poison_message_is_skipped_and_reported_once(
    rig: AgentRig, llm_server: ScriptedLlmServer
) -> None:
    log = await rig.open_log()
    poison = await append_poison(log, topics.AGENT_MESSAGE, {"message": {"role": "nobody"}})
    llm_server.enqueue(text_completion("still here"), text_completion("and after a restart"))
    await rig.start()
    assert (await rig.ask("are you alive?")).completed.answer == "still here"

    ((event, error),) = await agent_errors(rig.log)
    assert event.type == "unreadable_event"
    assert error.kind == "unreadable_event"
    assert error.details["unreadable_seq"] == poison.seq
    assert error.details["topic"] == topics.AGENT_MESSAGE
    assert f"event {poison.seq} (agent.message)" in error.message
    # The conversation the model saw does not contain the unreadable message.
    assert [m["role"] for m in rig.request_messages(0)] == ["system", "user"]

    await rig.restart()
    assert (await rig.ask("and now?")).completed.answer == "and after a restart"
    assert len(await agent_errors(rig.log)) == 1  # the report is in the log: not repeated


async def test_a_turn_whose_prompt_is_unreadable_never_runs(
    rig: AgentRig, llm_server: ScriptedLlmServer
) -> None:
    log = await rig.open_log()
    poison = await append_poison(log, topics.AGENT_PROMPT, {"text": 5}, turn="t_poison")
    llm_server.enqueue(text_completion("the next turn runs"))
    await rig.start()
    record = await rig.ask("next")
    assert record.completed.answer == "the next turn runs"

    ((event, error),) = await agent_errors(rig.log)
    assert event.turn == "t_poison"
    assert error.details["unreadable_seq"] == poison.seq
    assert "text" in error.message
    completed = await log.query(EventQuery(topic=topics.AGENT_TURN_COMPLETED, turn="t_poison"))
    assert completed.events == []
    assert len(llm_server.requests) == 1
