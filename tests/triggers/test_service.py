"""The trigger service over a real runtime: LMDB log, supervisor, agent, a scripted LLM
server on 127.0.0.1. The source is the test's own (a Source that emits when told):
what is under test here is the firing, not a host interface (each source has its own
tests against the real one)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from sysward.agents.roles import default_roles
from sysward.config import LlmEndpoint, Settings
from sysward.daemon.runtime import Runtime, open_runtime
from sysward.daemon.toolset import daemon_tools
from sysward.events import topics
from sysward.events.log import EventLog
from sysward.events.query import EventQuery
from sysward.events.record import Event, NewEvent
from sysward.llm import OpenAIChatClient
from sysward.llm.scripted import (
    ScriptedLlmServer,
    native_call,
    text_completion,
    tool_calls_completion,
)
from sysward.triggers.ledger import TriggerRecord
from sysward.triggers.payloads import TriggerFired
from sysward.triggers.service import TriggerNotFound, TriggerService
from sysward.triggers.source import Emit, SourceEvent

from .daemon_config import settings_with

WAIT_S = 10.0
TRIGGER = """
[triggers.failed]
source = "unit"
agent = "ops"
unit = "*.service"
prompt = "Unit {{unit}} entered {{state}}. Diagnose it."
debounce_s = {debounce_s}
max_per_hour = {max_per_hour}
"""


class HandSource:
    """A source the test drives: `emit` hands an event to the service as a real one would."""

    def __init__(self) -> None:
        self.emit: Emit | None = None
        self.started = asyncio.Event()

    async def run(self, emit: Emit) -> None:
        self.emit = emit
        self.started.set()
        await asyncio.Event().wait()


class Rig:
    def __init__(self, state_dir: Path, server: ScriptedLlmServer) -> None:
        self.state_dir = state_dir
        self.server = server
        self.source = HandSource()
        self.runtime: Runtime | None = None

    def settings(
        self, *, debounce_s: float = 60, max_per_hour: int = 6, role: str = "default"
    ) -> Settings:
        trigger = TRIGGER.format(debounce_s=debounce_s, max_per_hour=max_per_hour)
        return settings_with(self.server.base_url, trigger, self.state_dir, role=role)

    async def open_without_waiting(self) -> Runtime:
        return await self.open(wait=False)

    async def open(self, *, wait: bool = True, **limits: Any) -> Runtime:
        settings = self.settings(**limits)
        self.source = HandSource()
        runtime = await open_runtime(
            settings,
            default_roles(),
            tools=daemon_tools,
            models=lambda s: {
                "default": OpenAIChatClient(LlmEndpoint(base_url=self.server.base_url, model="m"))
            },
        )
        # The same service the daemon builds, with the test's source in place of a unit watch.
        await runtime.triggers.close()
        runtime.triggers = TriggerService(
            runtime.log, runtime.supervisor, settings.triggers, self._source
        )
        await runtime.triggers.start(runtime.supervisor.start_outlines)
        self.runtime = runtime
        if wait:
            async with asyncio.timeout(WAIT_S):
                await self.source.started.wait()
        return runtime

    def _source(self, name: str, settings: object, record: TriggerRecord) -> HandSource:
        return self.source

    def emit(self, key: str | None, **fields: str) -> None:
        assert self.source.emit is not None
        self.source.emit(SourceEvent(key=key, fields=fields))

    async def close(self) -> None:
        if self.runtime is not None:
            await self.runtime.close()
            self.runtime = None

    async def events(self, topic: str = ">") -> list[Event]:
        assert self.runtime is not None
        page = await self.runtime.log.query(EventQuery(topic=topic, limit=10_000))
        return page.events

    async def wait_for(self, topic: str, count: int) -> list[Event]:
        async with asyncio.timeout(WAIT_S):
            while len(found := await self.events(topic)) < count:  # noqa: ASYNC110
                await asyncio.sleep(0.02)
        return found


@pytest.fixture
async def rig(tmp_path: Path) -> AsyncIterator[Rig]:
    async with ScriptedLlmServer() as server:
        made = Rig(tmp_path / "state", server)
        try:
            yield made
        finally:
            await made.close()


async def test_a_firing_is_durable_before_its_prompt_and_its_turn_names_the_trigger(
    rig: Rig,
) -> None:
    rig.server.enqueue(text_completion("nginx failed: its config is broken"))
    await rig.open()
    rig.emit("nginx.service/abc/failed", unit="nginx.service", state="failed")
    [completed] = await rig.wait_for(topics.AGENT_TURN_COMPLETED, 1)
    [fired] = await rig.events(topics.TRIGGER_FIRED)
    [prompt] = await rig.events(topics.AGENT_PROMPT)
    assert fired.seq < prompt.seq
    assert fired.agent == "ops" and fired.turn == prompt.turn == completed.turn
    payload = TriggerFired.model_validate(fired.data)
    assert payload.fields == {"unit": "nginx.service", "state": "failed"}
    assert payload.match["unit"] == "*.service"
    assert prompt.data["text"] == "Unit nginx.service entered failed. Diagnose it."
    assert (prompt.context.trigger, prompt.context.trigger_seq) == ("failed", fired.seq)
    # Every step of the turn carries the trigger, not just its prompt.
    [reply] = await rig.events(topics.AGENT_LLM_RESPONSE)
    assert (reply.context.trigger, reply.context.trigger_seq) == ("failed", fired.seq)
    assert completed.context.trigger == "failed"


async def test_a_storm_fires_once_and_is_reported_as_counts(rig: Rig) -> None:
    rig.server.enqueue(text_completion("looked"))
    await rig.open(debounce_s=3600)
    before = len(await rig.events())
    for attempt in range(5000):  # a flapping unit: a new invocation each time
        rig.emit(f"flappy.service/{attempt}/failed", unit="flappy.service", state="failed")
    await rig.wait_for(topics.AGENT_TURN_COMPLETED, 1)
    assert rig.runtime is not None
    await rig.runtime.triggers.flush_reports()
    fired = await rig.events(topics.TRIGGER_FIRED)
    suppressed = await rig.events(topics.TRIGGER_SUPPRESSED)
    assert len(fired) == 1
    # The first suppression at once, with its reason; the rest as one count.
    assert [event.data["reasons"] for event in suppressed] == [{"debounce": 1}, {"debounce": 4998}]
    assert "debounce_s=3600" in str(suppressed[0].data["message"])
    # The log took a handful of events for 5,000 source events, and the model one call.
    assert len(await rig.events()) - before < 20
    assert rig.server.call_count == 1


async def test_the_rate_limit_counts_firings_in_the_last_hour(rig: Rig) -> None:
    rig.server.enqueue(*[text_completion(f"answer {n}") for n in range(2)])
    await rig.open(debounce_s=0, max_per_hour=2)
    for attempt in range(5):
        rig.emit(f"u/{attempt}/failed", unit="u.service", state="failed")
    await rig.wait_for(topics.AGENT_TURN_COMPLETED, 2)
    assert len(await rig.events(topics.TRIGGER_FIRED)) == 2
    [first] = await rig.events(topics.TRIGGER_SUPPRESSED)
    assert first.data["reasons"] == {"rate_limit": 1}


async def test_debounce_and_seen_events_hold_across_a_restart(rig: Rig) -> None:
    rig.server.enqueue(text_completion("first"))
    await rig.open(debounce_s=3600)
    rig.emit("a.service/1/failed", unit="a.service", state="failed")
    await rig.wait_for(topics.AGENT_TURN_COMPLETED, 1)
    await rig.close()

    await rig.open(debounce_s=3600)
    rig.emit("a.service/1/failed", unit="a.service", state="failed")  # the same failure again
    rig.emit("a.service/2/failed", unit="a.service", state="failed")  # a new one, too soon
    suppressed = await rig.wait_for(topics.TRIGGER_SUPPRESSED, 1)
    assert suppressed[0].data["reasons"] == {"debounce": 1}
    assert suppressed[0].data["key"] == "a.service/2/failed"
    await rig.close()

    # Without the debounce, the failure that already fired still does not fire again.
    await rig.open(debounce_s=0)
    rig.emit("a.service/1/failed", unit="a.service", state="failed")
    await asyncio.sleep(0.3)
    assert len(await rig.events(topics.TRIGGER_FIRED)) == 1
    assert rig.server.call_count == 1


async def test_a_firing_whose_prompt_was_lost_to_a_crash_starts_its_turn_once(
    rig: Rig,
) -> None:
    """The log a SIGKILL leaves between trigger.fired and agent.prompt: the firing alone."""
    log = await EventLog.open(rig.state_dir / "events")
    fired = TriggerFired(
        trigger="failed",
        source="unit",
        key="b.service/1/failed",
        fields={"unit": "b.service", "state": "failed"},
        match={"unit": "*.service"},
        prompt="Unit b.service entered failed. Diagnose it.",
    )
    committed = await log.append(
        NewEvent(
            topic=topics.TRIGGER_FIRED,
            type="unit",
            agent="ops",
            turn="t_interrupted",
            source="test",
            data=fired.to_data(),
        )
    )
    await log.close()
    rig.server.enqueue(text_completion("recovered"))
    await rig.open()
    [completed] = await rig.wait_for(topics.AGENT_TURN_COMPLETED, 1)
    assert completed.turn == "t_interrupted"
    [prompt] = await rig.events(topics.AGENT_PROMPT)
    assert prompt.data["text"] == fired.prompt
    assert prompt.context.trigger_seq == committed.seq
    # The source event arriving again after the restart does not fire a second time.
    rig.emit("b.service/1/failed", unit="b.service", state="failed")
    await rig.close()

    await rig.open()  # and a second restart finds the turn and starts nothing
    await asyncio.sleep(0.3)
    assert len(await rig.events(topics.AGENT_PROMPT)) == 1
    assert len(await rig.events(topics.TRIGGER_FIRED)) == 1
    assert rig.server.call_count == 1


async def test_disabling_stops_the_source_and_holds_across_a_restart(rig: Rig) -> None:
    runtime = await rig.open()
    info = await runtime.triggers.set_enabled("failed", False, uid=0)
    assert (info.enabled, info.state) == (False, "disabled")
    await rig.close()

    runtime = await rig.open_without_waiting()
    assert runtime.triggers.info("failed").enabled is False
    assert not rig.source.started.is_set()
    info = await runtime.triggers.set_enabled("failed", True, uid=0)
    assert info.enabled is True
    async with asyncio.timeout(WAIT_S):
        await rig.source.started.wait()
    [toggled, again] = await rig.events(topics.TRIGGER_TOGGLED)
    assert (toggled.data["enabled"], again.data["enabled"]) == (False, True)
    assert toggled.data["uid"] == 0


async def test_a_firing_for_a_stopped_agent_is_suppressed_with_the_reason(rig: Rig) -> None:
    runtime = await rig.open()
    await runtime.supervisor.stop("ops")
    rig.emit("c/1/failed", unit="c.service", state="failed")
    [suppressed] = await rig.wait_for(topics.TRIGGER_SUPPRESSED, 1)
    assert suppressed.data["reasons"] == {"agent_unavailable": 1}
    assert "not running" in str(suppressed.data["message"])
    assert await rig.events(topics.TRIGGER_FIRED) == []


async def test_test_renders_the_prompt_and_fires_only_when_asked(rig: Rig) -> None:
    rig.server.enqueue(text_completion("tested"))
    runtime = await rig.open()
    dry = await runtime.triggers.test("failed", {"unit": "x.service"}, fire=False)
    assert dry.prompt == "Unit x.service entered (none). Diagnose it."
    assert dry.fired_seq is None and await rig.events(topics.TRIGGER_FIRED) == []
    real = await runtime.triggers.test("failed", {"unit": "x.service"}, fire=True)
    [completed] = await rig.wait_for(topics.AGENT_TURN_COMPLETED, 1)
    assert completed.turn == real.turn
    [fired] = await rig.events(topics.TRIGGER_FIRED)
    assert fired.seq == real.fired_seq and fired.data["test"] is True
    # A test counts against no limit: a real event right after still fires.
    assert runtime.triggers.info("failed").fired_last_hour == 0


async def test_a_reload_restarts_a_changed_trigger_and_drops_a_removed_one(rig: Rig) -> None:
    runtime = await rig.open()
    first = rig.source
    rig.source = HandSource()
    changed = rig.settings(debounce_s=5).triggers
    await runtime.triggers.reload(changed)
    async with asyncio.timeout(WAIT_S):
        await rig.source.started.wait()
    assert rig.source is not first and runtime.triggers.info("failed").debounce_s == 5
    await runtime.triggers.reload({})
    assert runtime.triggers.infos() == []
    with pytest.raises(TriggerNotFound, match="no trigger named 'failed'"):
        runtime.triggers.info("failed")


async def test_a_triggered_write_parks_for_an_operator_like_any_turn(
    rig: Rig, tmp_path: Path
) -> None:
    """No trigger approves anything: with no rule allowing it, a write asks, and waits."""
    target = tmp_path / "written-by-a-trigger"
    rig.server.enqueue(
        tool_calls_completion(
            native_call("file_write", {"path": str(target), "content": "x"}, call_id="w1")
        )
    )
    runtime = await rig.open(role="sysadmin")
    rig.emit("d/1/failed", unit="d.service", state="failed")
    [requested] = await rig.wait_for(topics.AGENT_APPROVAL_REQUESTED, 1)
    [fired] = await rig.events(topics.TRIGGER_FIRED)
    assert requested.turn == fired.turn
    assert requested.context.trigger == "failed"
    [pending] = runtime.supervisor.approvals.pending()
    assert pending.turn == fired.turn
    await asyncio.sleep(0.2)
    assert not target.exists()
    assert await rig.events(topics.AGENT_TURN_COMPLETED) == []
