"""Helpers shared by the API tests: assertions on the error shape, agents, whole turns."""

from __future__ import annotations

import itertools
from typing import Any

import httpx

from .daemon import read_sse

_names = itertools.count()


def unique_name(prefix: str = "a") -> str:
    return f"{prefix}{next(_names)}"


async def new_agent(client: httpx.AsyncClient, role: str = "sysadmin") -> str:
    name = unique_name()
    response = await client.post("/v1/agents", json={"name": name, "role": role})
    assert response.status_code == 201, response.text
    return name


def assert_error(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """The response is an error in SPEC.md's shape with this status and code."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "details"}
    assert body["error"]["code"] == code
    assert body["error"]["message"]
    error: dict[str, Any] = body["error"]
    return error


async def run_turn(client: httpx.AsyncClient, agent: str, text: str) -> list[dict[str, Any]]:
    """Prompt with wait=true; the accepted message, then the streamed envelopes of the turn."""
    async with client.stream(
        "POST", f"/v1/agents/{agent}/prompt", json={"text": text, "wait": True}
    ) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        messages = await read_sse(response, until=lambda m: m.event == "agent.turn_completed")
    assert messages[0].event == "accepted"
    return [messages[0].json(), *(message.json() for message in messages[1:])]
