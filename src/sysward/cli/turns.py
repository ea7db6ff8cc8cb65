"""Prompt an agent and follow that turn's events until it completes.

The prompt answers with the turn's own event stream. If that stream ends early
(a dropped slow subscriber, a restarted connection), following resumes on
`/v1/events/stream` after the last seq seen, so no event is missed or repeated.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, cast

from sysward.cli.shapes import (
    Envelope,
    PromptAccepted,
    ToolDispatchData,
    ToolFinishedData,
    TurnCompletedData,
    TurnInfo,
)
from sysward.control.client import (
    ControlClient,
    ControlError,
    SseEvent,
    StreamTimeout,
    path_segment,
)

MAX_RESUMES_WITHOUT_PROGRESS = 3

OnEvent = Callable[[Envelope], None]


class TurnRecord:
    """What the CLI learned of one turn from its events (folded as they arrive)."""

    def __init__(self, agent: str) -> None:
        self.agent = agent
        self.turn: str | None = None
        self.status = "running"
        self.answer: str | None = None
        self.error: str | None = None
        self.steps = 0
        self.last_seq: int | None = None
        self.tool_calls: dict[str, dict[str, Any]] = {}
        self.errors: list[dict[str, Any]] = []

    @property
    def is_done(self) -> bool:
        return self.status != "running"

    def add(self, event: Envelope) -> None:
        """Fold one event of this turn into the record."""
        self.turn = self.turn or event.get("turn")
        self.last_seq = event["seq"]
        topic, data = event["topic"], event["data"]
        if topic == "agent.tool_dispatch":
            dispatch = cast(ToolDispatchData, data)
            self.tool_calls[dispatch["call_id"]] = {**dispatch, "result": None}
        elif topic.startswith("tool.") and "result" in data:
            finished = cast(ToolFinishedData, data)
            call = self.tool_calls.setdefault(finished["call_id"], {"call_id": finished["call_id"]})
            call.update(result=finished["result"], duration_ms=finished.get("duration_ms"))
        elif topic == "agent.error":
            self.errors.append(data)
        elif topic == "agent.turn_completed":
            self.complete(cast(TurnCompletedData, data))

    def complete(self, data: TurnCompletedData) -> None:
        self.status = data["status"]
        self.steps = data["steps"]
        self.answer = data.get("answer")
        self.error = data.get("error")

    def summary(self) -> dict[str, Any]:
        """The `ask --json` document."""
        return {
            "agent": self.agent,
            "turn": self.turn,
            "status": self.status,
            "answer": self.answer,
            "error": self.error,
            "steps": self.steps,
            "tool_calls": list(self.tool_calls.values()),
            "errors": self.errors,
        }


class TurnFollower:
    """Prompts one agent and hands each event of the new turn to `on_event`."""

    def __init__(self, client: ControlClient, agent: str, on_event: OnEvent) -> None:
        self.client = client
        self.agent = agent
        self.on_event = on_event
        self.record = TurnRecord(agent)

    def prompt(self, text: str) -> TurnRecord:
        """Start a turn and follow it to its `agent.turn_completed`."""
        self.record = TurnRecord(self.agent)
        path = f"/v1/agents/{path_segment(self.agent)}/prompt"
        body = {"text": text, "wait": True}
        try:
            with self.client.stream("POST", path, body=body) as stream:
                self._consume(stream)
        except StreamTimeout:
            pass  # resumed below from the last seq seen
        self._resume()
        return self.record

    def _resume(self) -> None:
        stalls = 0
        while not self.record.is_done:
            if self.record.turn is None:
                raise ControlError("the daemon ended the prompt's stream before naming the turn")
            seen = self.record.last_seq
            if seen is None:
                self._catch_up(self.record.turn)
                continue
            query: dict[str, str | int | None] = {"agent": self.agent, "since": seen}
            try:
                with self.client.stream("GET", "/v1/events/stream", query=query) as stream:
                    self._consume(stream)
            except StreamTimeout:
                pass  # a silent stream is a dead one: reconnect after the last seq seen
            stalls = stalls + 1 if self.record.last_seq == seen else 0
            if stalls >= MAX_RESUMES_WITHOUT_PROGRESS:
                raise ControlError(f"lost the event stream of turn {self.record.turn}")

    def _catch_up(self, turn: str) -> None:
        """The turn's events so far, from the log: where following resumes from."""
        info: TurnInfo = self.client.get(f"/v1/turns/{path_segment(turn)}")
        for event in info.get("events", []):
            self._take(event)
        if self.record.last_seq is None:
            raise ControlError(f"turn {turn} has no events in the log")

    def _consume(self, stream: Iterable[SseEvent]) -> None:
        for message in stream:
            if message.event == "dropped":
                return
            if message.event == "accepted":
                accepted = cast(PromptAccepted, message.json())
                self.record.turn = accepted["turn"]
                continue
            self._take(cast(Envelope, message.json()))
            if self.record.is_done:
                return

    def _take(self, event: Envelope) -> None:
        if self._is_new_event_of_this_turn(event):
            self.record.add(event)
            self.on_event(event)

    def _is_new_event_of_this_turn(self, event: Envelope) -> bool:
        if self.record.last_seq is not None and event["seq"] <= self.record.last_seq:
            return False
        return self.record.turn is None or event.get("turn") == self.record.turn
