"""The control API driven by `curl --unix-socket`, as an operator would from a shell."""

from __future__ import annotations

import json
import shutil

import pytest

from sysward.llm.scripted import ScriptedLlmServer, text_completion

from .daemon import DaemonProcess, curl, read_sse

pytestmark = [
    pytest.mark.asyncio(loop_scope="module"),
    pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed"),
]


async def test_health_and_openapi(module_daemon: DaemonProcess) -> None:
    health = await curl(module_daemon.socket_path, "GET", "/v1/health")
    assert health.status == 200
    assert health.json()["status"] == "ok"
    openapi = await curl(module_daemon.socket_path, "GET", "/v1/openapi.json")
    assert "/v1/events/stream" in openapi.json()["paths"]


async def test_agent_lifecycle_with_curl_d(module_daemon: DaemonProcess) -> None:
    sock = module_daemon.socket_path
    # Plain `curl -d` declares form encoding; the API reads every body as JSON.
    created = await curl(sock, "POST", "/v1/agents", "-d", '{"name": "c1", "role": "default"}')
    assert created.status == 201, created.body
    assert (await curl(sock, "GET", "/v1/agents/c1")).json()["name"] == "c1"
    assert "c1" in [agent["name"] for agent in (await curl(sock, "GET", "/v1/agents")).json()]
    assert (await curl(sock, "POST", "/v1/agents/c1/stop")).json()["state"] == "stopped"
    assert (await curl(sock, "POST", "/v1/agents/c1/start")).status == 200
    assert (await curl(sock, "DELETE", "/v1/agents/c1")).status == 204
    gone = await curl(sock, "GET", "/v1/agents/c1")
    assert gone.status == 404
    assert gone.json()["error"]["code"] == "agent_not_found"


async def test_prompt_turn_history_and_events(
    module_daemon: DaemonProcess, module_llm: ScriptedLlmServer
) -> None:
    sock = module_daemon.socket_path
    await curl(sock, "POST", "/v1/agents", "--json", '{"name": "c2", "role": "default"}')
    module_llm.enqueue(text_completion("curl answer"))
    streamed = await curl(
        sock, "POST", "/v1/agents/c2/prompt", "-N", "--json", '{"text": "hi", "wait": true}'
    )
    assert streamed.status == 200
    data = [line[6:] for line in streamed.body.splitlines() if line.startswith("data: ")]
    turn = json.loads(data[0])["turn"]
    assert json.loads(data[-1])["topic"] == "agent.turn_completed"
    info = (await curl(sock, "GET", f"/v1/turns/{turn}")).json()
    assert info["answer"] == "curl answer"
    history = (await curl(sock, "GET", "/v1/agents/c2/history")).json()
    assert [message["role"] for message in history["messages"]] == ["user", "assistant"]
    events = (await curl(sock, "GET", "/v1/events?agent=c2&topic=agent.prompt")).json()
    assert [event["turn"] for event in events["events"]] == [turn]
    module_llm.verify()


async def test_prompt_without_wait_is_202(
    module_daemon: DaemonProcess, module_llm: ScriptedLlmServer
) -> None:
    sock = module_daemon.socket_path
    await curl(sock, "POST", "/v1/agents", "--json", '{"name": "c3", "role": "default"}')
    module_llm.enqueue(text_completion("later"))
    accepted = await curl(sock, "POST", "/v1/agents/c3/prompt", "--json", '{"text": "hi"}')
    assert accepted.status == 202
    turn = accepted.json()["turn"]
    info = await curl(sock, "GET", f"/v1/turns/{turn}")
    assert info.json()["status"] in ("pending", "running", "completed")
    async with (
        module_daemon.client() as client,
        client.stream("GET", "/v1/events/stream", params={"agent": "c3", "since": 0}) as stream,
    ):
        await read_sse(stream, until=lambda m: m.event == "agent.turn_completed")
    assert (await curl(sock, "GET", f"/v1/turns/{turn}")).json()["status"] == "completed"


async def test_event_stream_replays_from_since(module_daemon: DaemonProcess) -> None:
    streamed = await curl(
        module_daemon.socket_path,
        "GET",
        "/v1/events/stream?since=0&topic=daemon.*",
        "-N",
        "--max-time",
        "1",
    )
    assert streamed.exit_code == 28  # the stream stays open until curl gives up
    assert "id: 1\nevent: daemon.started\ndata: {" in streamed.body


async def test_tools_approvals_verify_metrics(module_daemon: DaemonProcess) -> None:
    sock = module_daemon.socket_path
    assert "crypto" in [tool["name"] for tool in (await curl(sock, "GET", "/v1/tools")).json()]
    assert (await curl(sock, "GET", "/v1/approvals")).json() == []
    decided = await curl(sock, "POST", "/v1/approvals/x1", "--json", '{"decision": "deny"}')
    assert decided.status == 404
    assert (await curl(sock, "POST", "/v1/log/verify")).json()["ok"] is True
    metrics = await curl(sock, "GET", "/metrics")
    assert "# TYPE sysward_events_last_seq gauge" in metrics.body


async def test_error_shapes(module_daemon: DaemonProcess) -> None:
    sock = module_daemon.socket_path
    broken = await curl(sock, "POST", "/v1/agents", "-d", '{"name": ')
    assert broken.status == 400
    assert broken.json()["error"]["code"] == "invalid_json"
    missing = await curl(sock, "GET", "/v1/turns/t_missing")
    assert missing.status == 404
    assert set(missing.json()["error"]) == {"code", "message", "details"}
