"""The real CLI against a real `syswardd` and the scripted LLM server.

Skipped until `sysward.daemon.main` exists (the daemon is written in parallel).
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from foreign_uid import ForeignUidPython
from sysward.llm.scripted.script import native_call, text_completion, tool_calls_completion

from .real_daemon import RealDaemon, real_daemon

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("sysward.daemon.main") is None,
    reason="sysward.daemon.main is not written yet; these tests drive a real syswardd once it is",
)

HASH_OF_HELLO = "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
ANSWER = f"The SHA-256 of hello is {HASH_OF_HELLO}."
HASH_TURN: list[Any] = [
    tool_calls_completion(
        native_call("crypto_sha256", {"data": "hello"}, call_id="call_hash"),
        content="Hashing it.",
    ),
    text_completion(ANSWER),
]


@pytest.fixture
def started(short_tmp: Path, request: pytest.FixtureRequest) -> Iterator[RealDaemon]:
    """A daemon whose LLM answers with the test's `script` marker (none by default)."""
    marker = request.node.get_closest_marker("script")
    script = marker.args[0] if marker else []
    with real_daemon(short_tmp, script) as daemon:
        yield daemon


def test_status_agents_tools_and_an_intact_log(started: RealDaemon) -> None:
    status = started.sysward("status")
    assert status.returncode == 0, status.stderr
    assert str(started.socket_path) in status.stdout
    health = json.loads(started.sysward("status", "--json").stdout)
    assert health["status"] == "ok"
    agents = json.loads(started.sysward("agents", "--json").stdout)
    assert [(agent["name"], agent["origin"]) for agent in agents] == [("ops", "config")]
    assert "crypto" in started.sysward("tools").stdout
    assert "data" in started.sysward("tools", "crypto").stdout
    verify = started.sysward("log", "verify")
    assert (verify.returncode, verify.stdout.split(":")[0]) == (0, "log intact")
    assert json.loads(started.sysward("approvals", "--json").stdout) == []
    events = json.loads(started.sysward("events", "--json").stdout)
    assert events["events"][0]["topic"] == "daemon.started"


@pytest.mark.script(HASH_TURN)
def test_ask_streams_the_tool_call_then_prints_the_answer(started: RealDaemon) -> None:
    result = started.sysward("ask", "ops", "What is the SHA-256 of hello?")
    assert result.returncode == 0, result.stderr
    assert '→ crypto.sha256 {"data": "hello"}' in result.stderr
    assert "← ok (" in result.stderr
    assert result.stdout.strip() == ANSWER
    history = started.sysward("history", "ops")
    assert "you: What is the SHA-256 of hello?" in history.stdout
    tool_events = json.loads(started.sysward("events", "--topic", "tool.*", "--json").stdout)
    assert [event["topic"] for event in tool_events["events"]] == ["tool.crypto"]


@pytest.mark.script(HASH_TURN)
def test_ask_json_is_one_document_with_the_call_and_its_result(started: RealDaemon) -> None:
    result = started.sysward("ask", "ops", "What is the SHA-256 of hello?", "--json")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert (summary["status"], summary["answer"]) == ("completed", ANSWER)
    (call,) = summary["tool_calls"]
    assert (call["tool"], call["action"], call["result"]["ok"]) == ("crypto", "sha256", True)
    turn = started.sysward("turn", summary["turn"], "--json")
    assert json.loads(turn.stdout)["status"] == "completed"


@pytest.mark.script([text_completion("first"), text_completion("second")])
def test_chat_from_a_pipe_runs_one_turn_per_line(started: RealDaemon) -> None:
    result = started.sysward("chat", "ops", input="one\ntwo\n")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["first", "second"]


@pytest.mark.script([text_completion("done")])
def test_follow_sees_a_turn_complete(started: RealDaemon) -> None:
    accepted = started.sysward("ask", "ops", "go", "--no-wait", "--json")
    turn = json.loads(accepted.stdout)["turn"]
    argv = ["events", "--follow", "--since", "0", "--topic", "agent.turn_completed"]
    followed = started.sysward(*argv, "--count", "1", "--json")
    assert followed.returncode == 0, followed.stderr
    (event,) = [json.loads(line) for line in followed.stdout.splitlines()]
    assert (event["turn"], event["data"]["answer"]) == (turn, "done")


def test_agent_lifecycle_and_the_daemons_refusals(started: RealDaemon) -> None:
    assert started.sysward("agent", "create", "web", "--role", "default").returncode == 0
    assert started.sysward("agent", "create", "web", "--role", "default").returncode == 1
    assert started.sysward("agent", "create", "x", "--role", "nosuch").returncode == 1
    assert started.sysward("agent", "stop", "web").returncode == 0
    assert started.sysward("agent", "start", "web").returncode == 0
    assert started.sysward("agent", "rm", "web").returncode == 0
    assert started.sysward("agent", "rm", "web").returncode == 1
    assert started.sysward("ask", "nosuch", "hello").returncode == 1
    assert started.sysward("turn", "t_nosuch").returncode == 1
    assert started.sysward("agents", "--bogus").returncode == 2


def test_a_stopped_daemon_is_unreachable(started: RealDaemon) -> None:
    assert started.stop() == 0
    result = started.sysward("status")
    assert result.returncode == 3
    assert str(started.socket_path) in result.stderr


@pytest.mark.root
@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("setpriv"), reason="needs root, setpriv")
def test_a_user_outside_the_allowed_groups_gets_exit_4(
    started: RealDaemon, nobody_python: ForeignUidPython
) -> None:
    # Let `nobody` reach the socket, so the refusal is the daemon's (SO_PEERCRED), not the file's.
    for directory in (started.state_dir.parent, started.state_dir):
        directory.chmod(0o711)
    started.socket_path.chmod(0o666)
    argv = ["--socket", str(started.socket_path), "status", "--json"]
    command = nobody_python.module("sysward.cli.main", *argv)
    env = nobody_python.environ()
    result = subprocess.run(command, capture_output=True, text=True, timeout=30, env=env)
    assert result.returncode == 4, result.stdout + result.stderr
    assert "65534" in json.loads(result.stdout)["error"]["message"]  # nobody's uid
