"""The control API's agent routes against a real syswardd over its Unix socket (httpx):
health, OpenAPI, routing, agents, prompts, turns and history.

One daemon serves the whole module (config agent `ops`, role sysadmin); each
test uses its own agents and scripts its own LLM replies.
"""

from __future__ import annotations

import httpx
import pytest

from sysward.llm.scripted import (
    ScriptedLlmServer,
    native_call,
    text_completion,
    tool_calls_completion,
)

from .api import assert_error, new_agent, run_turn
from .daemon import read_sse

pytestmark = pytest.mark.asyncio(loop_scope="module")


SPEC_ROUTES = {
    ("get", "/v1/health"),
    ("get", "/v1/agents"),
    ("post", "/v1/agents"),
    ("get", "/v1/agents/{name}"),
    ("delete", "/v1/agents/{name}"),
    ("post", "/v1/agents/{name}/start"),
    ("post", "/v1/agents/{name}/stop"),
    ("post", "/v1/agents/{name}/prompt"),
    ("get", "/v1/agents/{name}/history"),
    ("get", "/v1/turns/{turn}"),
    ("get", "/v1/events"),
    ("get", "/v1/events/stream"),
    ("get", "/v1/approvals"),
    ("post", "/v1/approvals/{approval}"),
    ("get", "/v1/tools"),
    ("post", "/v1/log/verify"),
    ("get", "/metrics"),
}
# -- health, openapi, routing --------------------------------------------------------


