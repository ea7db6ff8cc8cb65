"""Run one agent with real components in this process; optionally SIGKILL ourselves.

Usage: crash_harness.py STATE_DIR BASE_URL SIDE_EFFECT_FILE [--crash-after SEQ] [--prompt TEXT]

The kill is a log listener: it fires after a batch is durable and before any
caller learns of it, so the process dies exactly "right after event SEQ".
Prints one JSON line {"turn": ...} when the agent's turn has completed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

from pydantic import Field

from sysward.agents.agent import AgentConfig, AgentDeps
from sysward.agents.roles import Role
from sysward.agents.supervisor import Supervisor
from sysward.config import LlmEndpoint, PolicyRule
from sysward.events.bus import EventBus
from sysward.events.log import EventLog
from sysward.events.query import EventQuery
from sysward.events.record import Event
from sysward.llm import OpenAIChatClient
from sysward.tools import Effect, Tool, ToolArgs, ToolRegistry, action
from sysward.tools.crypto import CryptoTool


class TouchArgs(ToolArgs):
    """What to record."""

    note: str = Field(max_length=100, description="A line to append to the side-effect file")


class SideEffectTool(Tool):
    """A test-only write action: appends a line to a file (must happen at most once)."""

    name = "sideeffect"
    path: Path

    @action(effect=Effect.WRITE)
    async def touch(self, args: TouchArgs) -> dict[str, str]:
        """Append a line to the side-effect file."""
        with self.path.open("a") as handle:
            handle.write(args.note + "\n")
        return {"written": args.note}


def kill_after(seq: int):  # type: ignore[no-untyped-def]
    def listener(events: Sequence[Event]) -> None:
        if any(event.seq >= seq for event in events):
            os.kill(os.getpid(), signal.SIGKILL)

    return listener


async def main(args: argparse.Namespace) -> int:
    log = await EventLog.open(Path(args.state_dir) / "events")
    if args.crash_after:
        log.add_listener(kill_after(args.crash_after))
    side_effect = SideEffectTool()
    side_effect.path = Path(args.side_effect_file)
    registry = ToolRegistry([CryptoTool(Path(args.state_dir) / "keys"), side_effect])
    model = OpenAIChatClient(LlmEndpoint(base_url=args.base_url, model="scripted", max_retries=0))
    role = Role(
        name="test", description="crash test", prompt="You test.", tools=["crypto", "sideeffect"]
    )
    deps = AgentDeps(
        log=log, model=model, registry=registry, global_rules=(PolicyRule(decision="allow"),)
    )
    supervisor = Supervisor(lambda config: deps, log)
    config = AgentConfig(name="ops", role=role, llm="default", max_steps=10)
    await supervisor.start([config], lambda name, created: config)
    if args.prompt and not (await log.query(EventQuery(topic="agent.prompt", limit=1))).events:
        await supervisor.prompt("ops", args.prompt)
    async with EventBus(log).subscribe("agent.turn_completed", since=0) as completed:
        event = await completed.next(timeout_s=30)
    print(json.dumps({"turn": event.turn}), flush=True)
    await supervisor.shutdown()
    await model.aclose()
    await log.close()
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("state_dir")
    parser.add_argument("base_url")
    parser.add_argument("side_effect_file")
    parser.add_argument("--crash-after", type=int, default=0)
    parser.add_argument("--prompt", default="")
    sys.exit(asyncio.run(main(parser.parse_args())))
