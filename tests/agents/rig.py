"""One agent over real components: LMDB log, bus, scripted LLM server on 127.0.0.1, tools.

A test scripts the server, starts the rig with an `AgentSetup`, and asks; `ask`
returns once the turn's `agent.turn_completed` is durable, with the turn's events.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from sysward.agents.agent import AgentConfig, AgentDeps
from sysward.agents.history import ContextLimits
from sysward.agents.payloads import (
    AgentCreated,
    AgentFailed,
    LlmResponded,
    Payload,
    ToolDispatched,
    ToolFinished,
    TurnCompleted,
    parse_data,
)
from sysward.agents.roles import Role
from sysward.agents.supervisor import RestartPolicy, Supervisor
from sysward.config import LlmEndpoint, PolicyRule
from sysward.events import topics
from sysward.events.bus import EventBus, Subscription
from sysward.events.log import EventLog
from sysward.events.query import EventQuery
from sysward.events.record import Event
from sysward.llm import ChatModel, OpenAIChatClient
from sysward.llm.scripted import ScriptedLlmServer
from sysward.tools import ToolRegistry
from sysward.tools.crypto import CryptoTool

from .sample_tools import BoomTool, HoldTool, NotesTool, ProbeTool

AGENT = "ops"
WAIT_S = 10.0
TEST_ROLE = Role(
    name="tester",
    description="agent tests",
    prompt="You are under test.",
    tools=["crypto", "notes", "probe", "boom", "hold"],
)
ALLOW_ALL = (PolicyRule(decision="allow"),)
QUICK_RESTARTS = RestartPolicy(initial_backoff_s=0.001, max_backoff_s=0.01, max_crashes=10)

P = TypeVar("P", bound=Payload)


@dataclass(frozen=True)
class AgentSetup:
    """How the rig's agent is configured; every field has a test-friendly default."""

    role: Role = TEST_ROLE
    max_steps: int = 10
    read_only: bool = False
    rules: tuple[PolicyRule, ...] = ALLOW_ALL
    restarts: RestartPolicy = QUICK_RESTARTS
    endpoint: dict[str, Any] = field(default_factory=dict)
    wrap_model: Callable[[ChatModel], ChatModel] | None = None
    limits: ContextLimits = field(default_factory=ContextLimits)
    approval_timeout_s: float = 3600.0

    def agent_config(self, name: str = AGENT) -> AgentConfig:
        return AgentConfig(
            name=name,
            role=self.role,
            llm="default",
            max_steps=self.max_steps,
            read_only=self.read_only,
            limits=self.limits,
        )


@dataclass(frozen=True)
class TurnRecord:
    """A finished turn's events, in order."""

    turn: str
    events: list[Event]

    def of(self, topic: str) -> list[Event]:
        return [event for event in self.events if event.topic == topic]

    def payloads(self, topic: str, model: type[P]) -> list[P]:
        return [parse_data(model, event.data) for event in self.of(topic)]

    @property
    def completed(self) -> TurnCompleted:
        (completed,) = self.payloads(topics.AGENT_TURN_COMPLETED, TurnCompleted)
        return completed

    @property
    def errors(self) -> list[AgentFailed]:
        return self.payloads(topics.AGENT_ERROR, AgentFailed)

    @property
    def dispatches(self) -> list[ToolDispatched]:
        return self.payloads(topics.AGENT_TOOL_DISPATCH, ToolDispatched)

    @property
    def replies(self) -> list[LlmResponded]:
        return self.payloads(topics.AGENT_LLM_RESPONSE, LlmResponded)

    def results(self, tool: str) -> list[ToolFinished]:
        return self.payloads(topics.tool_topic(tool), ToolFinished)


