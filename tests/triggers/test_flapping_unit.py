"""A flapping unit on a real isolated systemd --user, watched by the real unit source in a
real runtime (LMDB log, agent, scripted LLM on 127.0.0.1): one firing, the rest counted;
and after a restart the startup scan sees the same failure and does not fire it again."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from sysward.agents.roles import default_roles
from sysward.daemon.runtime import Runtime, open_runtime
from sysward.daemon.toolset import daemon_tools
from sysward.events import topics
from sysward.events.query import EventQuery
from sysward.events.record import Event
from sysward.llm.scripted import ScriptedLlmServer, text_completion
from sysward.tools.dbus.connection import BusConnections
from sysward.tools.systemd.manager import SystemdManager
from sysward.triggers.service import TriggerService
from sysward.triggers.sources import source_for
from tools.systemd_calls import wait_until
from tools.user_systemd import UserManager

from .daemon_config import settings_with
from .test_unit_source import addresses_of, fail_unit

FLAPS = 6
TRIGGER = """
[triggers.failed]
source = "unit"
bus = "user"
agent = "ops"
unit = "failing.service"
prompt = "{{unit}} entered {{state}} ({{result}}). Diagnose it."
debounce_s = 3600
"""


class Host:
    def __init__(self, manager: UserManager, state: Path, base_url: str) -> None:
        self.manager, self.state, self.base_url = manager, state, base_url
        self.runtime: Runtime | None = None

    async def open(self) -> Runtime:
        settings = settings_with(self.base_url, TRIGGER.format(), self.state)
        runtime = await open_runtime(settings, default_roles(), tools=daemon_tools)
        # The daemon's service, on the isolated manager's bus instead of the host's.
        await runtime.triggers.close()
        addresses = addresses_of(self.manager)
        runtime.triggers = TriggerService(
            runtime.log,
            runtime.supervisor,
            settings.triggers,
            lambda name, spec, record: source_for(spec, record, addresses),
        )
        await runtime.triggers.start(runtime.supervisor.start_outlines)
        self.runtime = runtime

        async def watching() -> bool:
            return runtime.triggers.info("failed").state == "watching"

        await wait_until(watching, "the unit trigger watching")
        await asyncio.sleep(0.3)  # subscribed and scanned: the source gives no signal of it
        return runtime

    async def events(self, topic: str) -> list[Event]:
        assert self.runtime is not None
        return (await self.runtime.log.query(EventQuery(topic=topic, limit=10_000))).events

    async def close(self) -> None:
        if self.runtime is not None:
            await self.runtime.close()
            self.runtime = None


@pytest.fixture
async def host(user_manager: UserManager, tmp_path: Path) -> AsyncIterator[Host]:
    async with ScriptedLlmServer([text_completion("failing.service runs /bin/false")]) as llm:
        made = Host(user_manager, tmp_path / "state", llm.base_url)
        try:
            yield made
        finally:
            await made.close()
            llm.verify()  # one LLM call for the whole flapping
            assert llm.call_count == 1


async def test_a_flapping_unit_fires_once_and_counts_the_rest(
    host: Host, user_manager: UserManager
) -> None:
    runtime = await host.open()
    connections = BusConnections(addresses_of(user_manager))
    try:
        systemd = SystemdManager(connections)
        for _ in range(FLAPS):
            await fail_unit(systemd)
    finally:
        await connections.aclose()

    async def completed() -> bool:
        return bool(await host.events(topics.AGENT_TURN_COMPLETED))

    await wait_until(completed, "the triggered turn")

    await asyncio.sleep(0.5)  # the last failures' signals are delivered by now
    await runtime.triggers.flush_reports()
    suppressed = await host.events(topics.TRIGGER_SUPPRESSED)
    counted = sum(sum(event.data["reasons"].values()) for event in suppressed)  # type: ignore[union-attr, misc]
    # systemd may fold two quick state changes into one signal, so a failure can go
    # unseen; none is ever fired or counted twice.
    assert 1 <= counted <= FLAPS - 1
    [fired] = await host.events(topics.TRIGGER_FIRED)
    [prompt] = await host.events(topics.AGENT_PROMPT)
    assert fired.data["fields"]["unit"] == "failing.service"  # type: ignore[index]
    assert prompt.data["text"] == "failing.service entered failed (exit-code). Diagnose it."
    assert prompt.context.trigger == "failed" and prompt.context.trigger_seq == fired.seq
    assert len(suppressed) <= 3  # reported, not one event per failure

    # A restart: the unit is still failed from its last invocation, which did not fire
    # (it was debounced) — and the one that fired is never fired again.
    await host.close()
    await host.open()
    await asyncio.sleep(0.5)
    assert len(await host.events(topics.TRIGGER_FIRED)) == 1
