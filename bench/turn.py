"""What durability costs per agent step: sysward's agent loop beside LangGraph and DBOS.

    .venv/bin/python bench/turn.py [--steps 100] [--runs 5] [--anchor PATH]

One step = one POST to a loopback OpenAI-compatible fake that answers at once
with a `crypto_sha256` tool call (it reads the request without parsing it) +
the sha256 tool call + everything sysward persists for it. sysward runs its
real loop (Supervisor, Agent, StepRunner, CryptoTool, OpenAIChatClient) over:

- `sysward-lmdb`: the production log, every commit synced to disk;
- `sysward-tmpfs`: the very same log on /dev/shm, where a flush costs nothing,
  so the difference is what the disk costs and the rest is our software.

In the same run, interleaved, `../shared/bench/anchor_loop.py` runs the same
loop plain (httpx, no persistence), with LangGraph + SqliteSaver (sync
durability) and with DBOS on SQLite; install them with `make bench` (the
`bench` extra). Without the anchor script, only sysward's rows are printed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import statistics
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from time import perf_counter

from sysward.agents.agent import AgentConfig, AgentDeps
from sysward.agents.payloads import AgentCreated
from sysward.agents.roles import Role
from sysward.agents.supervisor import Supervisor
from sysward.config import LlmEndpoint, PolicyRule
from sysward.events import topics
from sysward.events.bus import EventBus
from sysward.events.log import EventLog
from sysward.events.query import EventQuery
from sysward.llm import OpenAIChatClient
from sysward.policy.redaction.redactor import Redactor
from sysward.tools import ToolRegistry
from sysward.tools.crypto import CryptoTool

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_ANCHOR = ROOT.parent / "shared" / "bench" / "anchor_loop.py"
ANCHORS = ("plain", "langgraph", "dbos")
TMPFS = Path("/dev/shm")

TOOL_CALL = json.dumps(
    {
        "choices": [
            {
                "index": 0,
                "finish_reason": "tool_calls",
                "message": {
                    "role": "assistant",
                    "content": None,
                    "tool_calls": [
                        {
                            "id": "c1",
                            "type": "function",
                            "function": {"name": "crypto_sha256", "arguments": '{"data": "x"}'},
                        }
                    ],
                },
            }
        ]
    }
).encode()

ROLE = Role(name="bench", description="turn benchmark", prompt="You hash.", tools=["crypto"])


class InstantLlm(BaseHTTPRequestHandler):
    """The anchors' fake: read the body, answer the same tool call, no parsing."""

    disable_nagle_algorithm = True
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: object) -> None:
        pass

    def answer(self, body: bytes) -> bytes:
        return TOOL_CALL

    def do_POST(self) -> None:
        answer = self.answer(self.rfile.read(int(self.headers.get("Content-Length", 0))))
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)


class _Server(ThreadingHTTPServer):
    request_queue_size = 1024  # a thousand agents connect at once in bench/agents.py


