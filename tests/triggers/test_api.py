"""`/v1/triggers` and `sysward triggers` against a real runtime and control socket, with a
path trigger on a real inotify watch."""

from __future__ import annotations

import asyncio
import json
import shutil
import socket
import subprocess
import sys
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from sysward.agents.roles import default_roles
from sysward.control.server import ControlServer
from sysward.daemon.runtime import Runtime, open_runtime
from sysward.daemon.toolset import daemon_tools
from sysward.events import topics
from sysward.events.query import EventQuery
from sysward.llm.scripted import ScriptedLlmServer, text_completion
from tools.systemd_calls import wait_until

from .daemon_config import settings_with

TRIGGER = """
[triggers.dropped]
source = "path"
agent = "ops"
path = "{watch}"
events = ["create"]
prompt = "{{path}} appeared."
"""


@pytest.fixture
def short_tmp() -> Iterator[Path]:
    # A Unix socket path must stay under 108 bytes: pytest's tmp_path can be longer.
    path = Path(tempfile.mkdtemp(prefix="sw", dir="/tmp"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
async def served(short_tmp: Path) -> AsyncIterator[tuple[Runtime, httpx.AsyncClient, Path]]:
    watch = short_tmp / "watched"
    watch.mkdir()
    async with ScriptedLlmServer([text_completion("a test file")]) as llm:
        trigger = TRIGGER.format(watch=watch)
        settings = settings_with(llm.base_url, trigger, short_tmp / "state")
        runtime = await open_runtime(settings, default_roles(), tools=daemon_tools)
        listening = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listening.bind(str(short_tmp / "control.sock"))
        listening.listen()
        server = ControlServer(runtime, heartbeat_s=0.05)
        await server.start(listening)
        transport = httpx.AsyncHTTPTransport(uds=str(short_tmp / "control.sock"))
        try:
            async with httpx.AsyncClient(
                transport=transport, base_url="http://sysward", timeout=10
            ) as client:
                yield runtime, client, watch
        finally:
            await server.stop()
            await runtime.close()


async def wait_watching(client: httpx.AsyncClient) -> dict[str, object]:
    async def watching() -> bool:
        return bool((await client.get("/v1/triggers/dropped")).json()["state"] == "watching")

    await wait_until(watching, "trigger watching")
    return (await client.get("/v1/triggers/dropped")).json()  # type: ignore[no-any-return]


async def test_list_disable_enable_and_fire(
    served: tuple[Runtime, httpx.AsyncClient, Path],
) -> None:
    runtime, client, watch = served
    info = await wait_watching(client)
    assert (info["source"], info["agent"], info["enabled"]) == ("path", "ops", True)
    [listed] = (await client.get("/v1/triggers")).json()
    assert listed["name"] == "dropped" and listed["match"]["path"] == str(watch)

    disabled = (await client.post("/v1/triggers/dropped/disable")).json()
    assert (disabled["enabled"], disabled["state"]) == (False, "disabled")
    (watch / "ignored.txt").write_text("x")
    await asyncio.sleep(0.3)
    fired = await runtime.log.query(EventQuery(topic=topics.TRIGGER_FIRED))
    assert fired.events == []

    assert (await client.post("/v1/triggers/dropped/enable")).json()["enabled"] is True
    await wait_watching(client)
    (watch / "seen.txt").write_text("x")

    async def completed() -> bool:
        query = EventQuery(topic=topics.AGENT_TURN_COMPLETED)
        return bool((await runtime.log.query(query)).events)

    await wait_until(completed, "completed turn")
    [fired_event] = (await runtime.log.query(EventQuery(topic=topics.TRIGGER_FIRED))).events
    assert fired_event.data["fields"]["path"] == str(watch / "seen.txt")  # type: ignore[index]
    assert (await client.get("/v1/triggers/dropped")).json()["firings"] == 1


async def test_test_is_a_dry_run_unless_fire(
    served: tuple[Runtime, httpx.AsyncClient, Path],
) -> None:
    runtime, client, _ = served
    answer = await client.post(
        "/v1/triggers/dropped/test", json={"fields": {"path": "/srv/x"}, "fire": False}
    )
    assert answer.status_code == 200
    assert answer.json()["prompt"] == "/srv/x appeared."
    assert (await runtime.log.query(EventQuery(topic=topics.TRIGGER_FIRED))).events == []


async def test_unknown_trigger_and_bad_body_are_clear_errors(
    served: tuple[Runtime, httpx.AsyncClient, Path],
) -> None:
    _, client, _ = served
    missing = await client.post("/v1/triggers/nope/disable")
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "trigger_not_found"
    assert "dropped" in missing.json()["error"]["message"]
    bad = await client.post("/v1/triggers/dropped/test", json={"fire": "maybe", "x": 1})
    assert bad.status_code in (400, 422)


async def test_the_cli_lists_and_tests(
    served: tuple[Runtime, httpx.AsyncClient, Path], short_tmp: Path
) -> None:
    await wait_watching(served[1])
    socket_path = str(short_tmp / "control.sock")

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(Path(sys.executable).parent / "sysward"), "--socket", socket_path, *args],
            capture_output=True,
            text=True,
            timeout=30,
        )

    listed = await asyncio.to_thread(cli, "triggers")
    assert listed.returncode == 0, listed.stderr
    assert "dropped" in listed.stdout and "watching" in listed.stdout
    as_json = await asyncio.to_thread(cli, "triggers", "--json")
    assert json.loads(as_json.stdout)[0]["name"] == "dropped"
    tested = await asyncio.to_thread(cli, "triggers", "test", "dropped", "--field", "path=/a")
    assert tested.returncode == 0 and "/a appeared." in tested.stdout
    unknown = await asyncio.to_thread(cli, "triggers", "disable", "nope")
    assert unknown.returncode == 1 and "no trigger named 'nope'" in unknown.stderr
