"""Conversation history: rebuilt from `agent.message` events, fitted to the context window."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from sysward.agents.history import (
    CHARS_PER_TOKEN,
    MESSAGE_OVERHEAD_CHARS,
    ContextLimits,
    MessageSizes,
    fit_context,
    messages_from_events,
)
from sysward.agents.payloads import MessageAdded, Prompted
from sysward.events import topics
from sysward.events.record import GENESIS_PREV, Event
from sysward.llm import ChatMessage, ToolCall

SYSTEM = "You are a careful administrator."
LEFT_OUT = re.compile(r"\[sysward: (\d+) earlier messages of this conversation were left out")


def event(seq: int, topic: str, data: Mapping[str, object]) -> Event:
    return Event.model_validate(
        {
            "seq": seq,
            "ts": datetime.now(UTC),
            "topic": topic,
            "type": "test",
            "agent": "ops",
            "turn": "t_1",
            "source": "tests",
            "data": data,
            "prev": GENESIS_PREV,
        }
    )


def user(text: str) -> ChatMessage:
    return ChatMessage(role="user", content=text)


def answer(text: str) -> ChatMessage:
    return ChatMessage(role="assistant", content=text)


def calling(call_id: str) -> ChatMessage:
    call = ToolCall(id=call_id, tool="crypto", action="sha256", args={"data": "abc"})
    return ChatMessage(role="assistant", content=None, tool_calls=[call])


def result(call_id: str, content: str) -> ChatMessage:
    return ChatMessage(role="tool", tool_call_id=call_id, content=content)


def a_turn(name: str, *, result_chars: int = 10) -> list[ChatMessage]:
    """One turn: question, a tool call, its result, the answer."""
    return [
        user(f"{name}?"),
        calling(f"{name}-c"),
        result(f"{name}-c", "r" * result_chars),
        answer(f"{name}!"),
    ]


def size(messages: list[ChatMessage]) -> int:
    """What fit_context charges for these messages, in characters."""
    total = 0
    for message in messages:
        calls = sum(len(call.model_dump_json()) for call in message.tool_calls)
        total += len(message.content or "") + calls + MESSAGE_OVERHEAD_CHARS
    return total


def budget_for(chars: int) -> ContextLimits:
    """Limits whose budget is just enough for the system prompt plus `chars` characters."""
    return ContextLimits(budget_tokens=-(-(len(SYSTEM) + chars) // CHARS_PER_TOKEN))


def left_out(system: ChatMessage) -> int:
    found = LEFT_OUT.search(system.content or "")
    return int(found.group(1)) if found else 0


# -- messages_from_events ---------------------------------------------------------------


def test_the_conversation_is_the_message_events_in_order() -> None:
    messages = [user("q"), calling("c1"), result("c1", "{}"), answer("a")]
    events = [
        event(1, topics.AGENT_PROMPT, Prompted(text="q", max_steps=5).to_data()),
        *(
            event(2 + i, topics.AGENT_MESSAGE, MessageAdded(message=m).to_data())
            for i, m in enumerate(messages)
        ),
        event(9, topics.AGENT_TURN_COMPLETED, {"status": "completed", "steps": 2}),
    ]
    assert messages_from_events(events) == messages


def test_no_message_events_is_an_empty_conversation() -> None:
    prompt = event(1, topics.AGENT_PROMPT, Prompted(text="q", max_steps=5).to_data())
    assert messages_from_events([prompt]) == []


# -- fit_context ---------------------------------------------------------------------------


def test_the_system_prompt_comes_first() -> None:
    out = fit_context(SYSTEM, a_turn("one"), ContextLimits())
    assert out[0] == ChatMessage(role="system", content=SYSTEM)
    assert out[1:] == a_turn("one")


def test_everything_is_sent_when_it_fits() -> None:
    history = a_turn("one") + a_turn("two") + a_turn("three")
    out = fit_context(SYSTEM, history, budget_for(size(history)))
    assert out[1:] == history
    assert left_out(out[0]) == 0


def test_the_oldest_whole_turns_are_dropped_first() -> None:
    one, two, three = a_turn("one"), a_turn("two"), a_turn("three")
    out = fit_context(SYSTEM, one + two + three, budget_for(size(two + three)))
    assert out[1:] == two + three


def test_a_turn_that_does_not_fit_is_dropped_whole_never_split() -> None:
    one, two, three = a_turn("one"), a_turn("two"), a_turn("three")
    # Room for the last turn and all but one message of the one before.
    out = fit_context(SYSTEM, one + two + three, budget_for(size(two[1:] + three)))
    assert out[1:] == three


def test_older_turns_are_not_kept_once_a_newer_one_was_dropped() -> None:
    small, big, last = a_turn("small"), a_turn("big", result_chars=500), a_turn("last")
    out = fit_context(SYSTEM, small + big + last, budget_for(size(small + last)))
    assert out[1:] == last


def test_the_current_turn_is_kept_whole_even_over_budget() -> None:
    older = a_turn("older")
    current = [user("now?"), calling("c"), result("c", "x" * 2000), calling("d")]
    out = fit_context(SYSTEM, older + current, ContextLimits(budget_tokens=10))
    assert out[1:] == current
    assert left_out(out[0]) == len(older)


def test_the_system_prompt_says_how_many_messages_were_left_out() -> None:
    one, two = a_turn("one"), a_turn("two")
    out = fit_context(SYSTEM, one + two, budget_for(size(two)))
    assert out[0].role == "system"
    assert out[0].content is not None and out[0].content.startswith(SYSTEM)
    assert left_out(out[0]) == len(one)


def test_an_oversized_tool_result_is_cut_and_says_so() -> None:
    long_result = result("c", "y" * 500)
    out = fit_context(
        SYSTEM, [user("q"), calling("c"), long_result], ContextLimits(max_result_chars=100)
    )
    content = out[-1].content or ""
    assert content.startswith("y" * 100)
    assert "y" * 101 not in content
    assert "cut to its first 100 of 500 characters" in content
    assert out[-1].tool_call_id == "c"


def test_only_tool_results_are_cut() -> None:
    long_question = user("z" * 500)
    out = fit_context(SYSTEM, [long_question], ContextLimits(max_result_chars=100))
    assert out[1] == long_question


def test_a_result_at_the_cap_is_left_alone() -> None:
    exact = result("c", "y" * 100)
    out = fit_context(SYSTEM, [user("q"), calling("c"), exact], ContextLimits(max_result_chars=100))
    assert out[-1] == exact


# -- properties --------------------------------------------------------------------------------

texts = st.text(alphabet="abc xyz", max_size=60)
call_ids = st.sampled_from(["call_0", "call_1"])
messages = st.one_of(
    st.builds(user, texts),
    st.builds(answer, texts),
    st.builds(calling, call_ids),
    st.builds(result, call_ids, texts),
)


def capped(history: list[ChatMessage], limits: ContextLimits) -> list[ChatMessage]:
    """`history` with each tool result cut the way fit_context cuts it."""
    return [fit_context("", [m], limits)[1] for m in history]


@given(
    history=st.lists(messages, max_size=25),
    budget_tokens=st.integers(min_value=0, max_value=400),
    max_result_chars=st.integers(min_value=1, max_value=80),
)
def test_fitted_context_is_the_system_prompt_then_whole_recent_turns(
    history: list[ChatMessage], budget_tokens: int, max_result_chars: int
) -> None:
    limits = ContextLimits(budget_tokens=budget_tokens, max_result_chars=max_result_chars)
    out = fit_context(SYSTEM, history, limits)
    assert out[0].role == "system"
    assert (out[0].content or "").startswith(SYSTEM)
    kept, full = out[1:], capped(history, limits)
    # A suffix of the conversation...
    assert kept == full[len(full) - len(kept) :]
    # ...that starts where a turn starts, and says how much it left out.
    if kept and len(kept) < len(full):
        assert kept[0].role == "user"
    assert left_out(out[0]) == len(full) - len(kept)
    # The current turn (from the last user message on) is always there.
    users = [i for i, m in enumerate(full) if m.role == "user"]
    current = full[users[-1] :] if users else full
    assert kept[len(kept) - len(current) :] == current


def test_reused_measurements_fit_exactly_as_fresh_ones() -> None:
    limits = ContextLimits(budget_tokens=120, max_result_chars=50)
    sizes = MessageSizes()
    conversation: list[ChatMessage] = []
    for index in range(10):
        conversation.append(ChatMessage(role="user", content=f"question {index}"))
        conversation.append(ChatMessage(role="tool", tool_call_id=f"c{index}", content="r" * 80))
        conversation.append(ChatMessage(role="assistant", content=f"answer {index}"))
        reused = fit_context(SYSTEM, conversation, limits, sizes=sizes)
        assert reused == fit_context(SYSTEM, conversation, limits)
    assert "result cut" in (reused[2].content or "")  # the cut copy is what is reused
