"""Everything a running daemon holds, built from settings and torn down in order."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from pydantic import JsonValue

from sysward.agents.agent import AgentConfig, AgentDeps
from sysward.agents.payloads import AgentCreated
from sysward.agents.roles import Role
from sysward.agents.supervisor import Supervisor
from sysward.config import AgentSettings, Settings
from sysward.daemon.checkpoints import Checkpointer
from sysward.daemon.logs import redact_log_records
from sysward.errors import ConfigError
from sysward.events import topics
from sysward.events.bus import EventBus
from sysward.events.log import EventLog
from sysward.events.record import NewEvent
from sysward.events.signing import LogSigningKey
from sysward.llm import ChatModel, OpenAIChatClient
from sysward.policy.redaction import Redactor
from sysward.tools import Tool, ToolRegistry
from sysward.tools.dbus.connection import BusAddresses
from sysward.triggers.service import TriggerService
from sysward.triggers.sources import source_for

SOURCE = "sysward.daemon"

ModelFactory = Callable[[Settings], dict[str, ChatModel]]
ToolFactory = Callable[[Settings], list[Tool]]


@dataclass(slots=True)
class Runtime:
    """The daemon's state: one log, one bus, one registry, one supervisor."""

    settings: Settings
    roles: dict[str, Role]
    log: EventLog
    bus: EventBus
    registry: ToolRegistry
    models: dict[str, ChatModel]
    supervisor: Supervisor
    checkpoints: Checkpointer
    triggers: TriggerService
    started_monotonic: float = field(default_factory=time.monotonic)
    is_stopping: bool = False

    def agent_config(self, name: str, spec: AgentSettings | AgentCreated) -> AgentConfig:
        """Resolve an agent's role and limits; unknown roles or endpoints are ConfigErrors."""
        role = self.roles.get(spec.role)
        if role is None:
            known = ", ".join(sorted(self.roles)) or "none"
            raise ConfigError(f"agent {name!r}: unknown role {spec.role!r} (roles: {known})")
        if spec.llm not in self.models:
            known = ", ".join(sorted(self.models)) or "none"
            raise ConfigError(f"agent {name!r}: unknown llm {spec.llm!r} (endpoints: {known})")
        max_steps = spec.max_steps or role.max_steps or 25
        return AgentConfig(
            name=name, role=role, llm=spec.llm, max_steps=max_steps, read_only=spec.read_only
        )

    def deps_for(self, config: AgentConfig) -> AgentDeps:
        policy = self.settings.policy
        return AgentDeps(
            log=self.log,
            model=self.models[config.llm],
            registry=self.registry,
            global_rules=tuple(policy.rules),
            global_read_only=policy.read_only,
            approval_timeout_s=policy.approval_timeout_s,
        )

    async def emit(self, topic: str, type_: str, data: dict[str, JsonValue]) -> None:
        draft = NewEvent(topic=topic, type=type_, source=SOURCE, data=data)
        await self.log.append(draft)

    async def close(self) -> None:
        await self.triggers.close()
        await self.supervisor.shutdown()
        await self.registry.aclose()
        for model in self.models.values():
            if isinstance(model, OpenAIChatClient):
                await model.aclose()
        # Last append of the run: signs everything above, daemon.stopping included.
        await self.checkpoints.stop()
        self.bus.close()
        await self.log.close()


def real_models(settings: Settings) -> dict[str, ChatModel]:
    # Every endpoint's body is checked for every known secret, not only its own key.
    guard = Redactor.from_settings(settings, os.environ).exit_guard()
    return {
        name: OpenAIChatClient(
            endpoint,
            guard=partial(guard.check, where=f"the request body for llm.{name}") if guard else None,
        )
        for name, endpoint in settings.llm.items()
    }


async def open_runtime(
    settings: Settings,
    roles: dict[str, Role],
    *,
    tools: ToolFactory,
    models: ModelFactory = real_models,
) -> Runtime:
    """Open the log, build tools and models, start every agent (config and run-time)."""
    # Before the log opens: an unsafe or unreadable signing key refuses the start.
    key = await asyncio.to_thread(LogSigningKey.load_or_create, settings.daemon.keys_dir)
    # Secrets are replaced before anything is stored, so neither the log nor a
    # model (its conversation is rebuilt from the log) ever sees them.
    redactor = await asyncio.to_thread(Redactor.from_settings, settings, os.environ)
    # The daemon's own log lines (journal or stderr) quote errors that can hold secrets too.
    redact_log_records(redactor.redact_text)
    exit_guard = redactor.exit_guard()
    log = await EventLog.open(
        settings.daemon.events_dir,
        scrub=redactor.redact_data,
        guard=partial(exit_guard.check, where="the event log") if exit_guard else None,
    )
    bus = EventBus(log)
    registry = ToolRegistry(tools(settings))
    supervisor = Supervisor(lambda config: runtime.deps_for(config), log)
    addresses = BusAddresses.from_environment()
    runtime = Runtime(
        settings=settings,
        roles=roles,
        log=log,
        bus=bus,
        registry=registry,
        models=models(settings),
        supervisor=supervisor,
        checkpoints=Checkpointer(log, key, lambda: runtime.settings.daemon.checkpoint_interval_s),
        triggers=TriggerService(
            log,
            supervisor,
            settings.triggers,
            lambda name, spec, record: source_for(spec, record, addresses),
        ),
    )
    configured = [runtime.agent_config(name, spec) for name, spec in settings.agents.items()]
    await runtime.emit(topics.DAEMON_STARTED, "started", {"agents": [c.name for c in configured]})
    await runtime.checkpoints.start()
    await runtime.supervisor.start(configured, runtime.agent_config)
    # After the agents: a firing interrupted by a crash is submitted to a running agent.
    await runtime.triggers.start(runtime.supervisor.start_outlines)
    return runtime


def state_dir_ready(path: Path) -> None:
    """Create the state directory (0700) so the log and keys are not world-readable."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
