"""SSE resume: a client that drops its connection and reconnects with Last-Event-ID
(or ?since=) while events are being appended gets every event once, in order."""

from __future__ import annotations

import asyncio

import httpx

from sysward.llm.scripted import ScriptedLlmServer

from .daemon import DaemonLauncher, SseMessage, read_sse

WRITER_ROUNDS = 100
MESSAGES_PER_CONNECTION = 25
CONNECTIONS = 4


async def append_concurrently(client: httpx.AsyncClient) -> None:
    """Agent create / stop / delete rounds: several events each, from another connection."""
    for index in range(WRITER_ROUNDS):
        name = f"w{index}"
        created = await client.post("/v1/agents", json={"name": name, "role": "default"})
        assert created.status_code == 201, created.text
        assert (await client.post(f"/v1/agents/{name}/stop")).status_code == 200
        assert (await client.delete(f"/v1/agents/{name}")).status_code == 204


async def read_some(
    client: httpx.AsyncClient, *, last_id: str | None, use_header: bool, count: int
) -> list[SseMessage]:
    """One connection: resume after `last_id`, read `count` events, then drop it."""
    headers, params = {}, {}
    if last_id is not None and use_header:
        headers["last-event-id"] = last_id
    elif last_id is not None:
        params["since"] = last_id
    else:
        params["since"] = "0"
    async with client.stream("GET", "/v1/events/stream", headers=headers, params=params) as resp:
        assert resp.status_code == 200
        seen: list[SseMessage] = []
        return await read_sse(resp, until=lambda m: seen.append(m) or len(seen) >= count)


async def test_resume_after_dropped_connections_has_no_gap_and_no_duplicate(
    launcher: DaemonLauncher, llm: ScriptedLlmServer
) -> None:
    daemon = await launcher.launch_configured(llm.base_url)
    async with daemon.client() as writer_client, daemon.client() as reader_client:
        writer = asyncio.create_task(append_concurrently(writer_client))
        received: list[SseMessage] = []
        last_id: str | None = None
        # The writer appends at least 4 events a round, so these reads always complete.
        for connection in range(CONNECTIONS):
            batch = await read_some(
                reader_client,
                last_id=last_id,
                use_header=connection % 2 == 1,
                count=MESSAGES_PER_CONNECTION,
            )
            received += batch
            last_id = batch[-1].id
        assert not writer.done(), "the reads should overlap the appends"
        await writer
        final_seq = (await reader_client.get("/v1/health")).json()["last_seq"]
        async with reader_client.stream(
            "GET", "/v1/events/stream", headers={"last-event-id": str(last_id)}
        ) as resp:
            if int(str(last_id)) < final_seq:
                received += await read_sse(resp, until=lambda m: int(str(m.id)) >= final_seq)
    seqs = [int(str(message.id)) for message in received]
    assert seqs == list(range(1, final_seq + 1))
    assert all(message.json()["seq"] == int(str(message.id)) for message in received)
    assert all(message.event == message.json()["topic"] for message in received)
