"""Recovery reads an agent's index and decodes only what it can still send or must resume.

A restarted agent holds fewer messages than the log has, yet the request it
builds is the very one a full fold would build (the same turns, the same
"N earlier messages were left out" note).
"""

from __future__ import annotations

import pytest

from sysward.agents import agent as agent_module
from sysward.agents.agent import Agent
from sysward.agents.history import ContextLimits, fit_context, messages_from_events
from sysward.events.query import EventQuery
from sysward.llm.scripted import ScriptedLlmServer, text_completion

from .rig import AGENT, AgentRig, AgentSetup

# About 800 characters: three or four of these turns fit, the rest are left out.
SMALL = ContextLimits(budget_tokens=200, max_result_chars=1000)


def agent_of(rig: AgentRig) -> Agent:
    _, _, agent, _ = rig.supervisor.slot_info(AGENT)
    assert agent is not None
    return agent


async def test_a_restarted_agent_loads_only_the_sendable_messages_and_sends_the_same(
    rig: AgentRig, llm_server: ScriptedLlmServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(agent_module, "RECOVERY_CHUNK", 4)  # messages read 4 at a time
    setup = AgentSetup(limits=SMALL)
    await rig.start(setup)
    for index in range(12):
        llm_server.enqueue(text_completion(f"answer {index} " + "x" * 150))
        completed = (await rig.ask(f"question {index}")).completed
        assert completed.status == "completed"
    prompt = setup.role.prompt
    before = fit_context(prompt, agent_of(rig).conversation, SMALL)

    await rig.restart()
    recovered = agent_of(rig)
    await recovered.catch_up()
    assert recovered.conversation == []  # idle: its history is not read yet
    conversation, omitted = await recovered.context()
    everything = messages_from_events(await rig.log.query_all(EventQuery(agent=AGENT)))
    assert len(everything) == 24
    assert len(conversation) < len(everything)
    assert omitted == len(everything) - len(conversation)
    after = fit_context(prompt, conversation, SMALL, omitted=omitted)
    assert after == before
    assert "earlier messages of this conversation were left out" in (after[0].content or "")

    # The next request is the one a full fold of the log would have built.
    llm_server.enqueue(text_completion("answer 12"))
    await rig.ask("question 12")
    logged = messages_from_events(await rig.log.query_all(EventQuery(agent=AGENT)))
    expected = fit_context(prompt, logged[:-1], SMALL)  # all but the answer it got
    sent = rig.request_messages(-1)
    assert [(m["role"], m["content"]) for m in sent] == [(m.role, m.content) for m in expected]
