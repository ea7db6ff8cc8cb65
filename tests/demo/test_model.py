"""The scripted demo model: its plan, its answer from tool results, and its held step."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from sysward.demo.findings import compose_answer
from sysward.demo.inspection import PLAN, ChatRequest, next_reply
from sysward.demo.model import CHAT_PATH, STATS_PATH, DemoModel

ALL_FUNCTIONS = [step.function for step in PLAN]
OS_RELEASE = {
    "ok": True,
    "output": {"path": "/etc/os-release", "content": 'PRETTY_NAME="Testix 9 (sturdy)"\nID=t\n'},
}


def request(*messages: dict[str, Any], offered: list[str] = ALL_FUNCTIONS) -> dict[str, Any]:
    tools = [{"type": "function", "function": {"name": name}} for name in offered]
    return {"messages": [{"role": "user", "content": "inspect"}, *messages], "tools": tools}


def called(function: str, call_id: str, result: dict[str, Any]) -> list[dict[str, Any]]:
    """An assistant message calling `function`, and the tool message answering it."""
    call = {"id": call_id, "type": "function", "function": {"name": function, "arguments": "{}"}}
    return [
        {"role": "assistant", "content": None, "tool_calls": [call]},
        {"role": "tool", "tool_call_id": call_id, "content": json.dumps(result)},
    ]


def reply_message(body: dict[str, Any]) -> dict[str, Any]:
    message: dict[str, Any] = body["choices"][0]["message"]
    return message


def test_the_model_calls_the_first_offered_tool_it_has_not_called() -> None:
    body = next_reply(ChatRequest.model_validate(request(offered=["net_interfaces", "udev_block"])))
    call = reply_message(body)["tool_calls"][0]
    assert call["function"]["name"] == "net_interfaces"
    assert body["model"] == "scripted demo model (no LLM)"


def test_the_model_answers_from_the_results_once_every_step_is_done() -> None:
    messages = called("file_read", "c1", OS_RELEASE)
    body = next_reply(ChatRequest.model_validate(request(*messages, offered=["file_read"])))
    message = reply_message(body)
    assert "tool_calls" not in message
    assert "OS: Testix 9 (sturdy) (from /etc/os-release)" in message["content"]


def test_a_call_whose_result_went_missing_is_not_made_again() -> None:
    messages = called("file_read", "c1", OS_RELEASE)[:1]  # the tool message is lost
    body = next_reply(ChatRequest.model_validate(request(*messages, offered=["file_read"])))
    assert "tool_calls" not in reply_message(body)


def test_a_failed_or_cut_short_result_is_reported_not_guessed() -> None:
    failed = {"ok": False, "error": {"code": "permission_denied", "message": "no access"}}
    answer = compose_answer({"udev_block": json.dumps(failed), "proc_list": '{"ok": true, "out'})
    assert "Block devices: the tool failed (permission_denied: no access)" in answer
    assert "Processes: the result was cut short or is not JSON" in answer


@pytest.fixture
async def held_model() -> AsyncIterator[tuple[DemoModel, httpx.AsyncClient]]:
    model = DemoModel(hold_step=1)
    server = await asyncio.start_server(model.serve_connection, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            yield model, client
    finally:
        server.close()
        await server.wait_closed()


async def test_a_held_request_abandoned_by_its_client_is_cut_off_not_answered(
    held_model: tuple[DemoModel, httpx.AsyncClient],
) -> None:
    model, client = held_model
    with pytest.raises(httpx.ReadTimeout):
        await client.post(CHAT_PATH, json=request(), timeout=0.3)
    for _ in range(500):  # the server sees the closed connection within milliseconds
        if model.stats.cut_off:
            break
        await asyncio.sleep(0.01)
    else:
        pytest.fail("the abandoned request was never counted as cut off")
    again = await client.post(CHAT_PATH, json=request(), timeout=5)
    stats = (await client.get(STATS_PATH)).json()
    assert again.status_code == 200
    assert (stats["requests"], stats["answered"], stats["cut_off"]) == (2, 1, 1)
    assert stats["repeated_answers"] == 0


async def test_a_request_that_is_not_a_chat_completion_is_refused(
    held_model: tuple[DemoModel, httpx.AsyncClient],
) -> None:
    _, client = held_model
    response = await client.post(CHAT_PATH, json={"prompt": "hi"})
    assert response.status_code == 400
    assert "scripted demo model (no LLM)" in response.json()["error"]["message"]
