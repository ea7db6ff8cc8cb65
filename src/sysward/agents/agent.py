"""One named agent: an asyncio task that folds its events and drives its turns.

The log is the agent's only memory. Prompts are accepted by appending
`agent.prompt`; the agent wakes, reads what is new for it from the log, and
takes each unfinished turn's next step (turn.next_step) until it is done.
"""

from __future__ import annotations

import asyncio
import enum
from dataclasses import dataclass, field

from pydantic import ValidationError

from sysward.agents.approvals import ApprovalBook
from sysward.agents.history import (
    ContextLimits,
    MessageSizes,
    covers_context,
    messages_from_events,
)
from sysward.agents.payloads import AgentLifecycle, Payload, Prompted, TurnCompleted
from sysward.agents.roles import Role
from sysward.agents.steps import StepRunner
from sysward.agents.turn import Done, Step, TurnState, fold_turn, new_turn_state, next_step
from sysward.agents.unreadable import UnreadableEvent, reported_seq, unreadable_event
from sysward.config import PolicyRule
from sysward.errors import SyswardError
from sysward.events import topics
from sysward.events.context import bound_context
from sysward.events.log import EventLog
from sysward.events.query import EventQuery
from sysward.events.record import Event, NewEvent
from sysward.events.scan import AgentOutline
from sysward.llm import ChatMessage, ChatModel
from sysward.tools import ToolRegistry

SOURCE = "sysward.agents"
# Committed events held for an agent that is not folding them (crashed, stopped).
MAX_TAIL_EVENTS = 10_000
# Messages decoded at a time, newest first, when rebuilding the conversation.
RECOVERY_CHUNK = 200


class AgentState(enum.StrEnum):
    STARTING = "starting"
    IDLE = "idle"
    BUSY = "busy"
    BACKOFF = "backoff"
    STOPPED = "stopped"
    CRASHED = "crashed"
    AWAITING_APPROVAL = "awaiting_approval"


class TurnFinished(SyswardError):
    """The turn has already ended (or is not one of this agent's)."""


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
    approval_timeout_s: float = 3600.0


