"""Canned but realistic bodies for the fake daemon: agents, tools, and a turn's events."""

from __future__ import annotations

import hashlib
from typing import Any

VERSION = "0.1.0"
ANSWER = "nginx is active (running), main PID 812; I did not delete its logs (policy)."

Json = dict[str, Any]


def agent(name: str, **overrides: Any) -> Json:
    """An AgentInfo body."""
    body: Json = {
        "name": name,
        "role": "sysadmin",
        "llm": "default",
        "state": "idle",
        "origin": "config",
        "max_steps": 25,
        "read_only": False,
        "current_turn": None,
        "unfinished_turns": [],
        "restarts": 0,
    }
    return body | overrides


def initial_agents() -> dict[str, Json]:
    return {
        "ops": agent("ops"),
        "audit": agent(
            "audit",
            role="default",
            origin="runtime",
            state="busy",
            read_only=True,
            current_turn="t_01JDAUDIT00000000000000000",
            restarts=2,
        ),
    }


def approval() -> Json:
    """One pending approval (the server's shape is not fixed yet; these are its likely fields)."""
    return {
        "id": "ap_01JDAPPROVE000000000000000",
        "agent": "ops",
        "turn": "t_01JDTURN0000000000000000000",
        "call_id": "call_restart",
        "tool": "systemd",
        "action": "restart",
        "args": {"unit": "nginx.service"},
        "reason": "no rule matched a write action: approval required",
        "requested_at": "2026-11-22T18:15:38.123456Z",
        "expires_at": "2026-11-22T19:15:38.123456Z",
    }


UNIT_ARGS_SCHEMA: Json = {
    "title": "UnitArgs",
    "description": "A systemd unit.",
    "type": "object",
    "properties": {
        "unit": {"type": "string", "description": "Unit name, e.g. nginx.service"},
        "mode": {
            "enum": ["replace", "fail"],
            "default": "replace",
            "description": "Job mode",
        },
    },
    "required": ["unit"],
    "additionalProperties": False,
}

EXEC_ARGS_SCHEMA: Json = {
    "title": "ExecArgs",
    "type": "object",
    "properties": {
        "command": {"type": "string", "description": "Shell command line, run with bash -c"},
        "timeout_s": {"type": "number", "default": 60, "description": "Seconds"},
        "cwd": {"anyOf": [{"type": "string"}, {"type": "null"}], "default": None},
        "env": {"type": "object", "additionalProperties": {"type": "string"}},
    },
    "required": ["command"],
}


def tools() -> list[Json]:
    """A GET /v1/tools body."""
    return [
        {
            "name": "bash",
            "description": "Run shell commands.",
            "actions": [
                {
                    "name": "exec",
                    "effect": "write",
                    "description": "Run a shell command and capture its output.",
                    "parameters": EXEC_ARGS_SCHEMA,
                }
            ],
        },
        {
            "name": "systemd",
            "description": "Inspect and control systemd units.",
            "actions": [
                {
                    "name": "status",
                    "effect": "read",
                    "description": "ActiveState, SubState, MainPID and the last result of a unit.",
                    "parameters": UNIT_ARGS_SCHEMA,
                },
                {
                    "name": "restart",
                    "effect": "write",
                    "description": "Restart a unit and wait for the job to finish.",
                    "parameters": UNIT_ARGS_SCHEMA,
                },
            ],
        },
    ]


def chain_report(*, is_intact: bool, last_seq: int) -> Json:
    if is_intact:
        return {
            "ok": True,
            "checked": last_seq,
            "last_seq": last_seq,
            "head": digest(last_seq),
            "first_bad_seq": None,
            "reason": None,
        }
    return {
        "ok": False,
        "checked": 41,
        "last_seq": last_seq,
        "head": digest(last_seq),
        "first_bad_seq": 42,
        "reason": "prev does not match the hash of record 41",
    }


