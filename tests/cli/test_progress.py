"""The live progress lines of a turn, one per event worth showing."""

from __future__ import annotations

from typing import Any

from sysward.cli.progress import describe
from sysward.cli.shapes import Envelope

from .canned import envelope


def event(topic: str, data: dict[str, Any]) -> Envelope:
    return envelope(9, topic, "x", data, agent="ops", turn="t_1")  # type: ignore[return-value]


def test_a_malformed_call_is_shown_with_the_models_words() -> None:
    data = {
        "step": 1,
        "content": "Let me look.",
        "tool_calls": [],
        "malformed": [{"id": "m1", "raw": "{", "error": "unknown function 'bash_exec'"}],
    }
    assert describe(event("agent.llm_response", data)) == (
        "· Let me look.\n✗ malformed call: unknown function 'bash_exec'"
    )


def test_a_final_answer_is_not_progress() -> None:
    data = {"step": 3, "content": "All good.", "tool_calls": []}
    assert describe(event("agent.llm_response", data)) is None


def test_an_approval_request_says_how_to_decide() -> None:
    data = {"id": "ap_1", "tool": "systemd", "action": "restart"}
    assert describe(event("agent.approval_requested", data)) == (
        "? systemd.restart needs approval: sysward approve ap_1  (or: sysward deny ap_1)"
    )


def test_agent_errors_name_their_kind() -> None:
    data = {"kind": "max_steps", "message": "25 steps without an answer"}
    assert describe(event("agent.error", data)) == "! max_steps: 25 steps without an answer"


def test_long_arguments_are_clipped_to_one_line() -> None:
    data = {
        "call_id": "c",
        "tool": "bash",
        "action": "exec",
        "args": {"command": "x" * 500},
        "effect": "write",
        "decision": "allow",
    }
    line = describe(event("agent.tool_dispatch", data))
    assert line is not None
    assert line.startswith('→ bash.exec {"command": "xxx')
    assert line.endswith("…")
    assert len(line) < 200


def test_other_events_are_not_progress() -> None:
    assert describe(event("daemon.started", {"agents": []})) is None
    assert describe(event("tool.inotify.event", {"path": "/etc"})) is None
