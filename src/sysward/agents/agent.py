"""One named agent: an asyncio task that folds its events and drives its turns.

The log is the agent's only memory. Prompts are accepted by appending
`agent.prompt`; the agent wakes, reads what is new for it from the log, and
takes each unfinished turn's next step (turn.next_step) until it is done.
"""

from __future__ import annotations

import asyncio
import enum
from dataclasses import dataclass, field

from sysward.agents.history import ContextLimits, messages_from_events
from sysward.agents.payloads import AgentLifecycle, Payload, Prompted
from sysward.agents.roles import Role
from sysward.agents.steps import StepRunner
from sysward.agents.turn import Done, TurnState, fold_turn, new_turn_state, next_step
from sysward.config import PolicyRule
from sysward.events import topics
from sysward.events.log import EventLog
from sysward.events.query import EventQuery
from sysward.events.record import Event, NewEvent
from sysward.llm import ChatMessage, ChatModel
from sysward.tools import ToolRegistry

SOURCE = "sysward.agents"


class AgentState(enum.StrEnum):
    STARTING = "starting"
    IDLE = "idle"
    BUSY = "busy"
    BACKOFF = "backoff"
    STOPPED = "stopped"
    CRASHED = "crashed"


@dataclass(frozen=True, slots=True)
class AgentConfig:
    """What an agent is: its name, role, model and limits."""

    name: str
    role: Role
    llm: str
    max_steps: int
    read_only: bool = False
    limits: ContextLimits = field(default_factory=ContextLimits)
    tool_timeout_s: float = 600.0


@dataclass(frozen=True, slots=True)
class AgentDeps:
    """What an agent uses; shared by every agent of the daemon."""

    log: EventLog
    model: ChatModel
    registry: ToolRegistry
    global_rules: tuple[PolicyRule, ...] = ()
    global_read_only: bool = False


class Agent:
    """Folds its events from the log and runs its turns, one at a time, in order."""

    def __init__(self, config: AgentConfig, deps: AgentDeps) -> None:
        self.config = config
        self.deps = deps
        self.state = AgentState.STARTING
        self.current_turn: str | None = None
        self.conversation: list[ChatMessage] = []
        self._turns: dict[str, TurnState] = {}
        self._cursor = 0
        self._wakeup = asyncio.Event()
        self._runner = StepRunner(self)

    @property
    def name(self) -> str:
        return self.config.name

    def wake(self) -> None:
        """New work may be in the log (a prompt was appended)."""
        self._wakeup.set()

    async def emit(self, topic: str, type_: str, payload: Payload, turn: str | None = None) -> None:
        await self.emit_many([(topic, type_, payload)], turn=turn)

    async def emit_many(
        self, items: list[tuple[str, str, Payload]], *, turn: str | None = None
    ) -> list[Event]:
        """Append this agent's events atomically (one batch, consecutive seqs)."""
        drafts = [
            NewEvent(
                topic=topic,
                type=type_,
                agent=self.name,
                turn=turn,
                source=SOURCE,
                data=payload.to_data(),
            )
            for topic, type_, payload in items
        ]
        return await self.deps.log.append_many(drafts)

    async def run(self) -> None:
        """The agent task: resume unfinished turns, then serve new prompts forever."""
        await self.catch_up()
        resumed = [turn for turn, state in self._turns.items() if state.first_seq]
        await self.emit(
            topics.AGENT_STARTED, "started", AgentLifecycle(reason="start", resumed_turns=resumed)
        )
        while True:
            turn = self._oldest_unfinished()
            if turn is None:
                self.state = AgentState.IDLE
                await self._wakeup.wait()
                self._wakeup.clear()
                await self.catch_up()
                continue
            self.state = AgentState.BUSY
            self.current_turn = turn
            await self._drive(turn)
            self.current_turn = None

    async def _drive(self, turn: str) -> None:
        while True:
            state = self._turns.get(turn)
            if state is None:
                return
            step = next_step(state)
            if isinstance(step, Done):
                self._turns.pop(turn, None)
                return
            await self._runner.run(step, state)
            await self.catch_up()

    def _oldest_unfinished(self) -> str | None:
        pending = [state for state in self._turns.values() if not state.is_finished]
        if not pending:
            return None
        return min(pending, key=lambda state: state.first_seq).turn

    async def catch_up(self) -> None:
        """Fold every event of this agent committed since the last fold."""
        while True:
            page = await self.deps.log.query(
                EventQuery(agent=self.name, after_seq=self._cursor, limit=1000)
            )
            for event in page.events:
                self._fold(event)
            self._cursor = max(self._cursor, page.scanned_seq)
            if len(page.events) < 1000:
                return

    def _fold(self, event: Event) -> None:
        if event.topic == topics.AGENT_MESSAGE:
            self.conversation.extend(messages_from_events([event]))
        if event.turn is None:
            return
        if event.topic == topics.AGENT_PROMPT:
            self._turns[event.turn] = new_turn_state(event.turn)
        state = self._turns.get(event.turn)
        if state is None:
            return
        state = fold_turn(state, event)
        if state.is_finished:
            self._turns.pop(event.turn)
        else:
            self._turns[event.turn] = state

    @property
    def unfinished_turns(self) -> list[str]:
        return sorted(self._turns, key=lambda turn: self._turns[turn].first_seq)

    async def submit(self, text: str, turn: str) -> None:
        """Accept a prompt durably; the agent task takes it up in order."""
        await self.emit(
            topics.AGENT_PROMPT,
            "prompted",
            Prompted(text=text, max_steps=self.config.max_steps),
            turn=turn,
        )
        self.wake()
