"""The supervisor: crashes, restarts with backoff, quarantine, crash loops, run-time agents."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta

import pytest

from sysward.agents.agent import AgentState
from sysward.agents.payloads import AgentCreated, AgentFailed
from sysward.agents.supervisor import AgentConflict, AgentNotFound, RestartPolicy
from sysward.events import topics
from sysward.events.query import EventQuery
from sysward.events.record import Event
from sysward.llm import ChatModel
from sysward.llm.scripted import (
    ScriptedLlmServer,
    native_call,
    text_completion,
    tool_calls_completion,
)

from .rig import AGENT, WAIT_S, AgentRig, AgentSetup, wait_for_turn
from .sample_tools import FlakyModel


def flaky(failures: int) -> Callable[[ChatModel], ChatModel]:
    return lambda inner: FlakyModel(inner, failures)


async def until(condition: Callable[[], bool], *, timeout_s: float = 2.0) -> None:
    """Wait, bounded, for in-memory state that no event announces (an agent's state)."""
    async with asyncio.timeout(timeout_s):
        # Nothing signals an agent's state change, so yield to the loop until it shows.
        while not condition():  # noqa: ASYNC110
            await asyncio.sleep(0)


async def events(rig: AgentRig, topic: str, agent: str = AGENT) -> list[Event]:
    return (await rig.log.query(EventQuery(topic=topic, agent=agent))).events


def kinds(errors: list[AgentFailed]) -> list[str]:
    return [error.kind for error in errors]


# -- crashes and restarts --------------------------------------------------------------


async def test_a_model_that_raises_crashes_the_agent_which_is_restarted_from_the_log(
    rig: AgentRig, llm_server: ScriptedLlmServer
) -> None:
    llm_server.enqueue(text_completion("recovered"))
    supervisor = await rig.start(AgentSetup(wrap_model=flaky(1)))
    record = await rig.ask("hello")
    (crash,) = record.errors
    assert crash.kind == "crash"
    assert crash.message == "RuntimeError: model bug #1"
    assert record.completed.answer == "recovered"
    assert supervisor.slot_info(AGENT)[3] == 1
    assert len(await events(rig, topics.AGENT_STARTED)) == 2


async def test_restarts_back_off_exponentially(
    rig: AgentRig, llm_server: ScriptedLlmServer
) -> None:
    llm_server.enqueue(text_completion("recovered"))
    restarts = RestartPolicy(initial_backoff_s=0.05, max_backoff_s=1.0, max_crashes=10)
    await rig.start(AgentSetup(wrap_model=flaky(2), restarts=restarts))
    await rig.ask("hello")
    crashes = await events(rig, topics.AGENT_ERROR)
    starts = (await events(rig, topics.AGENT_STARTED))[1:]
    waits = [start.ts - crash.ts for crash, start in zip(crashes, starts, strict=True)]
    # Sleeps may end a hair early by the clock's resolution; the doubling is what matters.
    assert waits[0] >= timedelta(seconds=0.045)
    assert waits[1] >= timedelta(seconds=0.095)


async def test_a_restarted_agent_reports_its_own_state_again(
    rig: AgentRig, llm_server: ScriptedLlmServer
) -> None:
    llm_server.enqueue(text_completion("recovered"))
    supervisor = await rig.start(AgentSetup(wrap_model=flaky(1)))
    await rig.ask("hello")
    await until(lambda: supervisor.state_of(AGENT) is AgentState.IDLE)


async def test_an_agent_waiting_to_restart_is_in_backoff(
    rig: AgentRig, llm_server: ScriptedLlmServer
) -> None:
    slow = RestartPolicy(initial_backoff_s=60, max_backoff_s=60)
    supervisor = await rig.start(AgentSetup(wrap_model=flaky(1), restarts=slow))
    async with rig.bus.subscribe(topics.AGENT_ERROR, agent=AGENT) as errors:
        await supervisor.prompt(AGENT, "hello")
        await errors.next(WAIT_S)
    await until(lambda: supervisor.state_of(AGENT) is AgentState.BACKOFF)


async def test_a_turn_that_crashes_the_agent_three_times_is_quarantined(
    rig: AgentRig, llm_server: ScriptedLlmServer
) -> None:
    llm_server.enqueue(text_completion("fresh answer"))
    supervisor = await rig.start(AgentSetup(wrap_model=flaky(3)))
    poisoned = await rig.ask("poison")
    assert kinds(poisoned.errors) == ["crash", "crash", "crash", "quarantined"]
    assert poisoned.completed.status == "quarantined"
    assert poisoned.turn in (poisoned.completed.error or "")
    # The agent is not stuck on it: the next prompt is served.
    fresh = await rig.ask("something else")
    assert fresh.completed.answer == "fresh answer"
    assert supervisor.slot_info(AGENT)[3] == 3


async def test_too_many_crashes_in_the_window_mark_the_agent_crashed(
    rig: AgentRig, llm_server: ScriptedLlmServer
) -> None:
    restarts = RestartPolicy(initial_backoff_s=0.001, max_crashes=2, window_s=60)
    supervisor = await rig.start(AgentSetup(wrap_model=flaky(2), restarts=restarts))
    async with rig.bus.subscribe(topics.AGENT_ERROR, agent=AGENT) as errors:
        turn = await supervisor.prompt(AGENT, "hello")
        seen = [AgentFailed.model_validate((await errors.next(WAIT_S)).data) for _ in range(3)]
    assert kinds(seen) == ["crash", "crash", "crash_loop"]
    assert "2 crashes within 60s" in seen[2].message
    await until(lambda: supervisor.state_of(AGENT) is AgentState.CRASHED)
    with pytest.raises(AgentConflict, match="crashed"):
        await supervisor.prompt(AGENT, "are you there?")
    # An operator starts it again: the turn resumes from the log and completes.
    llm_server.enqueue(text_completion("back"))
    async with rig.bus.subscribe(topics.AGENT_TURN_COMPLETED, agent=AGENT) as completed:
        await supervisor.start_agent(AGENT)
        await wait_for_turn(completed, turn)
    record = await rig.turn(turn)
    assert record.completed.answer == "back"


# -- stop and start ------------------------------------------------------------------------


async def test_a_stopped_agent_refuses_prompts_until_started_again(
    rig: AgentRig, llm_server: ScriptedLlmServer
) -> None:
    supervisor = await rig.start()
    await supervisor.stop(AGENT)
    assert supervisor.state_of(AGENT) is AgentState.STOPPED
    assert len(await events(rig, topics.AGENT_STOPPED)) == 1
    with pytest.raises(AgentConflict, match="stopped; start it first"):
        await supervisor.prompt(AGENT, "hello")
    llm_server.enqueue(text_completion("hello again"))
    await supervisor.start_agent(AGENT)
    record = await rig.ask("hello")
    assert record.completed.answer == "hello again"


async def test_a_write_cut_short_by_stop_is_reported_interrupted_after_start_not_rerun(
    rig: AgentRig, llm_server: ScriptedLlmServer
) -> None:
    llm_server.enqueue(
        tool_calls_completion(native_call("hold_change", {}, call_id="c1")),
        text_completion("I will check what happened"),
    )
    supervisor = await rig.start()
    async with rig.bus.subscribe(topics.AGENT_TOOL_DISPATCH, agent=AGENT) as dispatches:
        turn = await supervisor.prompt(AGENT, "change it")
        await dispatches.next(WAIT_S)
    await until(lambda: rig.hold.runs == 1)
    await supervisor.stop(AGENT)
    async with rig.bus.subscribe(topics.AGENT_TURN_COMPLETED, agent=AGENT) as completed:
        await supervisor.start_agent(AGENT)
        await wait_for_turn(completed, turn)
    record = await rig.turn(turn)
    assert rig.hold.runs == 1
    (result,) = record.results("hold")
    assert result.interrupted
    assert record.completed.answer == "I will check what happened"
    assert llm_server.call_count == 2  # the first reply was not requested again


async def test_starting_a_running_agent_is_refused(rig: AgentRig) -> None:
    supervisor = await rig.start()
    with pytest.raises(AgentConflict, match="already running"):
        await supervisor.start_agent(AGENT)


async def test_a_prompt_to_an_unknown_agent_names_the_known_ones(rig: AgentRig) -> None:
    supervisor = await rig.start()
    with pytest.raises(AgentNotFound, match=r"no agent named 'nobody' \(agents: ops\)"):
        await supervisor.prompt("nobody", "hello")


# -- run-time agents ---------------------------------------------------------------------


async def create(rig: AgentRig, name: str, created: AgentCreated | None = None) -> None:
    created = created or AgentCreated(role="tester", llm="default")
    await rig.supervisor.create(name, created, rig.runtime_config(name, created))


async def test_a_created_agent_is_recorded_and_serves_prompts(
    rig: AgentRig, llm_server: ScriptedLlmServer
) -> None:
    supervisor = await rig.start()
    await create(rig, "db")
    (created,) = await events(rig, topics.AGENT_CREATED, agent="db")
    assert AgentCreated.model_validate(created.data).role == "tester"
    assert supervisor.names() == ["db", AGENT]
    llm_server.enqueue(text_completion("db is fine"))
    record = await rig.ask("check the db", agent="db")
    assert record.completed.answer == "db is fine"
    assert {event.agent for event in record.events} == {"db"}


async def test_a_created_agent_is_restored_by_a_new_supervisor(rig: AgentRig) -> None:
    await rig.start()
    await create(rig, "db", AgentCreated(role="tester", llm="default", max_steps=7, read_only=True))
    supervisor = await rig.restart()
    assert supervisor.names() == ["db", AGENT]
    config, origin, _, _ = supervisor.slot_info("db")
    assert (origin, config.max_steps, config.read_only) == ("runtime", 7, True)
    assert supervisor.state_of("db") is not AgentState.STOPPED


async def test_a_deleted_agent_is_not_restored(rig: AgentRig) -> None:
    supervisor = await rig.start()
    await create(rig, "db")
    await supervisor.delete("db")
    assert len(await events(rig, topics.AGENT_DELETED, agent="db")) == 1
    assert supervisor.names() == [AGENT]
    supervisor = await rig.restart()
    assert supervisor.names() == [AGENT]
    with pytest.raises(AgentNotFound):
        await supervisor.prompt("db", "hello")


async def test_an_agent_created_again_after_deletion_is_restored(rig: AgentRig) -> None:
    supervisor = await rig.start()
    await create(rig, "db")
    await supervisor.delete("db")
    await create(rig, "db")
    supervisor = await rig.restart()
    assert supervisor.names() == ["db", AGENT]


async def test_a_config_agent_cannot_be_deleted(rig: AgentRig) -> None:
    supervisor = await rig.start()
    with pytest.raises(AgentConflict, match="declared in the config file"):
        await supervisor.delete(AGENT)
    assert supervisor.names() == [AGENT]
    assert supervisor.state_of(AGENT) is not AgentState.STOPPED


async def test_creating_an_agent_that_exists_is_refused(rig: AgentRig) -> None:
    await rig.start()
    with pytest.raises(AgentConflict, match="already exists"):
        await create(rig, AGENT)
    assert await events(rig, topics.AGENT_CREATED) == []