def digest(seq: int) -> str:
    return hashlib.sha256(str(seq).encode()).hexdigest()


def envelope(seq: int, topic: str, type_: str, data: Json, *, agent: str, turn: str | None) -> Json:
    """An event as the log stores it (SPEC.md "Event envelope")."""
    return {
        "seq": seq,
        "ts": f"2026-11-22T18:{seq // 60 % 60:02d}:{seq % 60:02d}.123456Z",
        "topic": topic,
        "type": type_,
        "agent": agent,
        "turn": turn,
        "source": "sysward.agents",
        "data": data,
        "context": {"request_id": f"req_{seq}", "peer_uid": 0},
        "prev": digest(seq - 1),
    }


def _call(call_id: str, tool: str, action: str, args: Json) -> Json:
    return {"id": call_id, "tool": tool, "action": action, "args": args}


def _message(role: str, content: str | None, **extra: Any) -> tuple[str, str, Json]:
    message = {"role": role, "content": content, "tool_calls": [], "tool_call_id": None} | extra
    return ("agent.message", "message", {"message": message})


def _llm(step: int, content: str | None, calls: list[Json]) -> tuple[str, str, Json]:
    usage = {"prompt_tokens": 812, "completion_tokens": 64, "total_tokens": 876}
    data = {"step": step, "content": content, "tool_calls": calls, "usage": usage}
    return ("agent.llm_response", "response", data | {"latency_ms": 830.5, "attempts": 1})


def _dispatch(call: Json, effect: str, decision: str, reason: str | None) -> tuple[str, str, Json]:
    data = {
        "call_id": call["id"],
        "tool": call["tool"],
        "action": call["action"],
        "args": call["args"],
        "effect": effect,
        "decision": decision,
        "rule": None,
        "reason": reason,
        "rerun": False,
    }
    return ("agent.tool_dispatch", "dispatch", data)


def _result(call: Json, result: Json, duration_ms: int) -> tuple[str, str, Json]:
    data = {"call_id": call["id"], "action": call["action"], "result": result}
    return (f"tool.{call['tool']}", "invocation", data | {"duration_ms": duration_ms})


def turn_script(text: str) -> list[tuple[str, str, Json]]:
    """What an agent appends for a prompt: a read call, a denied write, then the answer.

    The prompt "fail" ends the turn failed instead.
    """
    status = _call("call_status", "systemd", "status", {"unit": "nginx.service"})
    delete = _call("call_rm", "bash", "exec", {"command": "rm -rf /var/log/nginx"})
    unit = {"ActiveState": "active", "SubState": "running", "MainPID": 812}
    denied = {"code": "permission_denied", "message": "policy: never recursive deletes"}
    events = [
        ("agent.prompt", "prompt", {"text": text, "max_steps": 25}),
        _message("user", text),
        _llm(1, "Checking nginx first.", [status]),
        _message("assistant", "Checking nginx first.", tool_calls=[status]),
        _dispatch(status, "read", "allow", None),
        _result(status, {"ok": True, "output": unit, "metadata": {}}, 12),
        _message(
            "tool", '{"ok": true, "output": {"ActiveState": "active"}}', tool_call_id="call_status"
        ),
        _llm(2, None, [delete]),
        _dispatch(delete, "write", "deny", "never recursive deletes"),
        _result(delete, {"ok": False, "error": denied | {"details": {}}}, 0),
    ]
    if text == "fail":
        error = "the model endpoint answered 500 five times"
        events.append(("agent.error", "llm", {"kind": "llm", "message": error, "details": {}}))
        events.append(
            (
                "agent.turn_completed",
                "failed",
                {"status": "failed", "steps": 2, "answer": None, "error": error},
            )
        )
        return events
    events.append(_llm(3, ANSWER, []))
    events.append(_message("assistant", ANSWER))
    done = {"status": "completed", "steps": 3, "answer": ANSWER, "error": None}
    events.append(("agent.turn_completed", "completed", done))
    return events
