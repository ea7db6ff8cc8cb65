"""The control server in-process: the edge middleware's refusals and last resort,
stopping, and streams that end with the server."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from sysward.control.access import AccessDecision, AuthAudit
from sysward.control.app import create_app
from sysward.control.server import ControlServer
from sysward.daemon.runtime import Runtime
from sysward.events.query import EventQuery


async def test_an_unexpected_error_is_a_500_without_details(
    client: httpx.AsyncClient, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken() -> None:
        raise RuntimeError("secret internals")

    monkeypatch.setattr(runtime.registry, "describe", broken)
    response = await client.get("/v1/tools")
    assert response.status_code == 500
    assert response.json()["error"]["code"] == "internal_error"
    assert "secret" not in response.text
    assert (await client.get("/v1/health")).status_code == 200


async def test_a_request_without_peer_credentials_is_refused(
    server: ControlServer, runtime: Runtime
) -> None:
    app = create_app(server.state)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://sysward") as client:
        response = await client.get("/v1/health")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "forbidden"
    page = await runtime.log.query_raw(EventQuery(topic="control.auth"))
    assert len(page.records) == 1


async def test_mutations_are_503_while_stopping_but_reads_work(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    runtime.is_stopping = True
    refused = await client.post("/v1/agents", json={"name": "x", "role": "default"})
    assert refused.status_code == 503
    assert refused.json()["error"]["code"] == "stopping"
    assert refused.headers["retry-after"] == "5"
    assert (await client.get("/v1/health")).json()["status"] == "stopping"
    assert (await client.post("/v1/log/verify")).json()["ok"] is True


async def test_streams_end_when_the_server_stops(
    client: httpx.AsyncClient, server: ControlServer
) -> None:
    async with client.stream("GET", "/v1/events/stream", params={"since": 0}) as response:
        lines = response.aiter_lines()
        assert await anext(lines) == ": stream open"
        server.state.closing.set()
        rest = [line async for line in lines]
    assert "event: daemon.started" in rest
    assert rest[-1] == ""


async def test_idle_streams_get_heartbeats(client: httpx.AsyncClient) -> None:
    async with client.stream("GET", "/v1/events/stream") as response:
        lines = response.aiter_lines()
        assert await anext(lines) == ": stream open"
        async with asyncio.timeout(5):
            while await anext(lines) != ": keepalive":
                pass


async def test_refusals_are_recorded_at_most_once_per_interval(runtime: Runtime) -> None:
    audit = AuthAudit(runtime.log, min_interval_s=3600)
    decision = AccessDecision(False, "test")
    for _ in range(3):
        await audit.record_refusal(None, decision, "GET", "/v1/x")
    audit.min_interval_s = 0
    await audit.record_refusal(None, decision, "GET", "/v1/y")
    page = await runtime.log.query(EventQuery(topic="control.auth"))
    assert [event.data["suppressed"] for event in page.events] == [0, 2]


async def test_a_disconnected_stream_releases_its_subscription(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    async with client.stream("GET", "/v1/events/stream") as response:
        assert await anext(response.aiter_lines()) == ": stream open"
        assert runtime.bus.subscriber_count == 1
    for _ in range(500):  # the server notices the disconnect on its own: at most 5 s
        if runtime.bus.subscriber_count == 0:
            break
        await asyncio.sleep(0.01)
    assert runtime.bus.subscriber_count == 0
