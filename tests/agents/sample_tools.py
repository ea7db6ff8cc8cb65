"""Small real tools and models for the agent tests: each does one thing a test needs to see."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from pydantic import Field

from sysward.events import topics
from sysward.events.log import EventLog
from sysward.events.query import EventQuery
from sysward.llm import ChatMessage, ChatModel, LlmReply, ToolSpec
from sysward.tools import Effect, NoArgs, Tool, ToolArgs, action


class NoteArgs(ToolArgs):
    """A note to keep."""

    text: str = Field(max_length=200, description="The note")


class NotesTool(Tool):
    """Keeps notes in memory: a write action whose every run the test can count."""

    name = "notes"

    def __init__(self) -> None:
        self.written: list[str] = []

    @action(effect=Effect.WRITE)
    async def write(self, args: NoteArgs) -> dict[str, int]:
        """Keep a note."""
        self.written.append(args.text)
        return {"count": len(self.written)}

    @action(effect=Effect.READ)
    async def count(self, args: NoArgs) -> dict[str, int]:
        """How many notes are kept."""
        return {"count": len(self.written)}


class ProbeTool(Tool):
    """Reads the log while it runs: which tool dispatches are durable at that moment."""

    name = "probe"

    def __init__(self) -> None:
        self.log: EventLog | None = None
        self.seen_dispatches: list[list[str]] = []

    @action(effect=Effect.READ)
    async def look(self, args: NoArgs) -> dict[str, list[str]]:
        """List the call ids of every durable tool dispatch."""
        assert self.log is not None, "the rig sets the probe's log"
        page = await self.log.query(EventQuery(topic=topics.AGENT_TOOL_DISPATCH))
        call_ids = [str(event.data["call_id"]) for event in page.events]
        self.seen_dispatches.append(call_ids)
        return {"dispatched": call_ids}


class HoldTool(Tool):
    """A slow write: its first run lasts until the agent is stopped (cancelled)."""

    name = "hold"

    def __init__(self) -> None:
        self.runs = 0

    @action(effect=Effect.WRITE)
    async def change(self, args: NoArgs) -> dict[str, int]:
        """Make a change that takes a long time the first time."""
        self.runs += 1
        if self.runs == 1:
            await asyncio.sleep(60)
        return {"runs": self.runs}


class BoomTool(Tool):
    """An action with a bug: it raises an exception no tool should let escape."""

    name = "boom"

    @action(effect=Effect.READ)
    async def go(self, args: NoArgs) -> None:
        """Fail with an unexpected exception."""
        raise ZeroDivisionError("tool bug")


class FlakyModel:
    """A ChatModel with a bug: its first `failures` calls raise RuntimeError, then it delegates."""

    def __init__(self, inner: ChatModel, failures: int) -> None:
        self.inner = inner
        self.failures = failures
        self.calls = 0

    async def complete(
        self, messages: Sequence[ChatMessage], tools: Sequence[ToolSpec]
    ) -> LlmReply:
        self.calls += 1
        if self.calls <= self.failures:
            raise RuntimeError(f"model bug #{self.calls}")
        return await self.inner.complete(messages, tools)
