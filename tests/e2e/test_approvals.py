"""Approvals through a real `syswardd`: the scripted model asks for a write (bash exec,
which no rule allows, so policy asks), and the test decides over the control socket."""

from __future__ import annotations

import asyncio
import json
import os
import signal
from pathlib import Path
from typing import Any

import httpx

from sysward.llm.scripted import (
    ScriptedLlmServer,
    native_call,
    text_completion,
    tool_calls_completion,
)

from .api import assert_error
from .daemon import DaemonLauncher, DaemonProcess, read_sse

WAIT_S = 20.0


async def start(
    launcher: DaemonLauncher, llm: ScriptedLlmServer, policy: str = "", name: str = "d"
) -> DaemonProcess:
    """A daemon (agent `ops`, role sysadmin) whose config ends with `policy`."""
    return await launcher.launch_configured(
        llm.base_url, name=name, agents={"ops": "sysadmin"}, extra=policy
    )


def script_append(llm: ScriptedLlmServer, target: Path, answer: str = "done") -> None:
    """The model appends a line to `target` with bash, then answers."""
    command = f"echo ran >> {target}"
    call = native_call("bash_exec", {"command": command}, call_id="c_append")
    llm.enqueue(tool_calls_completion(call), text_completion(answer))


async def prompt(client: httpx.AsyncClient, text: str = "append a line") -> str:
    response = await client.post("/v1/agents/ops/prompt", json={"text": text})
    assert response.status_code == 202, response.text
    turn: str = response.json()["turn"]
    return turn


async def pending_approval(client: httpx.AsyncClient, turn: str) -> dict[str, Any]:
    """The approval of `turn` once it is listed (the agent parks right after its dispatch)."""
    async with asyncio.timeout(WAIT_S):
        while True:
            listed = (await client.get("/v1/approvals")).json()
            mine = [approval for approval in listed if approval["turn"] == turn]
            if mine:
                return mine[0]
            await asyncio.sleep(0.02)


async def finished(client: httpx.AsyncClient, turn: str) -> dict[str, Any]:
    """The turn's info once it has ended."""
    async with asyncio.timeout(WAIT_S):
        while True:
            info: dict[str, Any] = (await client.get(f"/v1/turns/{turn}")).json()
            if info["status"] not in ("pending", "running"):
                return info
            await asyncio.sleep(0.02)


def of(info: dict[str, Any], topic: str) -> list[dict[str, Any]]:
    return [event["data"] for event in info["events"] if event["topic"] == topic]


async def test_an_approved_call_runs_once_and_records_the_approver(
    launcher: DaemonLauncher, llm: ScriptedLlmServer, short_tmp: Path
) -> None:
    target = short_tmp / "lines"
    script_append(llm, target)
    daemon = await start(launcher, llm)
    async with daemon.client() as client:
        turn = await prompt(client)
        approval = await pending_approval(client, turn)
        assert (approval["agent"], approval["tool"], approval["action"]) == ("ops", "bash", "exec")
        assert approval["id"].startswith("ap_") and len(approval["action_sha256"]) == 64
        agent = (await client.get("/v1/agents/ops")).json()
        assert agent["state"] == "awaiting_approval"
        assert not target.exists()
        decided = await client.post(
            f"/v1/approvals/{approval['id']}", json={"decision": "approve", "reason": "ok"}
        )
        assert decided.status_code == 200, decided.text
        assert decided.json()["approver_uid"] == os.getuid()
        info = await finished(client, turn)
        assert info["status"] == "completed"
        assert (await client.get("/v1/approvals")).json() == []
    assert target.read_text() == "ran\n"
    (recorded,) = of(info, "agent.approval_decided")
    assert (recorded["decision"], recorded["approver_uid"]) == ("approve", os.getuid())
    assert recorded["action_sha256"] == approval["action_sha256"]
    assert [d["decision"] for d in of(info, "agent.tool_dispatch")] == ["ask", "allow"]


