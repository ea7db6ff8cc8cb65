"""SIGTERM (drain, `daemon.stopping`, exit 0, resume on restart), SIGHUP (reload good and
bad) and sd_notify (READY, STATUS, STOPPING, WATCHDOG) of a real syswardd."""

from __future__ import annotations

import signal
from typing import Any

import httpx

from sysward.llm.scripted import (
    ScriptedLlmServer,
    ScriptedReply,
    native_call,
    text_completion,
    tool_calls_completion,
)

from .daemon import DaemonLauncher, DaemonProcess, read_sse


async def events_of(daemon: DaemonProcess, **params: Any) -> list[dict[str, Any]]:
    async with daemon.client() as client:
        page = (await client.get("/v1/events", params={"limit": 10_000, **params})).json()
    events: list[dict[str, Any]] = page["events"]
    return events


async def wait_turn_completed(daemon: DaemonProcess, agent: str) -> dict[str, Any]:
    """The agent's first `agent.turn_completed`, read from the stream (replayed or live)."""
    async with (
        daemon.client() as client,
        client.stream("GET", "/v1/events/stream", params={"agent": agent, "since": 0}) as stream,
    ):
        messages = await read_sse(stream, until=lambda m: m.event == "agent.turn_completed")
    completed: dict[str, Any] = messages[-1].json()
    return completed


async def prompt(daemon: DaemonProcess, agent: str, text: str) -> str:
    async with daemon.client() as client:
        response = await client.post(f"/v1/agents/{agent}/prompt", json={"text": text})
    assert response.status_code == 202, response.text
    turn: str = response.json()["turn"]
    return turn


async def next_event(daemon: DaemonProcess, topic: str, since: int) -> dict[str, Any]:
    async with (
        daemon.client() as client,
        client.stream(
            "GET", "/v1/events/stream", params={"topic": topic, "since": since}
        ) as stream,
    ):
        messages = await read_sse(stream, until=lambda m: m.event == topic)
    event: dict[str, Any] = messages[-1].json()
    return event


async def last_seq(daemon: DaemonProcess) -> int:
    async with daemon.client() as client:
        seq: int = (await client.get("/v1/health")).json()["last_seq"]
    return seq


# -- SIGTERM -----------------------------------------------------------------------------


async def test_sigterm_lets_the_llm_step_finish_then_restart_completes_the_turn(
    launcher: DaemonLauncher, llm: ScriptedLlmServer
) -> None:
    llm.enqueue(
        ScriptedReply(
            body=tool_calls_completion(native_call("crypto_sha256", {"data": "a"}, call_id="c1")),
            delay_s=1.0,
        ),
        text_completion("finished after restart"),
    )
    first = await launcher.launch_configured(llm.base_url, agents={"ops": "sysadmin"})
    turn = await prompt(first, "ops", "hash a")
    await llm.wait_for_calls(1)
    first.signal(signal.SIGTERM)
    await first.notify.wait_for("STOPPING=1")
    async with first.client() as client:
        refused = await client.post("/v1/agents", json={"name": "late", "role": "default"})
        health = (await client.get("/v1/health")).json()
    assert refused.status_code == 503
    assert refused.json()["error"]["code"] == "stopping"
    assert health["status"] == "stopping"
    assert await first.wait_exit() == 0

    second = await launcher.launch_configured(llm.base_url, agents={"ops": "sysadmin"})
    completed = await wait_turn_completed(second, "ops")
    assert completed["turn"] == turn
    assert completed["data"]["answer"] == "finished after restart"
    events = await events_of(second)
    topics = [event["topic"] for event in events]
    stopping = next(event for event in events if event["topic"] == "daemon.stopping")
    assert stopping["data"]["interrupted_agents"] == []
    assert topics.index("agent.llm_response") < topics.index("daemon.stopping")
    assert llm.call_count == 2  # the completed LLM call was not made again
    llm.verify()


async def test_sigterm_cancels_a_step_past_the_stop_timeout_and_it_resumes(
    launcher: DaemonLauncher, llm: ScriptedLlmServer
) -> None:
    llm.enqueue(
        ScriptedReply(body=text_completion("too late"), delay_s=5.0),
        text_completion("answered on restart"),
    )
    args = ["--stop-timeout", "0.3"]
    first = await launcher.launch_configured(llm.base_url, agents={"ops": "default"}, args=args)
    turn = await prompt(first, "ops", "slow question")
    await llm.wait_for_calls(1)
    first.signal(signal.SIGTERM)
    assert await first.wait_exit() == 0

    second = await launcher.launch_configured(llm.base_url, agents={"ops": "default"})
    completed = await wait_turn_completed(second, "ops")
    assert completed["turn"] == turn
    assert completed["data"]["answer"] == "answered on restart"
    stopping = (await events_of(second, topic="daemon.stopping"))[0]
    assert stopping["data"]["interrupted_agents"] == ["ops"]
    assert (await events_of(second, topic="agent.llm_response")) != []
    llm.verify()


async def test_sigterm_on_an_idle_daemon_exits_0_and_removes_its_socket(
    launcher: DaemonLauncher, llm: ScriptedLlmServer
) -> None:
    daemon = await launcher.launch_configured(llm.base_url)
    assert "READY=1" in daemon.notify.lines
    assert any(line.startswith("STATUS=serving on ") for line in daemon.notify.lines)
    assert await daemon.terminate() == 0
    assert "STOPPING=1" in daemon.notify.lines
    assert not daemon.socket_path.exists()


