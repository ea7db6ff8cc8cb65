"""`policy.allowed_paths` confines a real syswardd's file tool: `..` and symlinks that lead
outside are refused with the confinement error the model sees; inside works."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from sysward.llm.scripted import (
    ScriptedLlmServer,
    native_call,
    text_completion,
    tool_calls_completion,
)

from .api import run_turn
from .conftest import LaunchWithConfig


def results_by_call(envelopes: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {
        event["data"]["call_id"]: event["data"]["result"]
        for event in envelopes
        if event["topic"] == "tool.file"
    }


async def test_only_paths_that_really_lead_inside_allowed_paths_are_read(
    launch_with_config: LaunchWithConfig, llm: ScriptedLlmServer, short_tmp: Path
) -> None:
    allowed = short_tmp / "allowed"
    allowed.mkdir()
    (allowed / "ok.txt").write_text("inside")
    (short_tmp / "secret").write_text("outside")
    (allowed / "link").symlink_to(short_tmp / "secret")
    daemon = await launch_with_config(f'\n[policy]\nallowed_paths = ["{allowed}"]\n')
    reads = {
        "dotdot": f"{allowed}/../secret",
        "symlink": f"{allowed}/link",
        "inside": f"{allowed}/ok.txt",
    }
    llm.enqueue(
        tool_calls_completion(
            *(native_call("file_read", {"path": path}, call_id=c) for c, path in reads.items())
        ),
        text_completion("read what I may"),
    )
    async with daemon.client() as client:
        results = results_by_call((await run_turn(client, "ops", "read these"))[1:])
    llm.verify()

    for call in ("dotdot", "symlink"):
        error = results[call]["error"]
        assert error["code"] == "permission_denied", results[call]
        assert "outside the allowed roots" in error["message"]
        assert error["details"]["resolved"] == str(short_tmp / "secret")
    assert results["inside"]["ok"] is True
    assert results["inside"]["output"]["content"] == "inside"


async def test_a_relative_allowed_path_stops_the_daemon_at_start_naming_the_line(
    launch_with_config: LaunchWithConfig, short_tmp: Path
) -> None:
    with pytest.raises(AssertionError, match=r"exited \(1\) before READY") as refused:
        await launch_with_config('\n[policy]\nallowed_paths = ["relative/dir"]\n')
    message = str(refused.value)
    assert "sysward.toml:" in message
    assert "policy.allowed_paths.0: Value error, must be an absolute path" in message
