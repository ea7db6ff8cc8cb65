"""Every tool family, driven through a real agent by the scripted model.

A real log, the real tool catalog, the real OpenAI-compatible client and a
scripted server on 127.0.0.1: the model asks for one call of each family in
one step (parallel native tool calls), then answers. There is no system bus
or systemd on this machine, so systemd and dbus must answer with a clear
`unavailable` error result — the agent carries on either way.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from sysward.agents.agent import AgentConfig, AgentDeps
from sysward.agents.roles import default_roles
from sysward.agents.supervisor import Supervisor
from sysward.config import LlmEndpoint, PolicyRule
from sysward.events.bus import EventBus
from sysward.events.log import EventLog
from sysward.events.query import EventQuery
from sysward.llm import OpenAIChatClient
from sysward.llm.scripted import (
    ScriptedLlmServer,
    native_call,
    text_completion,
    tool_calls_completion,
)
from sysward.tools import ToolRegistry
from sysward.tools.catalog import ToolOptions, build_tools


def calls_for(tmp: Path) -> dict[str, tuple[str, dict[str, Any]]]:
    """call id -> (function name, arguments): one call of every family."""
    return {
        "bash": ("bash_exec", {"command": "echo hello from bash"}),
        "file": ("file_write", {"path": str(tmp / "note.txt"), "content": "written by agent"}),
        "net": ("net_interfaces", {"name": "lo"}),
        "proc": ("proc_info", {"pid": os.getpid()}),
        "systemd": ("systemd_status", {"unit": "ssh.service"}),
        "dbus": ("dbus_list", {}),
        "udev": ("udev_list", {"subsystem": "net"}),
        "crypto": ("crypto_sha256", {"data": "abc"}),
        "inotify": ("inotify_watch", {"path": str(tmp)}),
    }


async def test_an_agent_drives_every_tool_family(tmp_path: Path) -> None:
    calls = calls_for(tmp_path)
    script = [
        tool_calls_completion(
            *(
                native_call(name, args, call_id=f"c_{family}")
                for family, (name, args) in calls.items()
            )
        ),
        text_completion("all nine families answered"),
    ]
    log = await EventLog.open(tmp_path / "events")
    bus = EventBus(log)
    registry = ToolRegistry(build_tools(ToolOptions(key_dir=tmp_path / "keys")))
    async with ScriptedLlmServer(script) as server:
        model = OpenAIChatClient(LlmEndpoint(base_url=server.base_url, model="scripted"))
        deps = AgentDeps(
            log=log, model=model, registry=registry, global_rules=(PolicyRule(decision="allow"),)
        )
        config = AgentConfig(
            name="ops", role=default_roles()["sysadmin"], llm="default", max_steps=5
        )
        supervisor = Supervisor(lambda _: deps, log)
        await supervisor.start([config], lambda name, created: config)
        async with bus.subscribe("agent.turn_completed") as completed:
            await supervisor.prompt("ops", "exercise every tool family")
            done = await completed.next(timeout_s=60)
        await supervisor.shutdown()
        await model.aclose()
        server.verify()
    results = await tool_results(log)
    await registry.aclose()
    await log.close()

    assert done.data["status"] == "completed"
    assert set(results) == {f"c_{family}" for family in calls}
    for family in ("bash", "file", "net", "proc", "udev", "crypto", "inotify"):
        assert results[f"c_{family}"]["ok"], (family, results[f"c_{family}"])
    assert results["c_bash"]["output"]["stdout"] == "hello from bash\n"
    assert (tmp_path / "note.txt").read_text() == "written by agent"
    assert results["c_crypto"]["output"]["hex"].startswith("ba7816bf")
    for family in ("systemd", "dbus"):
        result = results[f"c_{family}"]
        if not result["ok"]:  # no system bus here: a clear error, not a crash
            assert result["error"]["code"] == "unavailable", result


async def tool_results(log: EventLog) -> dict[str, dict[str, Any]]:
    page = await log.query(EventQuery(topic="tool.*", agent="ops"))
    return {e.data["call_id"]: e.data["result"] for e in page.events}  # type: ignore[misc]