class AgentRig:
    """Starts and stops the log, bus, LLM client and supervisor; survives a `restart()`."""

    def __init__(self, state_dir: Path, server: ScriptedLlmServer) -> None:
        self.state_dir = state_dir
        self.server = server
        self.notes = NotesTool()
        self.probe = ProbeTool()
        self.hold = HoldTool()
        self.setup = AgentSetup()
        self._log: EventLog | None = None
        self._bus: EventBus | None = None
        self._supervisor: Supervisor | None = None
        self._client: OpenAIChatClient | None = None
        self.model: ChatModel | None = None

    @property
    def log(self) -> EventLog:
        assert self._log is not None, "start the rig (or open_log) first"
        return self._log

    @property
    def bus(self) -> EventBus:
        assert self._bus is not None, "start the rig (or open_log) first"
        return self._bus

    @property
    def supervisor(self) -> Supervisor:
        assert self._supervisor is not None, "start the rig first"
        return self._supervisor

    async def open_log(self) -> EventLog:
        if self._log is None:
            self._log = await EventLog.open(self.state_dir / "events")
            self._bus = EventBus(self._log)
            self.probe.log = self._log
        return self._log

    async def start(self, setup: AgentSetup | None = None) -> Supervisor:
        """Open what is closed and start a supervisor with the `ops` agent from config."""
        self.setup = setup or self.setup
        log = await self.open_log()
        endpoint = {"base_url": self.server.base_url, "model": "scripted", "max_retries": 0}
        self._client = OpenAIChatClient(LlmEndpoint(**(endpoint | self.setup.endpoint)))
        wrap = self.setup.wrap_model
        self.model = wrap(self._client) if wrap is not None else self._client
        registry = ToolRegistry(
            [CryptoTool(self.state_dir / "keys"), self.notes, self.probe, self.hold, BoomTool()]
        )
        deps = AgentDeps(
            log=log,
            model=self.model,
            registry=registry,
            global_rules=self.setup.rules,
            approval_timeout_s=self.setup.approval_timeout_s,
        )
        self._supervisor = Supervisor(lambda config: deps, log, policy=self.setup.restarts)
        await self._supervisor.start([self.setup.agent_config()], self.runtime_config)
        return self._supervisor

    def runtime_config(self, name: str, created: AgentCreated) -> AgentConfig:
        return AgentSetup(
            role=self.setup.role, max_steps=created.max_steps or 10, read_only=created.read_only
        ).agent_config(name)

    async def stop(self) -> None:
        """Shut everything down, as a daemon's exit would."""
        if self._supervisor is not None:
            await self._supervisor.shutdown()
            self._supervisor = None
        if self._client is not None:
            await self._client.aclose()
            self._client = None
        if self._bus is not None:
            self._bus.close()
            self._bus = None
        if self._log is not None:
            await self._log.close()
            self._log = None

    async def restart(self) -> Supervisor:
        await self.stop()
        return await self.start()

    async def ask(self, text: str, *, agent: str = AGENT) -> TurnRecord:
        """Prompt and return the turn once it has completed."""
        async with self.bus.subscribe(topics.AGENT_TURN_COMPLETED, agent=agent) as completed:
            turn = await self.supervisor.prompt(agent, text)
            await wait_for_turn(completed, turn)
        return await self.turn(turn)

    async def turn(self, turn: str) -> TurnRecord:
        page = await self.log.query(EventQuery(turn=turn, limit=10_000))
        return TurnRecord(turn, page.events)

    def request_messages(self, index: int) -> list[dict[str, Any]]:
        """The `messages` of the index-th request the scripted server received."""
        body = self.server.requests[index].json()
        assert isinstance(body, dict)
        messages = body["messages"]
        assert isinstance(messages, list)
        return messages  # type: ignore[return-value]

    def offered_functions(self, index: int) -> list[str]:
        """The function names the index-th request offered the model."""
        body = self.server.requests[index].json()
        assert isinstance(body, dict)
        tools = body.get("tools") or []
        assert isinstance(tools, list)
        names = []
        for tool in tools:
            assert isinstance(tool, dict) and isinstance(tool["function"], dict)
            names.append(str(tool["function"]["name"]))
        return names


async def wait_for_turn(
    subscription: Subscription, turn: str, *, timeout_s: float = WAIT_S
) -> Event:
    """The next event of `turn` on `subscription`, skipping other turns' events."""
    async with asyncio.timeout(timeout_s):
        while True:
            event = await subscription.next(timeout_s)
            if event.turn == turn:
                return event