class Agent:
    """Folds its events from the log and runs its turns, one at a time, in order."""

    def __init__(self, config: AgentConfig, deps: AgentDeps, approvals: ApprovalBook) -> None:
        self.config = config
        self.deps = deps
        self.approvals = approvals
        self.state = AgentState.STARTING
        self.current_turn: str | None = None
        self.conversation: list[ChatMessage] = []
        # Older messages than `conversation` holds: recovery did not load them.
        self.omitted_messages = 0
        # Measured once, for loading the history and for every request after.
        self.sizes = MessageSizes()
        self._unloaded: list[int] = []
        self._outline: tuple[AgentOutline, int] | None = None
        # Unreadable events whose agent.error report is in the log.
        self._reported: set[int] = set()
        self._turns: dict[str, TurnState] = {}
        self._cursor = 0
        # This agent's events committed after `_cursor`, as the log delivered them
        # (Supervisor routes them here); trusted only once a query has joined up.
        self._tail: list[Event] = []
        self._tail_is_complete = False
        self._folding = asyncio.Lock()
        self._unreadable: dict[int, UnreadableEvent] = {}
        self._wakeup = asyncio.Event()
        self._runner = StepRunner(self)
        # Held while a turn's step runs, and by a cancel of that turn: never both at once.
        self._turn_locks: dict[str, asyncio.Lock] = {}
        self._step_task: asyncio.Task[None] | None = None
        self._cancelling: set[str] = set()

    @property
    def name(self) -> str:
        return self.config.name

    def wake(self) -> None:
        """New work may be in the log (a prompt or an approval decision was appended)."""
        self._wakeup.set()

    async def wait_for_wakeup(self, timeout_s: float, *, is_awaiting_approval: bool) -> None:
        """Park until `wake()` or the timeout; the caller folds the log to see what changed."""
        if is_awaiting_approval:
            self.state = AgentState.AWAITING_APPROVAL
        try:
            async with asyncio.timeout(timeout_s):
                await self._wakeup.wait()
        except TimeoutError:
            pass
        finally:
            self.state = AgentState.BUSY
        # Cleared only after waking: whatever woke us is folded by the catch-up that follows.
        self._wakeup.clear()

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
        lock = self._turn_locks.setdefault(turn, asyncio.Lock())
        try:
            while True:
                async with lock:
                    await self.catch_up()
                    state = self._turns.get(turn)
                    if state is None:
                        return
                    step = next_step(state)
                    if isinstance(step, Done):
                        self._turns.pop(turn, None)
                        return
                    if turn not in self._cancelling:
                        await self._run_step(step, state)
        finally:
            self._turn_locks.pop(turn, None)

    async def _run_step(self, step: Step, state: TurnState) -> None:
        """One step as its own task, so cancelling the turn cancels just that step."""
        if state.trigger is None:
            task = asyncio.create_task(self._runner.run(step, state), name=f"{self.name}-step")
        else:
            # The task copies the context here: each of the step's events names the trigger.
            with bound_context(trigger=state.trigger, trigger_seq=state.trigger_seq):
                task = asyncio.create_task(self._runner.run(step, state), name=f"{self.name}-step")
        self._step_task = task
        try:
            await task
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if (current is not None and current.cancelling()) or not task.cancelled():
                raise
        finally:
            self._step_task = None

    async def cancel_turn(self, turn: str, uid: int | None) -> TurnCompleted:
        """End a turn now: its running step is cancelled, what it leaves is recorded."""
        self._cancelling.add(turn)
        try:
            if self.current_turn == turn and self._step_task is not None:
                self._step_task.cancel()
            async with self._turn_locks.setdefault(turn, asyncio.Lock()):
                await self.catch_up()
                state = self._turns.get(turn)
                if state is None:
                    raise TurnFinished(f"turn {turn} has already ended")
                completed = await self._runner.cancel(state, uid)
                await self.catch_up()
                return completed
        finally:
            self._cancelling.discard(turn)
            if self.current_turn != turn:
                self._turn_locks.pop(turn, None)

    def _oldest_unfinished(self) -> str | None:
        pending = [state for state in self._turns.values() if not state.is_finished]
        if not pending:
            return None
        return min(pending, key=lambda state: state.first_seq).turn

    def on_commit(self, event: Event) -> None:
        """One of this agent's events was committed (called on the loop, in seq order)."""
        if event.seq <= self._cursor:
            return
        if len(self._tail) >= MAX_TAIL_EVENTS:
            # Nobody is folding (a crashed agent): forget it, the next fold reads the log.
            self._tail.clear()
            self._tail_is_complete = False
        self._tail.append(event)

    async def catch_up(self) -> None:
        """Fold every event of this agent committed since the last fold.

        After the first read of the log, the events delivered by `on_commit`
        are all there is, so a step costs no read of the log and no thread hop.
        """
        # One fold at a time: the agent's task and a cancel from the API both fold, and
        # two folds from the same cursor would take the same events twice.
        async with self._folding:
            if not self._tail_is_complete:
                if self._cursor == 0:
                    await self._recover()
                else:
                    await self._read_log()
            tail, self._tail = self._tail, []
            for event in tail:
                if event.seq > self._cursor:
                    self._fold(event)
                    self._cursor = event.seq
            while self._unreadable:
                _, skipped = self._unreadable.popitem()
                await self.emit(topics.AGENT_ERROR, skipped.error.kind, skipped.error, skipped.turn)

    def preload(self, outline: AgentOutline, snapshot_seq: int) -> None:
        """Recover from an outline the Supervisor read for every agent at once.

        It was read before this agent existed: the first fold reads what the
        log took since `snapshot_seq` before it trusts on_commit.
        """
        self._outline = (outline, snapshot_seq)

    async def _recover(self) -> None:
        """The first fold: from the index, decode only what can still matter.

        A finished turn changes nothing but the conversation, and only the
        newest messages can still be sent (fit_context, read by `context()`
        when needed), so a start costs one walk of the agent's index and the
        events of its unfinished turns, not every event it ever had.
        """
        if self._outline is not None:
            (outline, snapshot_seq), self._outline = self._outline, None
            await self._apply_outline(outline, snapshot_seq)
            await self._read_log()  # what came after the outline's snapshot
            return
        outline, snapshot_seq = await self.deps.log.agent_outline(self.name)
        await self._apply_outline(outline, snapshot_seq)
        # As in _read_log: what was committed after the snapshot reaches on_commit.
        self._tail_is_complete = True

    async def _apply_outline(self, outline: AgentOutline, snapshot_seq: int) -> None:
        # Read when the agent next calls its model: an idle agent never pays for its history.
        self._unloaded = outline.message_seqs
        # Errors too: one may report an unreadable event, which then is not reported again.
        for event in await self.deps.log.fetch(outline.resume_seqs):
            self._fold(event, with_conversation=False)
        self._cursor = max(self._cursor, snapshot_seq)

    async def context(self) -> tuple[list[ChatMessage], int]:
        """The conversation as far as it can still be sent, and how many older messages
        were not loaded (for fit_context)."""
        async with self._folding:
            if self._unloaded:
                seqs, self._unloaded = self._unloaded, []
                # Messages folded since recovery are newer; loading older ones stops where
                # even these would leave them out.
                older = await self._recent_messages(seqs, newer=self.conversation)
                self.conversation = older + self.conversation
                self.omitted_messages = len(seqs) - len(older)
            return self.conversation, self.omitted_messages

    async def _recent_messages(
        self, seqs: list[int], newer: list[ChatMessage]
    ) -> list[ChatMessage]:
        """The newest messages, back to where fit_context would stop sending them."""
        limits, prompt = self.config.limits, self.config.role.prompt
        loaded: list[ChatMessage] = []
        end = len(seqs)
        while end > 0:
            start = max(0, end - RECOVERY_CHUNK)
            events = await self.deps.log.fetch(seqs[start:end])
            loaded = self._readable_messages(events) + loaded
            end = start
            if covers_context(prompt, loaded + newer, limits, self.sizes):
                break
        return loaded

    def _readable_messages(self, events: list[Event]) -> list[ChatMessage]:
        messages: list[ChatMessage] = []
        for event in events:
            try:
                messages += messages_from_events([event])
            except ValidationError as exc:
                if event.seq not in self._reported:  # a report from an earlier run stands
                    self._unreadable[event.seq] = unreadable_event(event, exc)
        return messages

    async def _read_log(self) -> None:
        while True:
            page = await self.deps.log.query(
                EventQuery(agent=self.name, after_seq=self._cursor, limit=1000)
            )
            for event in page.events:
                self._fold(event)
            self._cursor = max(self._cursor, page.scanned_seq)
            if len(page.events) < 1000:
                break
        # Everything after the read's snapshot was committed while this agent existed,
        # so on_commit has it (or will, before any later event): the tail is whole.
        self._tail_is_complete = True

    def _fold(self, event: Event, *, with_conversation: bool = True) -> None:
        try:
            self._fold_readable(event, with_conversation)
        except ValidationError as exc:
            # Folding it again would fail again: a restart cannot fix it, so skip it (once).
            if event.topic == topics.AGENT_PROMPT and event.turn is not None:
                self._turns.pop(event.turn, None)  # a turn without its prompt cannot run
            self._unreadable[event.seq] = unreadable_event(event, exc)

    def _fold_readable(self, event: Event, with_conversation: bool = True) -> None:
        if (reported := reported_seq(event)) is not None:
            self._unreadable.pop(reported, None)
            self._reported.add(reported)
        if with_conversation and event.topic == topics.AGENT_MESSAGE:
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
