"""The fake daemon's log and agents' turns: events appended over time, followed live."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from . import canned
from .fake_streams import StreamWriter

Json = dict[str, Any]
STEP_DELAY_S = 0.002
# A prompt of this text starts a turn that never completes (to interrupt it).
SLOW_PROMPT = "slow"
SLOW_PROMPT_EVENTS = 5


class TurnRunner:
    """Appends each prompt's scripted events to the log, a few milliseconds apart."""

    def __init__(self, agents: dict[str, Json]) -> None:
        self.agents = agents
        self.log: list[Json] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self._appended = asyncio.Event()
        self._stopping = asyncio.Event()

    @property
    def last_seq(self) -> int:
        return len(self.log)

    def seed(self) -> None:
        """The daemon's first events (called on the server's loop)."""
        self._appended = asyncio.Event()
        self._stopping = asyncio.Event()
        self.append("daemon.started", "started", {"agents": sorted(self.agents)}, None, None)
        for name in sorted(self.agents):
            self.append("agent.started", "started", {"reason": "config"}, name, None)

    def append(
        self, topic: str, type_: str, data: Json, agent: str | None, turn: str | None
    ) -> None:
        envelope = canned.envelope(self.last_seq + 1, topic, type_, data, agent=agent, turn=turn)
        envelope["agent"] = agent
        self.log.append(envelope)
        self._appended.set()
        self._appended = asyncio.Event()

    def start(self, agent: str, text: str) -> str:
        turn = f"t_01JDTURN{len(self._tasks) + self.last_seq:017d}"
        task = asyncio.create_task(self._run(agent, turn, text))
        self._tasks.add(task)
        return turn

    async def _run(self, agent: str, turn: str, text: str) -> None:
        script = canned.turn_script(text)
        if text == SLOW_PROMPT:
            script = script[:SLOW_PROMPT_EVENTS]
        for topic, type_, data in script:
            await asyncio.sleep(STEP_DELAY_S)
            self.append(topic, type_, data, agent, turn)
        if text == SLOW_PROMPT:
            await self._stopping.wait()

    async def stop(self) -> None:
        """End held turns and every stream following the log."""
        self._stopping.set()
        self._appended.set()

    async def follow(self, since: int, stream: StreamWriter) -> AsyncIterator[Json]:
        """Every event after `since`, then new ones as appended; heartbeats when idle."""
        seq = since
        while not self._stopping.is_set():
            while seq < self.last_seq:
                seq += 1
                yield self.log[seq - 1]
            appended = self._appended
            try:
                await asyncio.wait_for(appended.wait(), stream.heartbeat_s)
            except TimeoutError:
                await stream.heartbeat()

    def history(self, agent: str) -> list[Json]:
        return [
            {"seq": event["seq"], "turn": event["turn"], **event["data"]["message"]}
            for event in self.log
            if event["agent"] == agent and event["topic"] == "agent.message"
        ]

    def info(self, turn: str) -> Json | None:
        events = [event for event in self.log if event["turn"] == turn]
        if not events:
            return None
        info: Json = {"turn": turn, "agent": events[0]["agent"], "status": "running"}
        info |= {"prompt": events[0]["data"].get("text"), "answer": None, "error": None}
        info["steps"] = sum(event["topic"] == "agent.llm_response" for event in events)
        for event in events:
            if event["topic"] == "agent.turn_completed":
                info |= {key: event["data"][key] for key in ("status", "answer", "error")}
        info["events"] = events
        return info
