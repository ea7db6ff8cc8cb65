"""SIGKILL between a source event and its turn, at each point: no firing twice, no lost turn.

A real process (scripts/trigger_harness.py) runs the runtime with a path trigger (a
real inotify watch) against a scripted LLM server on 127.0.0.1, creates a file and
kills itself at one point; a second run starts on the same log. Once the firing is
durable its turn completes exactly once, with one LLM call. Before it is durable the
inotify event is gone with the process (the kernel does not replay it): the trigger
then fires not at all, never twice.
"""

from __future__ import annotations

import asyncio
import json
import signal
import sys
from pathlib import Path

import pytest

from sysward.events import topics
from sysward.events.log import EventLog
from sysward.events.query import EventQuery
from sysward.llm.scripted import ScriptedLlmServer, text_completion

HARNESS = Path(__file__).parent / "scripts" / "trigger_harness.py"
RUN_TIMEOUT_S = 60


async def run_harness(state: Path, base_url: str, watch: Path, *extra: str) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        str(HARNESS),
        str(state),
        base_url,
        str(watch),
        *extra,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        async with asyncio.timeout(RUN_TIMEOUT_S):
            stdout, stderr = await process.communicate()
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode in (0, -signal.SIGKILL), stderr.decode()
    return process.returncode, stdout.decode()


async def counts(state: Path) -> dict[str, int]:
    log = await EventLog.open(state / "events", readonly=True)
    try:
        page = await log.query(EventQuery(limit=10_000))
    finally:
        await log.close()
    wanted = (topics.TRIGGER_FIRED, topics.AGENT_PROMPT, topics.AGENT_TURN_COMPLETED)
    return {topic: sum(event.topic == topic for event in page.events) for topic in wanted}


@pytest.mark.parametrize("point", ["after_fired", "after_prompt", "after_reply"])
async def test_a_durable_firing_completes_its_turn_once(tmp_path: Path, point: str) -> None:
    state, watch = tmp_path / "state", tmp_path / "watched"
    watch.mkdir()
    async with ScriptedLlmServer([text_completion("it is a test file")]) as server:
        code, _ = await run_harness(
            state, server.base_url, watch, "--kill", point, "--touch", "new.txt"
        )
        assert code == -signal.SIGKILL, f"the harness was not killed {point}"
        code, out = await run_harness(state, server.base_url, watch)
        assert code == 0 and json.loads(out)["turn"] is not None
        server.verify()  # the one scripted reply was used, and nothing else was asked
        assert server.call_count == 1
    assert await counts(state) == {
        topics.TRIGGER_FIRED: 1,
        topics.AGENT_PROMPT: 1,
        topics.AGENT_TURN_COMPLETED: 1,
    }


async def test_a_kill_before_the_firing_is_durable_never_fires_twice(tmp_path: Path) -> None:
    state, watch = tmp_path / "state", tmp_path / "watched"
    watch.mkdir()
    async with ScriptedLlmServer() as server:
        code, _ = await run_harness(
            state, server.base_url, watch, "--kill", "before_fired", "--touch", "new.txt"
        )
        assert code == -signal.SIGKILL
        code, out = await run_harness(state, server.base_url, watch, "--wait", "1")
        assert code == 0 and json.loads(out)["turn"] is None
        assert server.call_count == 0
    assert await counts(state) == {
        topics.TRIGGER_FIRED: 0,
        topics.AGENT_PROMPT: 0,
        topics.AGENT_TURN_COMPLETED: 0,
    }
