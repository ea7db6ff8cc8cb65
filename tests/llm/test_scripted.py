"""The scripted server: answers in order, records everything, fails loudly on surprises."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from sysward.llm.scripted import (
    ScriptedDrop,
    ScriptedHang,
    ScriptedLlmServer,
    ScriptedReply,
    ScriptedServerError,
    json_call_completion,
    load_script,
    native_call,
    text_completion,
    tool_calls_completion,
)

CHAT = "/chat/completions"


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=5.0) as client:
        yield client


async def test_answers_in_order_and_records_each_request(http: httpx.AsyncClient) -> None:
    async with ScriptedLlmServer([text_completion("one"), text_completion("two")]) as server:
        first = await http.post(server.base_url + CHAT, json={"n": 1})
        second = await http.post(server.base_url + CHAT, json={"n": 2})
    assert [r.json()["choices"][0]["message"]["content"] for r in (first, second)] == [
        "one",
        "two",
    ]
    assert [r.json() for r in server.requests] == [{"n": 1}, {"n": 2}]
    assert server.call_count == 2
    server.verify()


async def test_binds_to_loopback_on_an_ephemeral_port() -> None:
    async with ScriptedLlmServer() as server:
        assert server.base_url == f"http://127.0.0.1:{server.port}/v1"
        assert server.port > 0


async def test_an_unscripted_call_fails_loudly(http: httpx.AsyncClient) -> None:
    async with ScriptedLlmServer() as server:
        response = await http.post(server.base_url + CHAT, json={})
    assert response.status_code == 500
    assert "unscripted call #1" in response.json()["error"]["message"]
    assert "the script is exhausted" in response.json()["error"]["message"]
    with pytest.raises(ScriptedServerError, match="unscripted call #1"):
        server.verify()


async def test_a_call_to_another_path_fails_loudly(http: httpx.AsyncClient) -> None:
    async with ScriptedLlmServer([text_completion("unused")]) as server:
        response = await http.post(f"http://127.0.0.1:{server.port}/chat/completions", json={})
    assert response.status_code == 500
    assert server.take_failures() == [
        "unscripted call #1 (POST /chat/completions): only POST /v1/chat/completions is served"
    ]
    assert server.remaining == 1


async def test_unused_responses_fail_verification() -> None:
    async with ScriptedLlmServer([text_completion("never asked")]) as server:
        pass
    with pytest.raises(ScriptedServerError, match="1 scripted response"):
        server.verify()


async def test_status_headers_and_raw_bodies_are_sent_as_scripted(http: httpx.AsyncClient) -> None:
    script = [
        ScriptedReply(
            status=429, body={"error": {"message": "slow"}}, headers={"Retry-After": "3"}
        ),
        ScriptedReply(
            status=502, text="<html>bad gateway</html>", headers={"content-type": "text/html"}
        ),
    ]
    async with ScriptedLlmServer(script) as server:
        limited = await http.post(server.base_url + CHAT, json={})
        gateway = await http.post(server.base_url + CHAT, json={})
    assert (limited.status_code, limited.headers["retry-after"]) == (429, "3")
    assert limited.json() == {"error": {"message": "slow"}}
    assert (gateway.status_code, gateway.text) == (502, "<html>bad gateway</html>")
    assert gateway.headers.get_list("content-type") == ["text/html"]
    server.verify()


async def test_a_hang_holds_the_request_until_the_client_gives_up(
    http: httpx.AsyncClient,
) -> None:
    async with ScriptedLlmServer([ScriptedHang()]) as server:
        with pytest.raises(httpx.ReadTimeout):
            await http.post(server.base_url + CHAT, json={}, timeout=0.2)
        assert server.call_count == 1
    server.verify()


async def test_stopping_releases_a_hung_request(http: httpx.AsyncClient) -> None:
    server = ScriptedLlmServer([ScriptedHang()])
    await server.start()
    request = asyncio.create_task(http.post(server.base_url + CHAT, json={}))
    try:
        await server.wait_for_calls(1, timeout_s=5)
        async with asyncio.timeout(5):
            await server.stop()
        with pytest.raises(httpx.RemoteProtocolError):
            await request
    finally:
        request.cancel()
        await server.stop()


async def test_a_drop_closes_the_connection_without_an_answer(http: httpx.AsyncClient) -> None:
    async with ScriptedLlmServer([ScriptedDrop()]) as server:
        with pytest.raises(httpx.RemoteProtocolError):
            await http.post(server.base_url + CHAT, json={})
    server.verify()


async def test_waiting_for_calls_is_bounded() -> None:
    async with ScriptedLlmServer() as server:
        with pytest.raises(TimeoutError):
            await server.wait_for_calls(1, timeout_s=0.05)


async def test_a_malformed_http_request_fails_loudly() -> None:
    async with ScriptedLlmServer() as server:
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write(b"HELLO\r\n\r\n")
        await writer.drain()
        async with asyncio.timeout(5):
            answer = await reader.read()
        writer.close()
        await writer.wait_closed()
    assert answer.startswith(b"HTTP/1.1 400 ")
    assert server.take_failures() == ["unreadable HTTP request: bad request line 'HELLO'"]


async def test_state_endpoint_reports_calls_and_failures(http: httpx.AsyncClient) -> None:
    async with ScriptedLlmServer([text_completion("a")]) as server:
        await http.post(server.base_url + CHAT, json={"q": 1})
        state = (await http.get(f"http://127.0.0.1:{server.port}/_scripted/state")).json()
    assert state == {"calls": 1, "remaining": 0, "failures": [], "requests": ['{"q":1}']}


def test_body_helpers_build_chat_completions() -> None:
    native = tool_calls_completion(native_call("systemd_status", {"unit": "a"}))
    [call] = native["choices"][0]["message"]["tool_calls"]
    assert call == {
        "id": "call_0",
        "type": "function",
        "function": {"name": "systemd_status", "arguments": '{"unit": "a"}'},
    }
    as_json = json_call_completion("proc", "list", {})
    content = as_json["choices"][0]["message"]["content"]
    assert json.loads(content) == {"tool": "proc", "action": "list", "args": {}}


def test_a_script_file_mixes_bodies_and_responses(tmp_path: Path) -> None:
    path = tmp_path / "script.json"
    path.write_text(json.dumps([text_completion("hi"), {"kind": "hang"}, {"kind": "drop"}]))
    script = load_script(path)
    assert [entry.kind for entry in script] == ["reply", "hang", "drop"]
    assert isinstance(script[0], ScriptedReply) and script[0].status == 200


async def start_subprocess(script: Path) -> tuple[asyncio.subprocess.Process, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "sysward.llm.scripted",
        "--port",
        "0",
        "--script",
        str(script),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert process.stdout is not None
    async with asyncio.timeout(20):
        base_url = (await process.stdout.readline()).decode().strip()
    return process, base_url


async def stop_subprocess(process: asyncio.subprocess.Process) -> tuple[int, str]:
    process.terminate()
    async with asyncio.timeout(20):
        _, stderr = await process.communicate()
    assert process.returncode is not None
    return process.returncode, stderr.decode()


async def test_runs_as_a_subprocess_and_exits_cleanly_when_the_script_was_followed(
    tmp_path: Path, http: httpx.AsyncClient
) -> None:
    script = tmp_path / "script.json"
    script.write_text(json.dumps([text_completion("from the subprocess")]))
    process, base_url = await start_subprocess(script)
    try:
        assert base_url.startswith("http://127.0.0.1:") and base_url.endswith("/v1")
        response = await http.post(base_url + CHAT, json={})
        assert response.json()["choices"][0]["message"]["content"] == "from the subprocess"
    finally:
        status, stderr = await stop_subprocess(process)
    assert status == 0
    assert json.loads(stderr.strip().splitlines()[-1]) == {"calls": 1, "problems": []}


async def test_subprocess_exits_1_naming_unused_responses(tmp_path: Path) -> None:
    script = tmp_path / "script.json"
    script.write_text(json.dumps([text_completion("never asked")]))
    process, _ = await start_subprocess(script)
    status, stderr = await stop_subprocess(process)
    assert status == 1
    assert "1 scripted response(s) never used" in stderr
