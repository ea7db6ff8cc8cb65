"""Triggers in a real syswardd: a schedule due within seconds starts a turn that names
the trigger; SIGHUP adds a trigger live; after a SIGKILL the debounce and the firing
hold (no second turn), as `sysward triggers` would show over the socket."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path
from typing import Any

from sysward.llm.scripted import ScriptedLlmServer, text_completion

from .conftest import launch_in
from .daemon import DaemonLauncher, DaemonProcess
from .test_reload_notify import reload_with

WAIT_S = 15.0
SCHEDULE = """
[triggers.tick]
source = "schedule"
agent = "ops"
on_calendar = "*:*:0/1"
prompt = "It is {due}. Report the load."
debounce_s = 3600
"""
PATH = """
[triggers.dropped]
source = "path"
agent = "ops"
path = "{watch}"
events = ["create"]
prompt = "{{path}} appeared."
"""


async def events(daemon: DaemonProcess, topic: str) -> list[dict[str, Any]]:
    async with daemon.client() as client:
        page = (await client.get("/v1/events", params={"topic": topic, "limit": 1000})).json()
    found: list[dict[str, Any]] = page["events"]
    return found


async def until(daemon: DaemonProcess, topic: str, count: int) -> list[dict[str, Any]]:
    async with asyncio.timeout(WAIT_S):
        while len(found := await events(daemon, topic)) < count:  # noqa: ASYNC110
            await asyncio.sleep(0.05)
    return found


async def test_a_schedule_fires_a_turn_once_across_reload_and_sigkill(
    launcher: DaemonLauncher, llm: ScriptedLlmServer, short_tmp: Path
) -> None:
    llm.enqueue(text_completion("load is 0.1"))
    directory = short_tmp / "host"
    directory.mkdir()
    daemon = await launch_in(launcher, directory, llm.base_url, extra=SCHEDULE)
    [completed] = await until(daemon, "agent.turn_completed", 1)
    [fired] = await events(daemon, "trigger.fired")
    [prompt] = await events(daemon, "agent.prompt")
    assert fired["turn"] == prompt["turn"] == completed["turn"]
    assert fired["data"]["key"].startswith("due:")
    assert prompt["data"]["text"] == f"It is {fired['data']['fields']['due']}. Report the load."
    assert prompt["context"]["trigger"] == "tick"
    assert prompt["context"]["trigger_seq"] == fired["seq"]
    async with daemon.client() as client:
        turn = await client.get(f"/v1/turns/{fired['turn']}")
    assert turn.status_code == 200, turn.text
    shown = turn.json()
    assert shown["events"][0]["topic"] == "trigger.fired", shown

    watch = directory / "watched"
    watch.mkdir()
    reloaded = await reload_with(
        daemon, PATH.format(watch=watch), "serving; configuration reloaded"
    )
    assert "triggers.dropped" in reloaded["data"]["changed"]
    assert reloaded["data"]["restart_required"] == []
    async with daemon.client() as client:
        listed = {t["name"]: t for t in (await client.get("/v1/triggers")).json()}
    assert set(listed) == {"tick", "dropped"}
    assert listed["tick"]["firings"] == 1 and listed["tick"]["state"] == "watching"

    await daemon.kill()
    assert daemon.process.returncode == -signal.SIGKILL
    again = await launch_in(launcher, directory, llm.base_url, extra=SCHEDULE)
    await asyncio.sleep(2.5)  # two more due times pass: both within the debounce
    assert len(await events(again, "trigger.fired")) == 1
    assert len(await events(again, "agent.turn_completed")) == 1
    suppressed = await until(again, "trigger.suppressed", 1)
    assert suppressed[0]["data"]["reasons"] == {"debounce": 1}
    assert llm.call_count == 1
    assert await again.terminate() == 0
