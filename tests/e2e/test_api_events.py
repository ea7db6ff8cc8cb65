"""The control API's event and system routes against a real syswardd (httpx):
event queries and streams, approvals, tools, log verification, metrics, limits.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime

import httpx
import pytest

from sysward.llm.scripted import (
    ScriptedLlmServer,
    native_call,
    text_completion,
    tool_calls_completion,
)

from .api import assert_error, new_agent, run_turn, unique_name

pytestmark = pytest.mark.asyncio(loop_scope="module")


# -- events ---------------------------------------------------------------------------------


async def test_events_are_filtered_by_topic_type_agent_and_seq(client: httpx.AsyncClient) -> None:
    name = await new_agent(client)
    page = (await client.get("/v1/events", params={"agent": name})).json()
    assert [event["topic"] for event in page["events"]][:1] == ["agent.created"]
    assert all(event["agent"] == name for event in page["events"])
    created = page["events"][0]["seq"]
    only = (
        await client.get(
            "/v1/events",
            params={"topic": "agent.*", "type": "created", "since": created - 1, "until": created},
        )
    ).json()
    assert [event["seq"] for event in only["events"]] == [created]
    assert only["next_since"] >= created


async def test_events_page_continues_with_next_since(client: httpx.AsyncClient) -> None:
    await new_agent(client)
    await new_agent(client)  # at least four events in the log
    first = (await client.get("/v1/events", params={"limit": 2})).json()
    assert [event["seq"] for event in first["events"]] == [1, 2]
    second = (
        await client.get("/v1/events", params={"limit": 2, "since": first["next_since"]})
    ).json()
    assert [event["seq"] for event in second["events"]] == [3, 4]


async def test_events_since_a_time(client: httpx.AsyncClient) -> None:
    before = datetime.now(UTC).isoformat()
    name = await new_agent(client)
    page = (await client.get("/v1/events", params={"since": before, "agent": name})).json()
    assert page["events"][0]["topic"] == "agent.created"
    future = (await client.get("/v1/events", params={"since": "2999-01-01T00:00:00Z"})).json()
    assert future["events"] == []


@pytest.mark.parametrize(
    "params",
    [
        {"topic": "agent..x"},
        {"topic": "a.>.b"},
        {"since": "yesterday"},
        {"since": "2026-01-01T00:00:00"},
        {"since": "99999999999999999999999"},
        {"limit": "0"},
        {"limit": "100000"},
    ],
)
async def test_invalid_event_queries_are_400(
    client: httpx.AsyncClient, params: dict[str, str]
) -> None:
    assert_error(await client.get("/v1/events", params=params), 400, "invalid_request")


async def test_events_carry_the_request_id_and_peer_uid(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/v1/agents",
        json={"name": unique_name(), "role": "default"},
        headers={"x-request-id": "req_e2e_context"},
    )
    assert response.headers["x-request-id"] == "req_e2e_context"
    name = response.json()["name"]
    page = (await client.get("/v1/events", params={"agent": name, "topic": "agent.created"})).json()
    context = page["events"][0]["context"]
    assert context["request_id"] == "req_e2e_context"
    assert context["peer_uid"] == os.getuid()


async def test_event_stream_sends_heartbeats_when_idle(client: httpx.AsyncClient) -> None:
    comments: list[str] = []
    async with client.stream(
        "GET", "/v1/events/stream", params={"topic": "nothing.ever"}
    ) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        async for line in response.aiter_lines():
            comments.append(line)
            if line == ": keepalive":
                break
    assert ": keepalive" in comments


async def test_event_stream_rejects_a_bad_last_event_id(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/events/stream", headers={"last-event-id": "abc"})
    assert_error(response, 400, "invalid_request")


async def test_event_stream_rejects_a_bad_pattern(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/events/stream", params={"topic": "a b"})
    assert_error(response, 400, "invalid_request")


# -- approvals, tools, log, metrics ------------------------------------------------------------


async def test_approvals_are_empty_and_deciding_an_unknown_one_is_404(
    client: httpx.AsyncClient,
) -> None:
    assert (await client.get("/v1/approvals")).json() == []
    response = await client.post("/v1/approvals/ap_1", json={"decision": "approve"})
    assert_error(response, 404, "approval_not_found")
    invalid = await client.post("/v1/approvals/ap_1", json={"decision": "maybe"})
    assert_error(invalid, 400, "invalid_request")


async def test_tools_describe_actions_with_json_schemas(client: httpx.AsyncClient) -> None:
    tools = {tool["name"]: tool for tool in (await client.get("/v1/tools")).json()}
    actions = {action["name"]: action for action in tools["crypto"]["actions"]}
    assert actions["sha256"]["effect"] == "read"
    assert actions["sha256"]["parameters"]["type"] == "object"
    assert "data" in actions["sha256"]["parameters"]["properties"]


async def test_log_verify_reports_an_intact_chain(client: httpx.AsyncClient) -> None:
    report = (await client.post("/v1/log/verify")).json()
    health = (await client.get("/v1/health")).json()
    assert report["ok"] is True
    assert report["first_bad_seq"] is None
    assert report["last_seq"] <= health["last_seq"]


async def test_metrics_count_llm_calls_tokens_and_tool_results(
    client: httpx.AsyncClient, scripted_llm: ScriptedLlmServer
) -> None:
    name = await new_agent(client)
    scripted_llm.enqueue(
        tool_calls_completion(native_call("crypto_sha256", {"data": "m"}, call_id="m1")),
        text_completion("ok"),
    )
    await run_turn(client, name, "hash m")
    response = await client.get("/metrics")
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    samples = dict(
        line.rsplit(" ", 1) for line in response.text.splitlines() if not line.startswith("#")
    )
    assert samples[f'sysward_llm_calls_total{{agent="{name}"}}'] == "2"
    assert samples[f'sysward_llm_tokens_total{{agent="{name}",kind="prompt"}}'] == "20"
    assert int(samples['sysward_tool_calls_total{tool="crypto",result="ok"}']) >= 1
    assert int(samples["sysward_events_last_seq"]) > 0
    assert int(samples['sysward_agents{state="idle"}']) >= 1
    assert int(samples["sysward_llm_latency_seconds_count"]) >= 2


async def test_a_body_over_the_limit_is_413(client: httpx.AsyncClient) -> None:
    response = await client.post("/v1/agents/ops/prompt", content=b"x" * (2 * 1024 * 1024))
    assert_error(response, 413, "body_too_large")
