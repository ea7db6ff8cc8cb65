"""An agent over real components: its turns, what the model is shown, policy, and resuming.

Every test runs a real EventLog in tmp_path, a real scripted OpenAI-compatible
server on 127.0.0.1, the real client and tool registry, driven through the
Supervisor, and waits on bus subscriptions.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest
from pydantic import JsonValue

from sysward.agents.payloads import (
    LlmResponded,
    MessageAdded,
    Payload,
    Prompted,
    ToolDispatched,
)
from sysward.agents.roles import Role, RolePolicy
from sysward.agents.turn import MAX_MODEL_ERROR_STREAK
from sysward.config import PolicyRule
from sysward.events import topics
from sysward.events.query import EventQuery
from sysward.events.record import NewEvent
from sysward.llm import ChatMessage, ToolCall
from sysward.llm.scripted import (
    ScriptedHang,
    ScriptedLlmServer,
    error_reply,
    json_call_completion,
    native_call,
    text_completion,
    tool_calls_completion,
)
from sysward.tools import ToolErr, ToolOk

from .rig import AGENT, TEST_ROLE, WAIT_S, AgentRig, AgentSetup, TurnRecord, wait_for_turn

BAD_JSON_CALL: dict[str, JsonValue] = {
    "id": "c1",
    "type": "function",
    "function": {"name": "crypto_sha256", "arguments": '{"data": '},
}
UNKNOWN_TOOL_CALL = native_call("netcat_scan", {"host": "x"}, call_id="c2")
INVALID_ARGS_CALL = native_call("crypto_sha256", {"bytes": "abc"}, call_id="c3")


def contents(messages: list[dict[str, Any]]) -> str:
    """Every message content of a request, joined: what the model was shown."""
    return "\n".join(str(message.get("content") or "") for message in messages)


def dialogue(messages: list[dict[str, Any]]) -> list[tuple[str, str | None]]:
    return [(message["role"], message.get("content")) for message in messages]


def error_code(result: ToolOk | ToolErr) -> str | None:
    return result.error.code if isinstance(result, ToolErr) else None


# -- the ordinary path -----------------------------------------------------------------


async def test_a_plain_answer_completes_the_turn(
    rig: AgentRig, llm_server: ScriptedLlmServer
) -> None:
    llm_server.enqueue(text_completion("the disk is 40% full"))
    await rig.start()
    record = await rig.ask("how full is the disk?")
    assert record.completed.status == "completed"
    assert record.completed.answer == "the disk is 40% full"
    assert dialogue(rig.request_messages(0)) == [
        ("system", TEST_ROLE.prompt),
        ("user", "how full is the disk?"),
    ]


async def test_the_model_is_offered_only_the_roles_tools(
    rig: AgentRig, llm_server: ScriptedLlmServer
) -> None:
    llm_server.enqueue(text_completion("ok"))
    role = Role(name="narrow", description="d", prompt="p", tools=["crypto:sha256", "notes"])
    await rig.start(AgentSetup(role=role))
    await rig.ask("hi")
    assert sorted(rig.offered_functions(0)) == ["crypto_sha256", "notes_count", "notes_write"]


async def test_a_tool_result_is_what_the_model_sees_next(
    rig: AgentRig, llm_server: ScriptedLlmServer
) -> None:
    llm_server.enqueue(
        tool_calls_completion(native_call("crypto_sha256", {"data": "abc"}, call_id="c1")),
        text_completion("hashed"),
    )
    await rig.start()
    record = await rig.ask("hash abc")
    assert record.completed.answer == "hashed"
    (tool_message,) = [m for m in rig.request_messages(1) if m["role"] == "tool"]
    assert tool_message["tool_call_id"] == "c1"
    result = json.loads(tool_message["content"])
    assert result["ok"] is True
    assert result["output"]["hex"] == hashlib.sha256(b"abc").hexdigest()


async def test_json_mode_calls_run_and_their_results_come_back_as_text(
    rig: AgentRig, llm_server: ScriptedLlmServer
) -> None:
    llm_server.enqueue(
        json_call_completion("crypto", "sha256", {"data": "abc"}), text_completion("hashed")
    )
    await rig.start(AgentSetup(endpoint={"tool_calls": "json"}))
    record = await rig.ask("hash abc")
    assert record.completed.answer == "hashed"
    assert isinstance(record.results("crypto")[0].result, ToolOk)
    assert rig.offered_functions(0) == []
    assert hashlib.sha256(b"abc").hexdigest() in contents(rig.request_messages(1))


async def test_call_ids_reused_by_the_server_in_each_reply_all_run(
    rig: AgentRig, llm_server: ScriptedLlmServer
) -> None:
    # tool_calls_completion numbers calls per reply: both steps call `call_0`.
    llm_server.enqueue(
        tool_calls_completion(native_call("notes_write", {"text": "one"})),
        tool_calls_completion(native_call("notes_write", {"text": "two"})),
        text_completion("two notes"),
    )
    await rig.start()
    record = await rig.ask("write two notes")
    assert record.completed.status == "completed"
    assert rig.notes.written == ["one", "two"]
    assert [d.call_id for d in record.dispatches] == ["call_0", "call_0"]


# -- malformed output --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("bad_call", "shown"),
    [
        (BAD_JSON_CALL, "arguments are not valid JSON"),
        (UNKNOWN_TOOL_CALL, "unknown function 'netcat_scan'"),
        (INVALID_ARGS_CALL, "invalid_args"),
    ],
    ids=["bad-json-args", "unknown-tool", "invalid-args"],
)
async def test_a_malformed_call_is_an_error_the_model_sees_and_can_correct(
    rig: AgentRig, llm_server: ScriptedLlmServer, bad_call: dict[str, JsonValue], shown: str
) -> None:
    llm_server.enqueue(tool_calls_completion(bad_call), text_completion("corrected"))
    await rig.start()
    record = await rig.ask("hash something")
    assert record.completed.answer == "corrected"
    assert shown not in contents(rig.request_messages(0))
    assert shown in contents(rig.request_messages(1))
    assert record.errors == []


async def test_three_malformed_steps_in_a_row_end_the_turn_with_an_error(
    rig: AgentRig, llm_server: ScriptedLlmServer
) -> None:
    llm_server.enqueue(
        tool_calls_completion(BAD_JSON_CALL),
        tool_calls_completion(UNKNOWN_TOOL_CALL),
        tool_calls_completion(INVALID_ARGS_CALL),
    )
    await rig.start()
    record = await rig.ask("hash something")
    assert "arguments are not valid JSON" in contents(rig.request_messages(1))
    assert "unknown function 'netcat_scan'" in contents(rig.request_messages(2))
    assert [error_code(r.result) for r in record.results("crypto")] == ["invalid_args"]
    (error,) = record.errors
    assert error.kind == "malformed_output"
    assert f"{MAX_MODEL_ERROR_STREAK} steps in a row" in error.message
    assert record.completed.status == "failed"
    assert llm_server.call_count == MAX_MODEL_ERROR_STREAK


async def test_max_steps_ends_the_turn_with_an_error(
    rig: AgentRig, llm_server: ScriptedLlmServer
) -> None:
    llm_server.enqueue(
        tool_calls_completion(native_call("notes_count", {})),
        tool_calls_completion(native_call("notes_count", {})),
    )
    await rig.start(AgentSetup(max_steps=2))
    record = await rig.ask("count forever")
    (error,) = record.errors
    assert error.kind == "max_steps"
    assert "max_steps=2" in error.message
    assert record.completed.status == "failed"
    assert record.completed.steps == 2
    assert len(record.results("notes")) == 2


# -- LLM failures ------------------------------------------------------------------------


async def test_an_llm_400_fails_the_turn_at_once_and_the_agent_serves_the_next(
    rig: AgentRig, llm_server: ScriptedLlmServer
) -> None:
    llm_server.enqueue(
        error_reply(400, "this model does not support tools"),
        text_completion("second answer"),
    )
    await rig.start(AgentSetup(endpoint={"max_retries": 3}))
    failed = await rig.ask("first")
    (error,) = failed.errors
    assert error.kind == "llm"
    assert "HTTP 400" in error.message
    assert "this model does not support tools" in error.message
    assert failed.completed.status == "failed"
    assert failed.completed.error == error.message
    assert llm_server.call_count == 1  # not retried
    served = await rig.ask("second")
    assert served.completed.answer == "second answer"


async def test_a_429_is_retried_after_retry_after_then_succeeds(
    rig: AgentRig, llm_server: ScriptedLlmServer
) -> None:
    llm_server.enqueue(
        error_reply(429, "slow down", headers={"Retry-After": "0.05"}),
        text_completion("after waiting"),
    )
    await rig.start(AgentSetup(endpoint={"max_retries": 1}))
    record = await rig.ask("hello")
    assert record.completed.answer == "after waiting"
    (reply,) = record.replies
    assert reply.attempts == 2
    assert record.errors == []


async def test_a_hung_endpoint_fails_the_turn_within_the_timeout_and_the_agent_survives(
    rig: AgentRig, llm_server: ScriptedLlmServer
) -> None:
    llm_server.enqueue(ScriptedHang(), text_completion("back again"))
    await rig.start(AgentSetup(endpoint={"timeout_s": 0.5}))
    failed = await rig.ask("are you there?")
    (error,) = failed.errors
    assert error.kind == "llm"
    assert "no complete response within 0.5 s" in error.message
    assert failed.completed.status == "failed"
    served = await rig.ask("and now?")
    assert served.completed.answer == "back again"


# -- policy -------------------------------------------------------------------------------


async def test_an_allowed_write_runs_and_the_dispatch_names_the_rule(
    rig: AgentRig, llm_server: ScriptedLlmServer
) -> None:
    llm_server.enqueue(
        tool_calls_completion(native_call("notes_write", {"text": "x"})), text_completion("ok")
    )
    await rig.start()
    record = await rig.ask("note x")
    (dispatch,) = record.dispatches
    assert (dispatch.decision, dispatch.rule, dispatch.effect) == (
        "allow",
        "policy.rules.0",
        "write",
    )
    assert rig.notes.written == ["x"]


async def test_a_read_only_agent_is_denied_a_write_even_when_rules_allow_it(
    rig: AgentRig, llm_server: ScriptedLlmServer
) -> None:
    llm_server.enqueue(
        tool_calls_completion(native_call("notes_write", {"text": "x"})), text_completion("ok")
    )
    await rig.start(AgentSetup(read_only=True))
    record = await rig.ask("note x")
    (dispatch,) = record.dispatches
    assert dispatch.decision == "deny"
    assert dispatch.reason is not None and "read-only" in dispatch.reason
    (result,) = record.results("notes")
    assert error_code(result.result) == "permission_denied"
    assert "permission_denied" in contents(rig.request_messages(1))
    assert rig.notes.written == []


async def test_a_read_no_rule_matches_is_allowed(
    rig: AgentRig, llm_server: ScriptedLlmServer
) -> None:
    llm_server.enqueue(tool_calls_completion(native_call("notes_count", {})), text_completion("ok"))
    await rig.start(AgentSetup(rules=()))
    record = await rig.ask("count")
    (dispatch,) = record.dispatches
    assert (dispatch.decision, dispatch.rule) == ("allow", None)
    assert isinstance(record.results("notes")[0].result, ToolOk)


async def test_the_roles_own_rules_are_checked_before_the_global_ones(
    rig: AgentRig, llm_server: ScriptedLlmServer
) -> None:
    llm_server.enqueue(
        tool_calls_completion(native_call("notes_write", {"text": "secret"})),
        text_completion("ok"),
    )
    no_secrets = PolicyRule(
        tool="notes", match={"text": "secret*"}, decision="deny", reason="no secrets in notes"
    )
    role = TEST_ROLE.model_copy(update={"policy": RolePolicy(rules=[no_secrets])})
    await rig.start(AgentSetup(role=role))
    record = await rig.ask("note the secret")
    (dispatch,) = record.dispatches
    assert dispatch.decision == "deny"
    assert dispatch.rule == "role tester rule 0"
    assert dispatch.reason == "no secrets in notes"
    assert rig.notes.written == []


async def test_a_call_the_role_no_longer_allows_after_a_restart_is_denied(
    rig: AgentRig, llm_server: ScriptedLlmServer
) -> None:
    # The model cannot name an un-offered tool (it decodes as unknown); the role
    # check matters when a turn resumes under a role that has since changed.
    call = ToolCall(id="c1", tool="notes", action="write", args={"text": "x"})
    await write_turn_until_reply(rig, "t_before", [call])
    llm_server.enqueue(text_completion("understood"))
    narrowed = Role(name="narrow", description="d", prompt="p", tools=["crypto"])
    record = await resume(rig, "t_before", AgentSetup(role=narrowed))
    (dispatch,) = record.dispatches
    assert dispatch.decision == "deny"
    assert dispatch.reason == "notes:write is not in the role's tools"
    (result,) = record.results("notes")
    assert error_code(result.result) == "permission_denied"
    assert "not in the role's tools" in contents(rig.request_messages(0))
    assert rig.notes.written == []


# -- durability and history --------------------------------------------------------------


async def test_the_dispatch_is_durable_before_the_tool_runs(
    rig: AgentRig, llm_server: ScriptedLlmServer
) -> None:
    llm_server.enqueue(
        tool_calls_completion(native_call("probe_look", {}, call_id="c1")),
        text_completion("looked"),
    )
    await rig.start()
    record = await rig.ask("look at the log")
    # The probe read the log while it ran: its own dispatch was already there.
    assert rig.probe.seen_dispatches == [["c1"]]
    (dispatch,) = record.of(topics.AGENT_TOOL_DISPATCH)
    (result,) = record.of("tool.probe")
    assert dispatch.seq < result.seq


async def test_the_result_is_durable_before_the_next_llm_call(
    rig: AgentRig, llm_server: ScriptedLlmServer
) -> None:
    llm_server.enqueue(
        tool_calls_completion(native_call("notes_count", {})), text_completion("counted")
    )
    await rig.start()
    record = await rig.ask("count")
    (result,) = record.of("tool.notes")
    second_reply = record.of(topics.AGENT_LLM_RESPONSE)[1]
    assert result.seq < second_reply.seq


async def test_history_is_rebuilt_from_the_log_after_a_restart(
    rig: AgentRig, llm_server: ScriptedLlmServer
) -> None:
    llm_server.enqueue(text_completion("first answer"), text_completion("second answer"))
    await rig.start()
    await rig.ask("first question")
    await rig.restart()
    record = await rig.ask("second question")
    assert record.completed.answer == "second answer"
    assert dialogue(rig.request_messages(1)) == [
        ("system", TEST_ROLE.prompt),
        ("user", "first question"),
        ("assistant", "first answer"),
        ("user", "second question"),
    ]


async def test_queued_prompts_run_in_order_one_at_a_time(
    rig: AgentRig, llm_server: ScriptedLlmServer
) -> None:
    llm_server.enqueue(*(text_completion(f"a{n}") for n in (1, 2, 3)))
    supervisor = await rig.start()
    async with rig.bus.subscribe(topics.AGENT_TURN_COMPLETED, agent=AGENT) as completed:
        turns = [str(await supervisor.prompt(AGENT, f"q{n}")) for n in (1, 2, 3)]
        done = [await completed.next(WAIT_S) for _ in turns]
    assert [event.turn for event in done] == turns
    assert [event.data["answer"] for event in done] == ["a1", "a2", "a3"]
    for index in range(3):
        asked = [c for role, c in dialogue(rig.request_messages(index)) if role == "user"]
        assert asked == [f"q{n}" for n in range(1, index + 2)]
    page = await rig.log.query(EventQuery(agent=AGENT, topic="agent.>"))
    worked_on = [
        turns.index(event.turn)
        for event in page.events
        if event.turn in turns and event.topic != topics.AGENT_PROMPT
    ]
    assert worked_on == sorted(worked_on)


async def test_a_tools_bug_is_an_error_result_not_a_crash(
    rig: AgentRig, llm_server: ScriptedLlmServer
) -> None:
    llm_server.enqueue(tool_calls_completion(native_call("boom_go", {})), text_completion("oh"))
    supervisor = await rig.start()
    record = await rig.ask("go")
    (result,) = record.results("boom")
    assert error_code(result.result) == "internal_error"
    assert "ZeroDivisionError" in contents(rig.request_messages(1))
    assert record.errors == []
    assert supervisor.slot_info(AGENT)[3] == 0  # never restarted


# -- resuming a turn written by an earlier run ----------------------------------------------


async def write_turn_until_reply(rig: AgentRig, turn: str, calls: list[ToolCall]) -> None:
    """The log of a turn whose process died right after the model's reply was durable."""
    reply = ChatMessage(role="assistant", content=None, tool_calls=calls)
    items: list[tuple[str, Payload]] = [
        (topics.AGENT_PROMPT, Prompted(text="do it", max_steps=5)),
        (topics.AGENT_MESSAGE, MessageAdded(message=ChatMessage(role="user", content="do it"))),
        (
            topics.AGENT_LLM_RESPONSE,
            LlmResponded(step=1, tool_calls=calls, latency_ms=1, attempts=1),
        ),
        (topics.AGENT_MESSAGE, MessageAdded(message=reply)),
    ]
    await append(rig, turn, items)