async def test_a_denial_is_told_to_the_model(
    launcher: DaemonLauncher, llm: ScriptedLlmServer, short_tmp: Path
) -> None:
    target = short_tmp / "lines"
    script_append(llm, target, "I was not allowed")
    daemon = await start(launcher, llm)
    async with daemon.client() as client:
        turn = await prompt(client)
        approval = await pending_approval(client, turn)
        body = {"decision": "deny", "reason": "change freeze"}
        assert (await client.post(f"/v1/approvals/{approval['id']}", json=body)).is_success
        info = await finished(client, turn)
        again = await client.post(f"/v1/approvals/{approval['id']}", json=body)
        assert_error(again, 409, "approval_closed")
    assert info["answer"] == "I was not allowed"
    assert not target.exists()
    tool_messages = [m for m in llm.requests[1].json()["messages"] if m["role"] == "tool"]
    assert "change freeze" in tool_messages[0]["content"]


async def test_an_unanswered_approval_expires(
    launcher: DaemonLauncher, llm: ScriptedLlmServer, short_tmp: Path
) -> None:
    target = short_tmp / "lines"
    script_append(llm, target)
    daemon = await start(launcher, llm, "\n[policy]\napproval_timeout_s = 1\n")
    async with daemon.client() as client:
        info = await finished(client, await prompt(client))
    (decided,) = of(info, "agent.approval_decided")
    assert (decided["decision"], decided["approver_uid"]) == ("expire", None)
    assert "expired after 1 s" in json.dumps(of(info, "tool.bash"))
    assert not target.exists()


async def test_a_pending_approval_survives_a_restart_and_runs_once(
    launcher: DaemonLauncher, llm: ScriptedLlmServer, short_tmp: Path
) -> None:
    target = short_tmp / "lines"
    script_append(llm, target)
    first = await start(launcher, llm)
    async with first.client() as client:
        turn = await prompt(client)
        approval = await pending_approval(client, turn)
    first.signal(signal.SIGTERM)
    assert await first.wait_exit() == 0
    second = await start(launcher, llm)
    async with second.client() as client:
        assert (await pending_approval(client, turn))["id"] == approval["id"]
        body = {"decision": "approve", "reason": ""}
        assert (await client.post(f"/v1/approvals/{approval['id']}", json=body)).is_success
        info = await finished(client, turn)
    assert info["status"] == "completed"
    assert target.read_text() == "ran\n"
    results = of(info, "tool.bash")
    assert len(results) == 1 and not results[0]["interrupted"]


async def test_bad_decisions_are_refused(launcher: DaemonLauncher, llm: ScriptedLlmServer) -> None:
    daemon = await start(launcher, llm)
    async with daemon.client() as client:
        unknown = await client.post("/v1/approvals/ap_nosuch", json={"decision": "approve"})
        assert_error(unknown, 404, "approval_not_found")
        bad = await client.post("/v1/approvals/ap_nosuch", json={"decision": "maybe"})
        assert_error(bad, 400, "invalid_request")


async def test_cancelling_a_running_command_ends_the_turn_quickly(
    launcher: DaemonLauncher, llm: ScriptedLlmServer
) -> None:
    allow_sleep = (
        '\n[[policy.rules]]\ntool = "bash"\naction = "exec"\n'
        'match = { command = "sleep *" }\ndecision = "allow"\n'
    )
    call = native_call("bash_exec", {"command": "sleep 30"}, call_id="c_sleep")
    llm.enqueue(tool_calls_completion(call))
    daemon = await start(launcher, llm, allow_sleep)
    async with daemon.client() as client:
        turn = await prompt(client, "sleep")
        query = {"topic": "agent.tool_dispatch", "since": 0}
        async with asyncio.timeout(WAIT_S):
            async with client.stream("GET", "/v1/events/stream", params=query) as stream:
                await read_sse(stream, until=lambda message: message.event is not None)
        loop = asyncio.get_running_loop()
        started = loop.time()
        cancelled = await client.post(f"/v1/turns/{turn}/cancel")
        assert cancelled.status_code == 200, cancelled.text
        assert loop.time() - started < 5
        assert cancelled.json() == {
            "turn": turn,
            "agent": "ops",
            "status": "cancelled",
            "steps": 1,
            "cancelled_by_uid": os.getuid(),
        }
        info = await finished(client, turn)
        assert_error(await client.post(f"/v1/turns/{turn}/cancel"), 409, "turn_finished")
        assert_error(await client.post("/v1/turns/t_nosuch/cancel"), 404, "turn_not_found")
    assert info["status"] == "cancelled"
    (result,) = of(info, "tool.bash")
    assert result["result"]["error"]["code"] == "cancelled"
