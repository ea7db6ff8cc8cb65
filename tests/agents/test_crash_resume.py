"""Crash-point test: kill the agent's process after every durable event of a turn.

For a 5-step turn (four tool calls, one of them a side-effecting `write`, then
an answer), a real subprocess runs the agent against a real scripted LLM server
on 127.0.0.1 and SIGKILLs itself right after event N is durable, for every N.
A second run resumes from the log. Each time: the turn completes, the
conversation equals the uninterrupted run's (except the one result that must
be reported as interrupted), every LLM call was made exactly once, and the side
effect happened at most once.
"""

from __future__ import annotations

import asyncio
import json
import signal
import sys
from pathlib import Path
from typing import Any

from sysward.events.log import EventLog
from sysward.events.query import EventQuery
from sysward.llm.scripted import (
    ScriptedLlmServer,
    native_call,
    text_completion,
    tool_calls_completion,
)

HARNESS = Path(__file__).parent / "scripts" / "crash_harness.py"
RUN_TIMEOUT_S = 60
MAX_KILL_POINTS = 60


def five_step_script() -> list[dict[str, Any]]:
    return [
        tool_calls_completion(native_call("crypto_sha256", {"data": "abc"}, call_id="c1")),
        tool_calls_completion(native_call("sideeffect_touch", {"note": "once"}, call_id="c2")),
        tool_calls_completion(
            native_call("crypto_encode", {"data": "hi", "encoding": "base58"}, call_id="c3")
        ),
        tool_calls_completion(native_call("crypto_sha256", {"data": "xyz"}, call_id="c4")),
        text_completion("done: hashed, touched, encoded, hashed"),
    ]


async def run_harness(
    state_dir: Path, base_url: str, side_effect: Path, *, crash_after: int = 0
) -> int:
    args = [str(state_dir), base_url, str(side_effect), "--prompt", "do the five steps"]
    if crash_after:
        args += ["--crash-after", str(crash_after)]
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        str(HARNESS),
        *args,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        async with asyncio.timeout(RUN_TIMEOUT_S):
            _, stderr = await process.communicate()
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    if process.returncode not in (0, -signal.SIGKILL):
        raise AssertionError(f"harness failed ({process.returncode}):\n{stderr.decode()}")
    return process.returncode


async def conversation(state_dir: Path) -> tuple[list[dict[str, Any]], list[str]]:
    """The agent's messages (role, content, calls) and the turn's final statuses."""
    log = await EventLog.open(state_dir / "events", readonly=True)
    try:
        page = await log.query(EventQuery(agent="ops", limit=10_000))
        report = await log.verify()
    finally:
        await log.close()
    assert report.ok, report
    messages = [
        without_timing(e.data["message"]) for e in page.events if e.topic == "agent.message"
    ]
    statuses = [e.data["status"] for e in page.events if e.topic == "agent.turn_completed"]
    return messages, statuses  # type: ignore[return-value]


async def run_once(tmp: Path, crash_after: int) -> dict[str, Any]:
    state_dir, side_effect = tmp / f"state-{crash_after}", tmp / f"effect-{crash_after}"
    async with ScriptedLlmServer(five_step_script()) as server:
        first = await run_harness(state_dir, server.base_url, side_effect, crash_after=crash_after)
        second = 0
        if first != 0:
            second = await run_harness(state_dir, server.base_url, side_effect)
        server.verify()
        calls = server.call_count
    messages, statuses = await conversation(state_dir)
    lines = side_effect.read_text().splitlines() if side_effect.exists() else []
    return {
        "killed": first == -signal.SIGKILL,
        "second": second,
        "calls": calls,
        "messages": messages,
        "statuses": statuses,
        "side_effects": len(lines),
    }


def without_timing(message: Any) -> dict[str, Any]:
    """A message with its result's duration_ms removed (timing differs run to run)."""
    if message["role"] != "tool" or not message["content"]:
        return dict(message)
    result = json.loads(message["content"])
    result.get("metadata", {}).pop("duration_ms", None)
    return {**message, "content": json.dumps(result, sort_keys=True)}


def is_interrupted(message: dict[str, Any]) -> bool:
    if message["role"] != "tool" or not message["content"]:
        return False
    result = json.loads(message["content"])
    return not result["ok"] and result["error"]["code"] == "interrupted"


async def test_turn_survives_a_kill_after_every_durable_event(tmp_path: Path) -> None:
    baseline = await run_once(tmp_path, crash_after=0)
    assert baseline["statuses"] == ["completed"]
    assert baseline["calls"] == 5
    assert baseline["side_effects"] == 1
    kills, interrupted_runs = 0, 0
    for crash_after in range(1, MAX_KILL_POINTS):
        outcome = await run_once(tmp_path, crash_after)
        if not outcome["killed"]:
            break  # past the turn's last event: nothing left to kill after
        where = f"killed after event {crash_after}"
        assert outcome["statuses"] == ["completed"], where
        assert outcome["calls"] == 5, f"{where}: LLM calls made {outcome['calls']} times"
        assert outcome["side_effects"] <= 1, f"{where}: side effect ran twice"
        interrupted = [m for m in outcome["messages"] if is_interrupted(m)]
        expected = baseline["messages"]
        if interrupted:
            # Killed between the write's dispatch and its result: reported, not re-run.
            assert len(interrupted) == 1, where
            assert outcome["side_effects"] in (0, 1), where
            got = [m for m in outcome["messages"] if not is_interrupted(m)]
            expected = [m for m in expected if m.get("tool_call_id") != "c2" or m["role"] != "tool"]
            assert got == expected, where
            interrupted_runs += 1
        else:
            assert outcome["messages"] == expected, where
            assert outcome["side_effects"] == 1, where
        kills += int(outcome["killed"])
    # Every event of the uninterrupted turn was a kill point.
    assert kills >= 20, f"only {kills} kill points"
    # The kill between the write's dispatch and its result was among them.
    assert interrupted_runs == 1
