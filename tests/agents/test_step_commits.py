"""How many synced commits a step takes: the durability floor is the count, so it is pinned.

A reply whose calls policy allows and that only read shares its commit with
their dispatch; a write's dispatch is a commit of its own, made before the
write runs. Commits are seen as the batches the log hands its listeners.
"""

from __future__ import annotations

from sysward.events import topics
from sysward.events.record import Event
from sysward.llm.scripted import (
    ScriptedLlmServer,
    native_call,
    text_completion,
    tool_calls_completion,
)

from .rig import AgentRig


def batch_of(batches: list[list[str]], topic: str, index: int = 0) -> list[str]:
    found = [batch for batch in batches if topic in batch]
    return found[index]


async def test_a_read_call_is_dispatched_in_its_reply_s_commit(
    rig: AgentRig, llm_server: ScriptedLlmServer
) -> None:
    log = await rig.open_log()
    batches: list[list[str]] = []
    log.add_listener(lambda events: batches.append([e.topic for e in events]))
    llm_server.enqueue(
        tool_calls_completion(native_call("crypto_sha256", {"data": "x"})),
        text_completion("hashed"),
    )
    await rig.start()
    record = await rig.ask("hash x")
    assert record.completed.answer == "hashed"

    reply = batch_of(batches, topics.AGENT_LLM_RESPONSE)
    assert reply == [topics.AGENT_LLM_RESPONSE, topics.AGENT_MESSAGE, topics.AGENT_TOOL_DISPATCH]
    result = batch_of(batches, "tool.crypto")
    assert result == ["tool.crypto", topics.AGENT_MESSAGE]
    assert len(record.dispatches) == 1 and not record.dispatches[0].rerun


async def test_a_write_call_is_dispatched_in_a_commit_of_its_own_before_it_runs(
    rig: AgentRig, llm_server: ScriptedLlmServer
) -> None:
    log = await rig.open_log()
    batches: list[list[Event]] = []
    log.add_listener(lambda events: batches.append(list(events)))
    llm_server.enqueue(
        tool_calls_completion(native_call("notes_write", {"text": "once"})),
        text_completion("noted"),
    )
    await rig.start()
    assert (await rig.ask("note it")).completed.answer == "noted"

    topics_by_batch = [[e.topic for e in batch] for batch in batches]
    assert batch_of(topics_by_batch, topics.AGENT_LLM_RESPONSE) == [
        topics.AGENT_LLM_RESPONSE,
        topics.AGENT_MESSAGE,
    ]
    assert [topics.AGENT_TOOL_DISPATCH] in topics_by_batch
    assert rig.notes.written == ["once"]