@contextmanager
def instant_llm(handler: type[InstantLlm] = InstantLlm) -> Iterator[str]:
    """A loopback server in a thread of this process, as the anchors run theirs; its base URL."""
    server = _Server(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    finally:
        server.shutdown()
        server.server_close()


@dataclass(frozen=True)
class TurnRun:
    ms_per_step: float
    steps: int
    events: int


async def sysward_turn(events_dir: Path, base_url: str, steps: int) -> TurnRun:
    """One agent, one turn of `steps` tool-calling steps through the real loop."""
    # As the daemon opens it: every event's data passes the redactor before it is stored.
    log = await EventLog.open(events_dir, scrub=Redactor().redact_data)
    bus = EventBus(log)
    client = OpenAIChatClient(
        LlmEndpoint(base_url=base_url, model="fake", max_retries=0, timeout_s=30)
    )
    registry = ToolRegistry([CryptoTool(events_dir.parent / "keys")])
    deps = AgentDeps(
        log=log, model=client, registry=registry, global_rules=(PolicyRule(decision="allow"),)
    )
    config = AgentConfig(name="bench", role=ROLE, llm="default", max_steps=steps)

    def runtime_config(name: str, created: AgentCreated) -> AgentConfig:
        return config

    supervisor = Supervisor(lambda _: deps, log)
    try:
        await supervisor.start([config], runtime_config)
        async with bus.subscribe(topics.AGENT_TURN_COMPLETED, agent="bench") as completed:
            started = perf_counter()
            turn = await supervisor.prompt("bench", "go")
            async with asyncio.timeout(120 + steps):
                event = await completed.next(120 + steps)
            elapsed = perf_counter() - started
        if event.turn != turn or event.type != "failed" or "max_steps" not in str(event.data):
            raise SystemExit(f"the benchmark turn ended unexpectedly: {event.type} {event.data}")
        page = await log.query(EventQuery(turn=turn, limit=10 * steps + 100))
        replies = [e for e in page.events if e.topic == topics.AGENT_LLM_RESPONSE]
        if len(replies) != steps:
            raise SystemExit(f"expected {steps} LLM calls, the log holds {len(replies)}")
        return TurnRun(elapsed * 1000 / steps, steps, len(page.events))
    finally:
        await supervisor.shutdown()
        await client.aclose()
        bus.close()
        await log.close()


def run_sysward(where: Path, base_url: str, steps: int) -> TurnRun:
    with tempfile.TemporaryDirectory(prefix="sw-turn-", dir=where) as directory:
        return asyncio.run(sysward_turn(Path(directory) / "events", base_url, steps))


_ANCHOR_LINE = re.compile(r"^(\w+)\s+median\s+([\d.]+|nan) ms/step", re.MULTILINE)


def run_anchors(anchor: Path, steps: int) -> dict[str, float]:
    """One run of each anchor loop in its own process; ms/step by name (nan when it failed)."""
    done = subprocess.run(
        [sys.executable, str(anchor), str(steps), "1", *ANCHORS],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    found = {name: float(ms) for name, ms in _ANCHOR_LINE.findall(done.stdout)}
    for line in done.stdout.splitlines():
        if "failed" in line:
            print(f"  anchor {line}", file=sys.stderr)
    if done.returncode != 0:
        print(f"  anchor_loop exited {done.returncode}: {done.stderr[-500:]}", file=sys.stderr)
    return found


def table(results: dict[str, list[float]]) -> str:
    medians = {name: statistics.median(values) for name, values in results.items() if values}
    plain = medians.get("plain")
    overheads = {name: ms - plain for name, ms in medians.items()} if plain is not None else {}
    rows = [
        "| loop | ms/step (median) | min-max | overhead over plain (ms) "
        "| sysward-lmdb's overhead, x less |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    ours = overheads.get("sysward-lmdb")
    for name, ms in medians.items():
        values = results[name]
        overhead = overheads.get(name)
        ratio = ""
        if ours and overhead is not None and name in ("langgraph", "dbos") and overhead == overhead:
            ratio = f"{overhead / ours:.2f}x"
        shown = f"{overhead:+.3f}" if overhead is not None else ""
        rows.append(
            f"| {name} | {ms:.3f} | {min(values):.3f}-{max(values):.3f} | {shown} | {ratio} |"
        )
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=100, help="steps per turn")
    parser.add_argument("--runs", type=int, default=5, help="runs of every loop, interleaved")
    parser.add_argument("--anchor", type=Path, default=DEFAULT_ANCHOR, help="anchor_loop.py")
    args = parser.parse_args()
    anchor = args.anchor if args.anchor.is_file() else None
    if anchor is None:
        print(f"no {args.anchor}: LangGraph/DBOS/plain rows skipped", file=sys.stderr)
    disk = Path(tempfile.gettempdir())
    results: dict[str, list[float]] = {"sysward-lmdb": [], "sysward-tmpfs": []}
    events = 0
    with instant_llm() as base_url:
        for run in range(args.runs):  # interleaved, so the machine's drift hits all alike
            durable = run_sysward(disk, base_url, args.steps)
            results["sysward-lmdb"].append(durable.ms_per_step)
            results["sysward-tmpfs"].append(run_sysward(TMPFS, base_url, args.steps).ms_per_step)
            events = durable.events
            if anchor is not None:
                for name, ms in run_anchors(anchor, args.steps).items():
                    results.setdefault(name, []).append(ms)
            print(f"run {run + 1}/{args.runs} done", file=sys.stderr)
    print(f"{args.steps} steps x {args.runs} runs; {events / args.steps:.1f} events per step")
    print(table(results))


if __name__ == "__main__":
    main()
