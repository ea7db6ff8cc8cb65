"""A real syswardd adopts the background processes its bash commands leave behind (child
subreaper) and reaps them when they exit, so no zombie outlives its grace period."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sysward.llm.scripted import (
    ScriptedLlmServer,
    native_call,
    text_completion,
    tool_calls_completion,
)

from .api import run_turn
from .conftest import ALLOW_EVERYTHING, LaunchWithConfig

REAP_WAIT_S = 15.0


def parent_and_state(pid: int) -> tuple[int, str] | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return None
    fields = stat[stat.rfind(")") + 2 :].split()
    return int(fields[1]), fields[0]


async def test_an_orphaned_background_process_is_adopted_and_reaped(
    launch_with_config: LaunchWithConfig, llm: ScriptedLlmServer
) -> None:
    daemon = await launch_with_config(ALLOW_EVERYTHING)
    # The background sleep outlives bash: without a subreaper it would go to PID 1,
    # which on this machine never reaps it.
    command = "sleep 2 >/dev/null 2>&1 & echo $!"
    llm.enqueue(
        tool_calls_completion(native_call("bash_exec", {"command": command}, call_id="b")),
        text_completion("started"),
    )
    async with daemon.client() as client:
        turn = await run_turn(client, "ops", "start something in the background")
    llm.verify()
    (result,) = [event for event in turn[1:] if event["topic"] == "tool.bash"]
    orphan = int(result["data"]["result"]["output"]["stdout"])

    adopted = parent_and_state(orphan)
    assert adopted is not None, "the background process ended before it could be checked"
    assert adopted[0] == daemon.process.pid
    async with asyncio.timeout(REAP_WAIT_S):
        while parent_and_state(orphan) is not None:  # noqa: ASYNC110 (no event tells a reap)
            await asyncio.sleep(0.1)
    assert await daemon.terminate() == 0
