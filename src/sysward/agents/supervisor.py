"""The supervisor: owns every agent task (one_for_one), restarts crashed agents from
the log with backoff, and marks an agent `crashed` when it crashes too often.

Agents come from config (they start with the daemon) and from `agent.created`
events (made at run time, restored at every start until `agent.deleted`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from sysward.agents.agent import Agent, AgentConfig, AgentDeps, AgentState
from sysward.agents.approvals import ApprovalBook
from sysward.agents.ids import TurnId, new_turn_id
from sysward.agents.payloads import (
    AgentCreated,
    AgentDeleted,
    AgentFailed,
    AgentLifecycle,
    TurnCompleted,
)
from sysward.errors import SyswardError
from sysward.events import topics
from sysward.events.log import EventLog
from sysward.events.record import Event, NewEvent
from sysward.events.scan import AgentOutline

_log = logging.getLogger(__name__)
SOURCE = "sysward.agents.supervisor"


class AgentNotFound(SyswardError):
    """No agent of that name."""


class AgentConflict(SyswardError):
    """The agent already exists, or is in a state that forbids the request."""


@dataclass(frozen=True, slots=True)
class RestartPolicy:
    initial_backoff_s: float = 0.2
    max_backoff_s: float = 10.0
    max_crashes: int = 5
    window_s: float = 60.0


@dataclass(slots=True)
class _Slot:
    """One supervised agent: its config, its current incarnation and its task."""

    config: AgentConfig
    origin: str
    agent: Agent | None = None
    task: asyncio.Task[None] | None = None
    state: AgentState = AgentState.STOPPED
    crash_times: deque[float] = field(default_factory=deque)
    restarts: int = 0


ConfigFactory = Callable[[str, AgentCreated], AgentConfig]
EMPTY_OUTLINE = AgentOutline(message_seqs=[], resume_seqs=[], lifecycle_seqs=[], approval_seqs=[])


class Supervisor:
    """Starts, stops, restarts and routes prompts to agents."""

    def __init__(
        self,
        deps_for: Callable[[AgentConfig], AgentDeps],
        log: EventLog,
        *,
        policy: RestartPolicy | None = None,
    ) -> None:
        self._deps_for = deps_for
        self._log = log
        self._policy = policy or RestartPolicy()
        self._slots: dict[str, _Slot] = {}
        self.approvals = ApprovalBook(log, on_decided=self._wake)
        self._unlisten: Callable[[], None] | None = None
        self.start_outlines: dict[str, AgentOutline] = {}

    # -- lifecycle -------------------------------------------------------------

    async def start(
        self, configured: list[AgentConfig], runtime_config: ConfigFactory
    ) -> list[str]:
        """Start config agents and restore run-time ones; returns the names started."""
        # Before the log is read: the approval book and every agent's fold trust that
        # they are handed each event committed after the snapshot they read.
        self.approvals.follow()
        if self._unlisten is None:
            self._unlisten = self._log.add_listener(self._route)
        for config in configured:
            self._slots[config.name] = _Slot(config, origin="config")
        # One walk of the index outlines every agent, for the approvals, the run-time
        # agents and each agent's recovery: a thousand agents each reading theirs from
        # a thread would contend for the GIL.
        outlines, snapshot_seq = await self._log.all_outlines()
        # Kept for the trigger service, whose events are indexed under their agents.
        self.start_outlines = outlines
        await self.approvals.load(outlines, snapshot_seq)
        for name, created in (await self._runtime_agents(outlines)).items():
            if name not in self._slots:
                self._slots[name] = _Slot(runtime_config(name, created), origin="runtime")
        for name in self._slots:
            self._start_task(name, (outlines.get(name) or EMPTY_OUTLINE, snapshot_seq))
        return list(self._slots)

    async def _runtime_agents(self, outlines: dict[str, AgentOutline]) -> dict[str, AgentCreated]:
        """Agents created at run time and not deleted since: each one's last such event.

        Read from the per-agent index, so a start does not decode the whole log.
        """
        last = [each.lifecycle_seqs[-1] for each in outlines.values() if each.lifecycle_seqs]
        return {
            event.agent: AgentCreated.model_validate(event.data)
            for event in await self._log.fetch(sorted(last))
            if event.agent is not None and event.topic == topics.AGENT_CREATED
        }

    def _start_task(self, name: str, outline: tuple[AgentOutline, int] | None = None) -> None:
        slot = self._slots[name]
        slot.state = AgentState.STARTING
        # The first incarnation exists before its task runs, so prompts can be
        # accepted at once; they are durable and the agent folds them on start.
        slot.agent = self._new_agent(slot.config)
        if outline is not None:
            slot.agent.preload(*outline)
        slot.task = asyncio.create_task(self._supervise(slot), name=f"agent-{name}")

    def _new_agent(self, config: AgentConfig) -> Agent:
        return Agent(config, self._deps_for(config), self.approvals)

    def _wake(self, name: str) -> None:
        slot = self._slots.get(name)
        if slot is not None and slot.agent is not None:
            slot.agent.wake()

    async def _supervise(self, slot: _Slot) -> None:
        """Run the agent; on a crash record it, back off and start a fresh incarnation."""
        while True:
            agent = slot.agent or self._new_agent(slot.config)
            slot.agent = agent
            try:
                await agent.run()
                return
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # an agent crash must never take the daemon down
                _log.exception("agent %s crashed", slot.config.name)
                if not await self._after_crash(slot, agent, exc):
                    return
                slot.agent = None

    async def _after_crash(self, slot: _Slot, agent: Agent, exc: Exception) -> bool:
        now = time.monotonic()
        slot.crash_times.append(now)
        while slot.crash_times and now - slot.crash_times[0] > self._policy.window_s:
            slot.crash_times.popleft()
        crashed = AgentFailed(
            kind="crash",
            message=f"{type(exc).__name__}: {exc}",
            details={"restarts": slot.restarts},
        )
        await self._append(
            slot.config.name, topics.AGENT_ERROR, "crash", crashed, agent.current_turn
        )
        if len(slot.crash_times) >= self._policy.max_crashes:
            slot.state = AgentState.CRASHED
            loop = AgentFailed(
                kind="crash_loop",
                message=f"{len(slot.crash_times)} crashes within {self._policy.window_s:.0f}s; "
                "not restarting. Inspect `sysward events --agent` and start it again.",
            )
            await self._append(slot.config.name, topics.AGENT_ERROR, "crash_loop", loop, None)
            return False
        slot.state = AgentState.BACKOFF
        slot.restarts += 1
        backoff = self._policy.initial_backoff_s * 2 ** (len(slot.crash_times) - 1)
        await asyncio.sleep(min(backoff, self._policy.max_backoff_s))
        # Leave BACKOFF, or state_of() would keep reporting it for the new incarnation.
        slot.state = AgentState.STARTING
        return True

    async def _append(
        self,
        agent: str,
        topic: str,
        type_: str,
        payload: AgentFailed | AgentLifecycle,
        turn: str | None,
    ) -> None:
        draft = NewEvent(
            topic=topic, type=type_, agent=agent, turn=turn, source=SOURCE, data=payload.to_data()
        )
        await self._log.append(draft)

    async def stop(self, name: str, *, reason: str = "stop") -> None:
        slot = self._slot(name)
        await self._cancel(slot)
        slot.state = AgentState.STOPPED
        await self._append(
            name, topics.AGENT_STOPPED, "stopped", AgentLifecycle(reason=reason), None
        )

    async def start_agent(self, name: str) -> None:
        slot = self._slot(name)
        if slot.task is not None and not slot.task.done():
            raise AgentConflict(f"agent {name!r} is already running")
        slot.crash_times.clear()
        self._start_task(name)

    async def _cancel(self, slot: _Slot) -> None:
        if slot.task is None:
            return
        slot.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await slot.task
        slot.task = None

    async def shutdown(self) -> None:
        """Cancel every agent task and wait for each (in-flight effects are in the log)."""
        for slot in self._slots.values():
            await self._cancel(slot)
            slot.state = AgentState.STOPPED
        self.approvals.close()
        if self._unlisten is not None:
            self._unlisten()
            self._unlisten = None

    def _route(self, events: Sequence[Event]) -> None:
        for event in events:
            if event.agent is None:
                continue
            slot = self._slots.get(event.agent)
            if slot is not None and slot.agent is not None:
                slot.agent.on_commit(event)

    # -- run-time agents ---------------------------------------------------------

    async def create(self, name: str, created: AgentCreated, config: AgentConfig) -> None:
        if name in self._slots:
            raise AgentConflict(f"agent {name!r} already exists")
        await self._append_created(name, created)
        self._slots[name] = _Slot(config, origin="runtime")
        self._start_task(name)

    async def _append_created(self, name: str, created: AgentCreated) -> None:
        draft = NewEvent(
            topic=topics.AGENT_CREATED,
            type="created",
            agent=name,
            source=SOURCE,
            data=created.to_data(),
        )
        await self._log.append(draft)

    async def delete(self, name: str) -> None:
        slot = self._slot(name)
        if slot.origin == "config":
            raise AgentConflict(f"agent {name!r} is declared in the config file; remove it there")
        await self._cancel(slot)
        draft = NewEvent(
            topic=topics.AGENT_DELETED,
            type="deleted",
            agent=name,
            source=SOURCE,
            data=AgentDeleted().to_data(),
        )
        await self._log.append(draft)
        del self._slots[name]

    # -- prompts and queries ----------------------------------------------------

    async def prompt(self, name: str, text: str, *, turn: TurnId | None = None) -> TurnId:
        """Accept a prompt durably and return its turn id; the agent runs it in order.

        `turn` names the turn in advance (a trigger's firing records it before the prompt).
        """
        slot = self._slot(name)
        if slot.agent is None or slot.task is None or slot.task.done():
            raise AgentConflict(f"agent {name!r} is {self.state_of(name)}; start it first")
        turn = turn or new_turn_id()
        await slot.agent.submit(text, turn)
        return turn

    def accepts_prompts(self, name: str) -> bool:
        """Whether `prompt` would accept a prompt for this agent now."""
        slot = self._slots.get(name)
        return slot is not None and slot.task is not None and not slot.task.done()

    async def cancel_turn(self, name: str, turn: str, uid: int | None) -> TurnCompleted:
        """Cancel one of the agent's unfinished turns; TurnFinished if it has ended."""
        slot = self._slot(name)
        if slot.agent is not None and slot.task is not None and not slot.task.done():
            return await slot.agent.cancel_turn(turn, uid)
        # Not running: a fresh incarnation folds the log and records the end, runs nothing.
        return await self._new_agent(slot.config).cancel_turn(turn, uid)

    def state_of(self, name: str) -> AgentState:
        slot = self._slot(name)
        if slot.task is None or slot.task.done():
            return slot.state if slot.state is AgentState.CRASHED else AgentState.STOPPED
        if slot.agent is not None and slot.state is not AgentState.BACKOFF:
            return slot.agent.state
        return slot.state

    def names(self) -> list[str]:
        return sorted(self._slots)

    def slot_info(self, name: str) -> tuple[AgentConfig, str, Agent | None, int]:
        slot = self._slot(name)
        return slot.config, slot.origin, slot.agent, slot.restarts

    def _slot(self, name: str) -> _Slot:
        slot = self._slots.get(name)
        if slot is None:
            known = ", ".join(sorted(self._slots)) or "none"
            raise AgentNotFound(f"no agent named {name!r} (agents: {known})")
        return slot