async def append(rig: AgentRig, turn: str, items: list[tuple[str, Payload]]) -> None:
    log = await rig.open_log()
    await log.append_many(
        [
            NewEvent(
                topic=topic, type="test", agent=AGENT, turn=turn, source="tests", data=p.to_data()
            )
            for topic, p in items
        ]
    )


def dispatched(call: ToolCall, effect: str) -> tuple[str, Payload]:
    return (
        topics.AGENT_TOOL_DISPATCH,
        ToolDispatched.model_validate(
            {
                "call_id": call.id,
                "tool": call.tool,
                "action": call.action,
                "args": call.args,
                "effect": effect,
                "decision": "allow",
            }
        ),
    )


async def resume(rig: AgentRig, turn: str, setup: AgentSetup | None = None) -> TurnRecord:
    """Start the rig over the log as it is and wait for `turn` to complete."""
    async with rig.bus.subscribe(topics.AGENT_TURN_COMPLETED, agent=AGENT, since=0) as completed:
        await rig.start(setup)
        await wait_for_turn(completed, turn)
    return await rig.turn(turn)


async def test_a_write_dispatched_before_a_restart_is_reported_interrupted_not_rerun(
    rig: AgentRig, llm_server: ScriptedLlmServer
) -> None:
    call = ToolCall(id="c1", tool="notes", action="write", args={"text": "x"})
    await write_turn_until_reply(rig, "t_before", [call])
    await append(rig, "t_before", [dispatched(call, "write")])
    llm_server.enqueue(text_completion("I will check first"))
    record = await resume(rig, "t_before")
    assert rig.notes.written == []
    (result,) = record.results("notes")
    assert result.interrupted
    assert error_code(result.result) == "interrupted"
    assert "outcome is unknown" in contents(rig.request_messages(0))
    assert record.completed.answer == "I will check first"


async def test_a_read_dispatched_before_a_restart_is_run_again(
    rig: AgentRig, llm_server: ScriptedLlmServer
) -> None:
    call = ToolCall(id="c1", tool="notes", action="count", args={})
    await write_turn_until_reply(rig, "t_before", [call])
    await append(rig, "t_before", [dispatched(call, "read")])
    llm_server.enqueue(text_completion("zero notes"))
    record = await resume(rig, "t_before")
    reruns = [d for d in record.dispatches if d.rerun]
    assert len(reruns) == 1
    (result,) = record.results("notes")
    assert isinstance(result.result, ToolOk)
    assert result.result.output == {"count": 0}


async def test_a_recorded_reply_is_not_requested_again_after_a_restart(
    rig: AgentRig, llm_server: ScriptedLlmServer
) -> None:
    call = ToolCall(id="c1", tool="notes", action="write", args={"text": "x"})
    await write_turn_until_reply(rig, "t_before", [call])
    llm_server.enqueue(text_completion("written"))
    record = await resume(rig, "t_before")
    assert rig.notes.written == ["x"]
    assert llm_server.call_count == 1
    assert [r.step for r in record.replies] == [1, 2]
