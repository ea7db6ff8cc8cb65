"""`sysward ask`: the turn's tool calls live, then the answer; `--json` for scripts."""

from __future__ import annotations

import io
import signal
import subprocess
import sys
from typing import Any

import pytest

from sysward.control.client import ControlClient

from .canned import ANSWER
from .fake_daemon import FakeDaemon

PROGRESS = [
    "· Checking nginx first.",
    '→ systemd.status {"unit": "nginx.service"}',
    "← ok (12 ms)",
    '→ bash.exec {"command": "rm -rf /var/log/nginx"}  [policy: deny — never recursive deletes]',
    "← error permission_denied: policy: never recursive deletes (0 ms)",
]


def test_ask_shows_each_call_and_result_then_the_answer(daemon: FakeDaemon, cli: Any) -> None:
    result = cli("ask", "ops", "is nginx ok?")
    assert result.code == 0
    assert result.err.splitlines() == PROGRESS
    assert result.out == ANSWER + "\n"
    request = daemon.requests_to("/v1/agents/ops/prompt")[0]
    assert request.json() == {"text": "is nginx ok?", "wait": True}
    assert request.headers["accept"] == "text/event-stream"


def test_a_failed_turn_exits_1_with_its_error(daemon: FakeDaemon, cli: Any) -> None:
    result = cli("ask", "ops", "fail")
    assert result.code == 1
    assert "! llm: the model endpoint answered 500 five times" in result.err
    assert "failed: the model endpoint answered 500 five times" in result.err.splitlines()[-1]
    assert result.out == ""


def test_ask_json_is_one_document_with_the_tool_calls(daemon: FakeDaemon, cli: Any) -> None:
    result = cli("ask", "ops", "is nginx ok?", "--json")
    assert result.code == 0
    assert result.err == ""
    summary = result.json()
    assert summary["status"] == "completed"
    assert summary["answer"] == ANSWER
    assert summary["steps"] == 3
    assert summary["turn"].startswith("t_")
    first, second = summary["tool_calls"]
    assert (first["tool"], first["action"], first["args"]) == (
        "systemd",
        "status",
        {"unit": "nginx.service"},
    )
    assert first["result"]["ok"] is True
    assert first["duration_ms"] == 12
    assert second["decision"] == "deny"
    assert second["result"]["error"]["code"] == "permission_denied"


def test_ask_json_of_a_failed_turn_exits_1(daemon: FakeDaemon, cli: Any) -> None:
    result = cli("ask", "ops", "fail", "--json")
    assert result.code == 1
    assert result.json()["status"] == "failed"
    assert result.json()["errors"][0]["kind"] == "llm"


def test_ask_json_stream_prints_every_event_as_a_json_line(daemon: FakeDaemon, cli: Any) -> None:
    result = cli("ask", "ops", "is nginx ok?", "--json", "--stream")
    assert result.code == 0
    events = result.json_lines()
    assert events[0]["topic"] == "agent.prompt"
    assert events[-1]["topic"] == "agent.turn_completed"
    assert len({event["turn"] for event in events}) == 1
    seqs = [event["seq"] for event in events]
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))


def test_no_wait_prints_the_turn_id_at_once(daemon: FakeDaemon, cli: Any) -> None:
    result = cli("ask", "ops", "later", "--no-wait")
    assert result.code == 0
    assert result.out.strip().startswith("t_01JD")
    assert daemon.requests[0].json() == {"text": "later", "wait": False}


def test_text_dash_reads_the_request_from_stdin(
    daemon: FakeDaemon, cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("from a runbook\n"))
    assert cli("ask", "ops", "-").code == 0
    assert daemon.requests[0].json()["text"] == "from a runbook\n"


def test_a_dropped_prompt_stream_resumes_without_gap_or_duplicate(
    daemon: FakeDaemon, cli: Any
) -> None:
    daemon.drop_prompt_stream_after = 3
    result = cli("ask", "ops", "is nginx ok?")
    assert result.code == 0
    assert result.err.splitlines() == PROGRESS
    assert result.out == ANSWER + "\n"
    resumed = daemon.requests_to("/v1/events/stream")
    assert resumed[0].query["agent"] == "ops"
    assert int(resumed[0].query["since"]) > 4


def test_ask_a_busy_agent_is_a_conflict(daemon: FakeDaemon, cli: Any) -> None:
    result = cli("ask", "audit", "hello")
    assert result.code == 1
    assert "agent_busy" in result.err


def test_ask_an_unknown_agent_fails(daemon: FakeDaemon, cli: Any) -> None:
    result = cli("ask", "nosuch", "hello", "--json")
    assert result.code == 1
    assert result.json()["error"]["code"] == "agent_not_found"


def test_ctrl_c_stops_waiting_and_names_the_turn(daemon: FakeDaemon) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "sysward.cli.main", "ask", "ops", "slow"],
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stderr is not None
    first_line = process.stderr.readline()  # the turn is under way
    assert first_line.startswith("· Checking nginx first.")
    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=10) == 130
    rest = process.stderr.read()
    assert "stopped waiting for turn t_" in rest
    assert "Traceback" not in rest
    health = ControlClient(str(daemon.socket_path)).get("/v1/health")
    assert health["status"] == "ok"  # Ctrl-C reached the CLI only
