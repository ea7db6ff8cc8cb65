"""A watch's changes become durable `tool.inotify.event` events of a real syswardd: in the
log and on the event stream, naming the watch, the path and the agent that made it."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from sysward.llm.scripted import (
    ScriptedLlmServer,
    native_call,
    text_completion,
    tool_calls_completion,
)

from .api import run_turn
from .conftest import ALLOW_EVERYTHING, LaunchWithConfig
from .daemon import read_sse

WAIT_S = 10.0


def watch_id_of(turn: list[dict[str, Any]]) -> str:
    """The watch id from a turn's `run_turn` output (accepted message, then envelopes)."""
    (result,) = [event for event in turn[1:] if event["topic"] == "tool.inotify"]
    assert result["data"]["result"]["ok"], result
    watch_id: str = result["data"]["result"]["output"]["watch_id"]
    return watch_id


async def test_a_file_created_in_a_watched_dir_is_logged_and_streamed(
    launch_with_config: LaunchWithConfig, llm: ScriptedLlmServer, short_tmp: Path
) -> None:
    watched = short_tmp / "watched"
    watched.mkdir()
    daemon = await launch_with_config(ALLOW_EVERYTHING)
    llm.enqueue(
        tool_calls_completion(native_call("inotify_watch", {"path": str(watched)}, call_id="w")),
        text_completion("watching"),
    )
    async with daemon.client() as client:
        watch_id = watch_id_of(await run_turn(client, "ops", "watch the directory"))
        since = (await client.get("/v1/health")).json()["last_seq"]
        params = {"topic": "tool.inotify.event", "since": since}
        async with client.stream("GET", "/v1/events/stream", params=params) as stream:
            (watched / "new.txt").write_text("x")
            async with asyncio.timeout(WAIT_S):
                messages = await read_sse(
                    stream, until=lambda m: "create" in m.json()["data"]["kinds"]
                )
        logged = (await client.get("/v1/events", params=params)).json()["events"]
    llm.verify()

    streamed = messages[-1].json()
    assert streamed["topic"] == "tool.inotify.event"
    assert streamed["type"] == "changed"
    assert streamed["data"] == {
        "watch_id": watch_id,
        "path": str(watched / "new.txt"),
        "name": "new.txt",
        "kinds": ["create"],
        "is_dir": False,
        "cookie": None,
        "synthetic": False,
        "read_at": streamed["data"]["read_at"],
        "agent": "ops",
    }
    assert streamed["seq"] in [event["seq"] for event in logged]


async def test_a_rename_pairs_moved_from_and_moved_to_by_cookie(
    launch_with_config: LaunchWithConfig, llm: ScriptedLlmServer, short_tmp: Path
) -> None:
    watched = short_tmp / "watched"
    watched.mkdir()
    (watched / "old.txt").write_text("x")
    daemon = await launch_with_config(ALLOW_EVERYTHING)
    args = {"path": str(watched), "events": ["move"]}
    llm.enqueue(
        tool_calls_completion(native_call("inotify_watch", args, call_id="w")),
        text_completion("watching"),
    )
    async with daemon.client() as client:
        await run_turn(client, "ops", "watch renames")
        since = (await client.get("/v1/health")).json()["last_seq"]
        params = {"topic": "tool.inotify.event", "since": since}
        async with client.stream("GET", "/v1/events/stream", params=params) as stream:
            (watched / "old.txt").rename(watched / "new.txt")
            async with asyncio.timeout(WAIT_S):
                messages = await read_sse(
                    stream, until=lambda m: "moved_to" in m.json()["data"]["kinds"]
                )
    llm.verify()

    moved = [message.json()["data"] for message in messages]
    assert [event["kinds"] for event in moved] == [["moved_from"], ["moved_to"]]
    assert [event["name"] for event in moved] == ["old.txt", "new.txt"]
    assert moved[0]["cookie"] is not None
    assert moved[0]["cookie"] == moved[1]["cookie"]
