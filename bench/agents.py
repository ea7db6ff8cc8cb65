"""Many agents in one process: concurrent turns, memory per idle agent, recovery time.

    .venv/bin/python bench/agents.py [--agents 1000] [--log-events 100000 1000000]

- concurrent: every agent runs a 3-step turn at once (3 tool calls, then an
  answer) against a loopback fake; all must complete; wall time and events/s.
- idle memory: RSS growth (psutil) from starting `--agents` idle agents,
  divided by their number.
- recovery: a log of N events spread over the agents (copies of a real
  turn's events), then the time from `Supervisor.start` until every agent has
  folded its events and logged `agent.started`.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import sys
import tempfile
from collections.abc import AsyncIterator
from contextlib import AbstractContextManager, asynccontextmanager
from pathlib import Path
from time import perf_counter

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))

from sysward.agents.agent import AgentConfig, AgentDeps
from sysward.agents.ids import new_turn_id
from sysward.agents.payloads import AgentCreated
from sysward.agents.supervisor import Supervisor
from sysward.config import LlmEndpoint, PolicyRule
from sysward.events import topics
from sysward.events.bus import EventBus
from sysward.events.log import EventLog
from sysward.events.query import EventQuery
from sysward.events.record import Event, NewEvent
from sysward.llm import OpenAIChatClient
from sysward.tools import ToolRegistry
from sysward.tools.crypto import CryptoTool
from turn import ROLE, TOOL_CALL, InstantLlm, instant_llm

STEPS = 3
ANSWER = json.dumps(
    {
        "choices": [
            {
                "index": 0,
                "finish_reason": "stop",
                "message": {"role": "assistant", "content": "done"},
            }
        ]
    }
).encode()


class _ThreeStepLlm(InstantLlm):
    """A tool call until the request holds three tool results, then an answer."""

    def answer(self, body: bytes) -> bytes:
        return ANSWER if body.count(b'"role": "tool"') >= STEPS else TOOL_CALL


def three_step_llm() -> AbstractContextManager[str]:
    return instant_llm(_ThreeStepLlm)


def agent_names(count: int) -> list[str]:
    return [f"a{index:04d}" for index in range(count)]


@asynccontextmanager
async def agents(
    events_dir: Path, base_url: str, names: list[str]
) -> AsyncIterator[tuple[Supervisor, EventLog, EventBus]]:
    """A supervisor running `names` over the log in `events_dir`, as the daemon builds it."""
    log = await EventLog.open(events_dir)
    bus = EventBus(log)
    client = OpenAIChatClient(LlmEndpoint(base_url=base_url, model="fake", max_retries=0))
    registry = ToolRegistry([CryptoTool(events_dir.parent / "keys")])
    deps = AgentDeps(
        log=log, model=client, registry=registry, global_rules=(PolicyRule(decision="allow"),)
    )
    configs = [
        AgentConfig(name=name, role=ROLE, llm="default", max_steps=STEPS + 2) for name in names
    ]
    by_name = {config.name: config for config in configs}

    def runtime_config(name: str, created: AgentCreated) -> AgentConfig:
        return by_name[name]

    supervisor = Supervisor(lambda _: deps, log)
    try:
        async with bus.subscribe(topics.AGENT_STARTED) as started:
            await supervisor.start(configs, runtime_config)
            waiting = set(names)
            async with asyncio.timeout(600):
                while waiting:
                    waiting.discard((await started.next(600)).agent or "")
        yield supervisor, log, bus
    finally:
        await supervisor.shutdown()
        await client.aclose()
        bus.close()
        await log.close()


async def concurrent_turns(root: Path, base_url: str, count: int) -> dict[str, float]:
    names = agent_names(count)
    async with agents(root / "events", base_url, names) as (supervisor, log, bus):
        first = log.last_seq
        async with bus.subscribe(topics.AGENT_TURN_COMPLETED) as completed:
            started = perf_counter()
            turns = {await supervisor.prompt(name, "go") for name in names}
            statuses: dict[str, str] = {}
            async with asyncio.timeout(1200):
                while len(statuses) < len(turns):
                    event = await completed.next(1200)
                    if event.turn in turns:
                        statuses[event.turn] = event.type
            elapsed = perf_counter() - started
        events = log.last_seq - first
    failed = [status for status in statuses.values() if status != "completed"]
    if failed:
        raise SystemExit(f"{len(failed)} of {count} turns did not complete: {set(failed)}")
    return {"wall_s": elapsed, "events": events, "events_per_s": events / elapsed}


async def idle_rss(root: Path, base_url: str, count: int) -> float:
    """RSS growth per idle agent, in KB."""
    process = psutil.Process()
    async with agents(root / "events-warm", base_url, agent_names(1)):
        pass  # import and warm everything once, so only the agents are counted
    gc.collect()
    before = process.memory_info().rss
    async with agents(root / "events-idle", base_url, agent_names(count)):
        gc.collect()
        after = process.memory_info().rss
    return (after - before) / count / 1024


async def turn_template(root: Path, base_url: str) -> list[Event]:
    """The events of one real 3-step turn, to copy into a big log."""
    async with agents(root / "events-template", base_url, ["t"]) as (supervisor, log, bus):
        async with bus.subscribe(topics.AGENT_TURN_COMPLETED, agent="t") as completed:
            turn = await supervisor.prompt("t", "go")
            await completed.next(60)
        page = await log.query(EventQuery(turn=turn, limit=1000))
    return page.events


async def build_log(events_dir: Path, template: list[Event], names: list[str], total: int) -> None:
    log = await EventLog.open(events_dir)
    written = 0
    try:
        while written < total:
            batch: list[NewEvent] = []
            for name in names:
                turn = new_turn_id()
                batch += [
                    NewEvent(
                        topic=e.topic,
                        type=e.type,
                        agent=name,
                        turn=turn,
                        source=e.source,
                        data=e.data,
                    )
                    for e in template
                ]
                if len(batch) >= 2000:
                    await log.append_many(batch)
                    written += len(batch)
                    batch = []
                if written >= total:
                    break
            if batch:
                await log.append_many(batch)
                written += len(batch)
    finally:
        await log.close()


async def recovery(root: Path, base_url: str, count: int, total: int) -> dict[str, float]:
    template = await turn_template(root, base_url)
    names = agent_names(count)
    events_dir = root / f"events-{total}"
    built = perf_counter()
    await build_log(events_dir, template, names, total)
    build_s = perf_counter() - built
    gc.collect()
    started = perf_counter()
    async with agents(events_dir, base_url, names) as (_, log, _bus):
        elapsed = perf_counter() - started
        size = log.last_seq
    return {"events": size, "recovery_s": elapsed, "build_s": build_s}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, default=1000)
    parser.add_argument("--log-events", type=int, nargs="*", default=[100_000, 1_000_000])
    args = parser.parse_args()
    with three_step_llm() as base_url, tempfile.TemporaryDirectory(prefix="sw-agents-") as tmp:
        root = Path(tmp)
        turns = asyncio.run(concurrent_turns(root / "concurrent", base_url, args.agents))
        print(
            f"| {args.agents:,} agents x one {STEPS}-step turn, concurrently | all completed; "
            f"{turns['wall_s']:.1f} s wall, {turns['events']:,.0f} events, "
            f"{turns['events_per_s']:,.0f} events/s |"
        )
        rss = asyncio.run(idle_rss(root / "idle", base_url, args.agents))
        print(f"| RSS per idle agent ({args.agents:,} agents) | {rss:.1f} KB |")
        for total in args.log_events:
            row = asyncio.run(recovery(root / f"recovery-{total}", base_url, args.agents, total))
            print(
                f"| recovery of {args.agents:,} agents from {row['events']:,} events | "
                f"{row['recovery_s']:.2f} s (log built in {row['build_s']:.0f} s) |"
            )


if __name__ == "__main__":
    main()