async def test_health_reports_ok_version_and_last_seq(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/health")
    body = response.json()
    assert response.status_code == 200
    assert body["status"] == "ok"
    assert body["last_seq"] >= 1
    assert body["agents"] >= 1
    assert response.headers["x-request-id"].startswith("req_")


async def test_openapi_document_describes_every_spec_route(client: httpx.AsyncClient) -> None:
    document = (await client.get("/v1/openapi.json")).json()
    routes = {(method, path) for path, ops in document["paths"].items() for method in ops}
    assert routes >= SPEC_ROUTES
    create = document["paths"]["/v1/agents"]["post"]["responses"]
    assert "422" not in create
    assert create["400"]["content"]["application/json"]["schema"]["$ref"].endswith("ErrorResponse")


async def test_docs_pages_are_not_served(client: httpx.AsyncClient) -> None:
    assert_error(await client.get("/docs"), 404, "not_found")
    assert_error(await client.get("/openapi.json"), 404, "not_found")


async def test_unknown_route_is_404_and_wrong_method_405(client: httpx.AsyncClient) -> None:
    assert_error(await client.get("/v1/nothing/here"), 404, "not_found")
    assert_error(await client.put("/v1/health"), 405, "method_not_allowed")


# -- agents ----------------------------------------------------------------------------


async def test_config_agent_is_listed_with_its_role(client: httpx.AsyncClient) -> None:
    agents = {agent["name"]: agent for agent in (await client.get("/v1/agents")).json()}
    assert agents["ops"]["origin"] == "config"
    assert agents["ops"]["role"] == "sysadmin"
    assert agents["ops"]["state"] in ("starting", "idle", "busy")


async def test_created_agent_is_listed_and_described(client: httpx.AsyncClient) -> None:
    name = await new_agent(client, role="default")
    info = (await client.get(f"/v1/agents/{name}")).json()
    assert info["origin"] == "runtime"
    assert info["role"] == "default"
    assert info["llm"] == "default"
    names = [agent["name"] for agent in (await client.get("/v1/agents")).json()]
    assert name in names


async def test_creating_an_existing_agent_is_409(client: httpx.AsyncClient) -> None:
    name = await new_agent(client)
    response = await client.post("/v1/agents", json={"name": name, "role": "default"})
    assert_error(response, 409, "conflict")


async def test_creating_an_agent_with_an_unknown_role_is_400(client: httpx.AsyncClient) -> None:
    response = await client.post("/v1/agents", json={"name": "norole", "role": "nosuchrole"})
    error = assert_error(response, 400, "invalid_agent")
    assert "nosuchrole" in error["message"]


async def test_invalid_fields_are_400_with_pydantic_errors(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/v1/agents", json={"name": "bad name!", "role": "default", "extra": 1}
    )
    error = assert_error(response, 400, "invalid_request")
    locations = {tuple(item["loc"]) for item in error["details"]["errors"]}
    assert ("body", "name") in locations
    assert ("body", "extra") in locations


async def test_malformed_json_is_400_invalid_json(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/v1/agents", content=b'{"name": ', headers={"content-type": "application/json"}
    )
    assert_error(response, 400, "invalid_json")


async def test_unknown_agent_is_404_on_every_agent_route(client: httpx.AsyncClient) -> None:
    requests = [
        client.get("/v1/agents/ghost"),
        client.delete("/v1/agents/ghost"),
        client.post("/v1/agents/ghost/start"),
        client.post("/v1/agents/ghost/stop"),
        client.post("/v1/agents/ghost/prompt", json={"text": "hi"}),
        client.get("/v1/agents/ghost/history"),
    ]
    for request in requests:
        assert_error(await request, 404, "agent_not_found")


async def test_an_invalid_agent_name_in_the_path_is_400(client: httpx.AsyncClient) -> None:
    assert_error(await client.get("/v1/agents/-bad%20name"), 400, "invalid_request")


async def test_deleted_agent_is_gone(client: httpx.AsyncClient) -> None:
    name = await new_agent(client)
    response = await client.delete(f"/v1/agents/{name}")
    assert response.status_code == 204
    assert_error(await client.get(f"/v1/agents/{name}"), 404, "agent_not_found")


async def test_deleting_a_config_agent_is_409(client: httpx.AsyncClient) -> None:
    assert_error(await client.delete("/v1/agents/ops"), 409, "conflict")


async def test_stopped_agent_refuses_prompts_until_started(
    client: httpx.AsyncClient, scripted_llm: ScriptedLlmServer
) -> None:
    name = await new_agent(client)
    stopped = await client.post(f"/v1/agents/{name}/stop")
    assert stopped.json()["state"] == "stopped"
    refused = await client.post(f"/v1/agents/{name}/prompt", json={"text": "hi"})
    assert_error(refused, 409, "conflict")
    started = await client.post(f"/v1/agents/{name}/start")
    assert started.json()["state"] in ("starting", "idle")
    assert_error(await client.post(f"/v1/agents/{name}/start"), 409, "conflict")
    scripted_llm.enqueue(text_completion("back"))
    events = await run_turn(client, name, "hi again")
    assert events[-1]["data"]["answer"] == "back"


# -- prompts, turns, history -------------------------------------------------------------


async def test_prompt_without_wait_returns_the_turn_at_once_and_it_completes(
    client: httpx.AsyncClient, scripted_llm: ScriptedLlmServer
) -> None:
    name = await new_agent(client)
    since = (await client.get("/v1/health")).json()["last_seq"]
    scripted_llm.enqueue(text_completion("the answer"))
    async with client.stream(
        "GET", "/v1/events/stream", params={"agent": name, "since": since}
    ) as stream:
        response = await client.post(f"/v1/agents/{name}/prompt", json={"text": "question"})
        assert response.status_code == 202
        accepted = response.json()
        assert accepted["agent"] == name
        turn = accepted["turn"]
        await read_sse(
            stream,
            until=lambda m: m.event == "agent.turn_completed" and m.json()["turn"] == turn,
        )
    info = (await client.get(f"/v1/turns/{turn}")).json()
    assert info["status"] == "completed"
    assert info["agent"] == name
    assert info["prompt"] == "question"
    assert info["answer"] == "the answer"
    assert info["steps"] == 1
    assert info["events"][0]["topic"] == "agent.prompt"
    assert info["events"][-1]["topic"] == "agent.turn_completed"


async def test_prompt_with_wait_streams_the_turn_with_tool_calls(
    client: httpx.AsyncClient, scripted_llm: ScriptedLlmServer
) -> None:
    name = await new_agent(client)
    scripted_llm.enqueue(
        tool_calls_completion(native_call("crypto_sha256", {"data": "abc"}, call_id="c1")),
        text_completion("hashed"),
    )
    events = await run_turn(client, name, "hash abc")
    accepted, envelopes = events[0], events[1:]
    assert accepted["agent"] == name
    assert {event["turn"] for event in envelopes} == {accepted["turn"]}
    topics = [event["topic"] for event in envelopes]
    assert topics[0] == "agent.prompt"
    assert "agent.tool_dispatch" in topics
    assert "tool.crypto" in topics
    assert topics[-1] == "agent.turn_completed"
    seqs = [event["seq"] for event in envelopes]
    assert seqs == sorted(seqs)


async def test_accept_event_stream_header_streams_the_turn(
    client: httpx.AsyncClient, scripted_llm: ScriptedLlmServer
) -> None:
    name = await new_agent(client)
    scripted_llm.enqueue(text_completion("streamed"))
    async with client.stream(
        "POST",
        f"/v1/agents/{name}/prompt",
        json={"text": "hi"},
        headers={"accept": "text/event-stream"},
    ) as response:
        messages = await read_sse(response, until=lambda m: m.event == "agent.turn_completed")
    assert messages[0].event == "accepted"
    assert messages[-1].json()["data"]["answer"] == "streamed"
    assert all(message.id == str(message.json()["seq"]) for message in messages[1:])


async def test_history_is_the_conversation(
    client: httpx.AsyncClient, scripted_llm: ScriptedLlmServer
) -> None:
    name = await new_agent(client)
    scripted_llm.enqueue(
        tool_calls_completion(native_call("crypto_sha256", {"data": "x"}, call_id="c9")),
        text_completion("done"),
    )
    await run_turn(client, name, "hash x")
    history = (await client.get(f"/v1/agents/{name}/history")).json()
    assert history["agent"] == name
    roles = [message["role"] for message in history["messages"]]
    assert roles == ["user", "assistant", "tool", "assistant"]
    assert history["messages"][1]["tool_calls"][0]["id"] == "c9"
    assert history["messages"][2]["tool_call_id"] == "c9"
    assert history["messages"][-1]["content"] == "done"


async def test_unknown_turn_is_404_and_a_malformed_id_400(client: httpx.AsyncClient) -> None:
    assert_error(await client.get("/v1/turns/t_nosuchturn"), 404, "turn_not_found")
    assert_error(await client.get("/v1/turns/bad%20id"), 400, "invalid_request")


async def test_prompt_text_must_not_be_empty(client: httpx.AsyncClient) -> None:
    response = await client.post("/v1/agents/ops/prompt", json={"text": ""})
    assert_error(response, 400, "invalid_request")