async def test_sigint_stops_like_sigterm(launcher: DaemonLauncher, llm: ScriptedLlmServer) -> None:
    daemon = await launcher.launch_configured(llm.base_url)
    daemon.signal(signal.SIGINT)
    assert await daemon.wait_exit() == 0


async def test_watchdog_is_fed_when_systemd_asks(
    launcher: DaemonLauncher, llm: ScriptedLlmServer
) -> None:
    daemon = await launcher.launch_configured(llm.base_url, env={"WATCHDOG_USEC": "100000"})
    await daemon.notify.wait_for("WATCHDOG=1", timeout_s=5)
    assert await daemon.terminate() == 0


async def test_no_watchdog_pings_without_watchdog_usec(
    launcher: DaemonLauncher, llm: ScriptedLlmServer
) -> None:
    daemon = await launcher.launch_configured(llm.base_url)
    assert await daemon.terminate() == 0
    assert "WATCHDOG=1" not in daemon.notify.lines


# -- SIGHUP ------------------------------------------------------------------------------


async def test_sighup_applies_a_good_config_and_reports_what_changed(
    launcher: DaemonLauncher, llm: ScriptedLlmServer
) -> None:
    daemon = await launcher.launch_configured(llm.base_url)
    assert daemon.config_path is not None
    config = daemon.config_path.read_text()
    daemon.config_path.write_text(
        config.replace('allowed_groups = ["sysward-e2e-nobody"]', 'allowed_groups = ["adm"]')
        + '\n[llm.other]\nbase_url = "http://127.0.0.1:9/v1"\nmodel = "m"\n'
    )
    roles_dir = daemon.config_path.parent / "roles"
    roles_dir.mkdir()
    (roles_dir / "auditor.toml").write_text(
        'description = "audits"\nprompt = "You audit."\ntools = ["crypto"]\n'
    )
    since = await last_seq(daemon)
    daemon.signal(signal.SIGHUP)
    reloaded = await next_event(daemon, "daemon.reloaded", since)
    assert reloaded["type"] == "reloaded"
    assert reloaded["data"]["changed"] == ["daemon.allowed_groups", "llm.other", "roles.auditor"]
    assert reloaded["data"]["restart_required"] == ["llm.other"]
    async with daemon.client() as client:
        created = await client.post("/v1/agents", json={"name": "aud", "role": "auditor"})
    assert created.status_code == 201, created.text
    assert await daemon.terminate() == 0


async def test_sighup_rejects_a_bad_config_and_keeps_the_old_one(
    launcher: DaemonLauncher, llm: ScriptedLlmServer
) -> None:
    daemon = await launcher.launch_configured(llm.base_url, agents={"ops": "default"})
    assert daemon.config_path is not None
    daemon.config_path.write_text(
        daemon.config_path.read_text() + "\n[agents.bad]\nmax_steps = -5\n"
    )
    since = await last_seq(daemon)
    daemon.signal(signal.SIGHUP)
    rejected = await next_event(daemon, "daemon.reloaded", since)
    assert rejected["type"] == "rejected"
    assert "agents.bad.max_steps" in rejected["data"]["error"]
    assert "sysward.toml:" in rejected["data"]["error"]
    async with daemon.client() as client:
        assert (await client.get("/v1/health")).json()["status"] == "ok"
        agents = [agent["name"] for agent in (await client.get("/v1/agents")).json()]
    assert agents == ["ops"]
    assert "reload rejected" in daemon.stderr
    assert await daemon.terminate() == 0


async def test_sighup_rejects_an_agent_with_an_unknown_role(
    launcher: DaemonLauncher, llm: ScriptedLlmServer
) -> None:
    daemon = await launcher.launch_configured(llm.base_url)
    assert daemon.config_path is not None
    daemon.config_path.write_text(
        daemon.config_path.read_text() + '\n[agents.x]\nrole = "nosuchrole"\n'
    )
    since = await last_seq(daemon)
    daemon.signal(signal.SIGHUP)
    rejected = await next_event(daemon, "daemon.reloaded", since)
    assert rejected["type"] == "rejected"
    assert "nosuchrole" in rejected["data"]["error"]


async def test_events_stream_ends_when_the_daemon_stops(
    launcher: DaemonLauncher, llm: ScriptedLlmServer
) -> None:
    daemon = await launcher.launch_configured(llm.base_url)
    async with (
        daemon.client() as client,
        client.stream("GET", "/v1/events/stream", params={"since": 0}) as stream,
    ):
        lines = stream.aiter_lines()
        first = await read_sse(lines, until=lambda m: m.event == "daemon.started")
        assert first[-1].event == "daemon.started"
        daemon.signal(signal.SIGTERM)
        rest = await read_sse(lines)
    assert [message.event for message in rest][-1:] == ["daemon.stopping"]
    assert await daemon.wait_exit() == 0


async def test_a_client_of_a_stopped_daemon_gets_a_connect_error(
    launcher: DaemonLauncher, llm: ScriptedLlmServer
) -> None:
    daemon = await launcher.launch_configured(llm.base_url)
    assert await daemon.terminate() == 0
    async with daemon.client() as client:
        try:
            await client.get("/v1/health")
        except httpx.ConnectError:
            return
    raise AssertionError("a stopped daemon answered")
