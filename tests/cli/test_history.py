"""`sysward history AGENT` and `sysward turn ID`."""

from __future__ import annotations

from typing import Any

from .canned import ANSWER
from .fake_daemon import FakeDaemon


def test_history_reads_as_a_conversation(daemon: FakeDaemon, cli: Any) -> None:
    cli("ask", "ops", "is nginx ok?")
    result = cli("history", "ops")
    assert result.code == 0
    lines = result.out.splitlines()
    assert lines[0].startswith("── turn t_01JD")
    assert lines[1:] == [
        "you: is nginx ok?",
        "ops: Checking nginx first.",
        '  → systemd.status {"unit": "nginx.service"}',
        '  ← ok {"ActiveState": "active"}',
        f"ops: {ANSWER}",
    ]


def test_an_empty_history_says_so(daemon: FakeDaemon, cli: Any) -> None:
    assert cli("history", "ops").out.strip() == "ops has no conversation yet"


def test_history_json(daemon: FakeDaemon, cli: Any) -> None:
    cli("ask", "ops", "is nginx ok?")
    history = cli("history", "ops", "--json").json()
    assert history["agent"] == "ops"
    assert [message["role"] for message in history["messages"]] == [
        "user",
        "assistant",
        "tool",
        "assistant",
    ]


def test_history_of_an_unknown_agent_fails(daemon: FakeDaemon, cli: Any) -> None:
    assert cli("history", "nosuch").code == 1


def test_turn_shows_prompt_calls_and_answer(daemon: FakeDaemon, cli: Any) -> None:
    turn = cli("ask", "ops", "is nginx ok?", "--json").json()["turn"]
    result = cli("turn", turn)
    assert result.code == 0
    lines = result.out.splitlines()
    assert lines[0] == f"turn {turn} of ops: completed, 3 steps"
    assert lines[1] == "you: is nginx ok?"
    assert '  → systemd.status {"unit": "nginx.service"}' in lines
    assert lines[-1] == f"ops: {ANSWER}"


def test_a_failed_turn_exits_1(daemon: FakeDaemon, cli: Any) -> None:
    turn = cli("ask", "ops", "fail", "--json").json()["turn"]
    result = cli("turn", turn)
    assert result.code == 1
    assert result.out.splitlines()[-1] == "error: the model endpoint answered 500 five times"
    assert cli("turn", turn, "--json").json()["status"] == "failed"


def test_an_unknown_turn_fails(daemon: FakeDaemon, cli: Any) -> None:
    result = cli("turn", "t_nosuch")
    assert result.code == 1
    assert "turn_not_found" in result.err
