"""An agent's conversation: rebuilt from `agent.message` events, fitted to the context.

Context strategy (declared, deterministic):
1. the role's system prompt is always first;
2. any single tool result longer than `max_result_chars` is cut, and the cut is
   stated in the message so the model knows it saw part of it;
3. whole turns are dropped oldest first until the estimate (4 characters per
   token) fits `budget_tokens`; the current turn is always kept whole, and a
   note says how many messages were left out.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sysward.agents.payloads import MessageAdded
from sysward.events import topics
from sysward.events.record import Event
from sysward.llm import ChatMessage

CHARS_PER_TOKEN = 4
MESSAGE_OVERHEAD_CHARS = 16


@dataclass(frozen=True, slots=True)
class ContextLimits:
    budget_tokens: int = 24_000
    max_result_chars: int = 12_000


def messages_from_events(events: Iterable[Event]) -> list[ChatMessage]:
    """The conversation, in order, from an agent's `agent.message` events."""
    return [
        MessageAdded.model_validate(event.data).message
        for event in events
        if event.topic == topics.AGENT_MESSAGE
    ]


class MessageSizes:
    """Each message's capped form and estimated size, kept across an agent's requests.

    Without it every request measured the whole conversation again (dumping
    every tool call to JSON): O(history) per step. Entries hold their message,
    so an id is never mistaken for another message's.
    """

    def __init__(self) -> None:
        self._by_id: dict[int, tuple[ChatMessage, int, ChatMessage, int]] = {}

    def measure(self, message: ChatMessage, max_chars: int) -> tuple[ChatMessage, int]:
        """The message as it is sent (a long result cut) and its size in characters."""
        entry = self._by_id.get(id(message))
        if entry is not None and entry[0] is message and entry[1] == max_chars:
            return entry[2], entry[3]
        capped = _cap_result(message, max_chars)
        size = _message_size(capped)
        self._by_id[id(message)] = (message, max_chars, capped, size)
        return capped, size


_Turn = list[tuple[ChatMessage, int]]


def fit_context(
    system_prompt: str,
    messages: Sequence[ChatMessage],
    limits: ContextLimits,
    *,
    omitted: int = 0,
    sizes: MessageSizes | None = None,
) -> list[ChatMessage]:
    """The messages to send: system prompt, then as many recent turns as fit.

    `omitted`: how many older messages were not even loaded (see `covers_context`);
    `sizes`: the caller's measurements from earlier requests, to reuse.
    """
    turns = _split_turns(_measured(messages, limits, sizes or MessageSizes()))
    kept = _fitting_turns(system_prompt, turns, limits)
    dropped = omitted + sum(len(turn) for turn in turns) - sum(len(turn) for turn in kept)
    system = system_prompt
    if dropped:
        system += (
            f"\n\n[sysward: {dropped} earlier messages of this conversation were left out "
            "to fit the context window]"
        )
    out = [ChatMessage(role="system", content=system)]
    for turn in reversed(kept):
        out.extend(message for message, _ in turn)
    return out


def covers_context(
    system_prompt: str,
    newest: Sequence[ChatMessage],
    limits: ContextLimits,
    sizes: MessageSizes,
) -> bool:
    """Whether `newest`, the end of a longer conversation, holds all fit_context would send.

    True once a whole turn in it no longer fits: fit_context stops there, so no
    older message could be sent. Recovery loads messages back to that point only.
    """
    if not newest or newest[0].role != "user":
        return False  # its first turn may begin further back
    turns = _split_turns(_measured(newest, limits, sizes))
    return len(_fitting_turns(system_prompt, turns, limits)) < len(turns)


def _measured(
    messages: Sequence[ChatMessage], limits: ContextLimits, sizes: MessageSizes
) -> list[tuple[ChatMessage, int]]:
    return [sizes.measure(message, limits.max_result_chars) for message in messages]


def _fitting_turns(system_prompt: str, turns: list[_Turn], limits: ContextLimits) -> list[_Turn]:
    """The newest turns that fit the budget, newest first; the newest is always kept."""
    budget = limits.budget_tokens * CHARS_PER_TOKEN - _size(system_prompt)
    kept: list[_Turn] = []
    for index, turn in enumerate(reversed(turns)):
        cost = sum(size for _, size in turn)
        if index > 0 and cost > budget:
            break
        kept.append(turn)
        budget -= cost
    return kept


def _split_turns(messages: Sequence[tuple[ChatMessage, int]]) -> list[_Turn]:
    """Group messages into turns: each user message starts one."""
    turns: list[_Turn] = []
    for message, size in messages:
        if message.role == "user" or not turns:
            turns.append([])
        turns[-1].append((message, size))
    return turns


def _cap_result(message: ChatMessage, max_chars: int) -> ChatMessage:
    content = message.content
    if message.role != "tool" or content is None or len(content) <= max_chars:
        return message
    note = (
        f"\n[sysward: result cut to its first {max_chars} of {len(content)} characters; "
        "ask for less (a limit, an offset, a filter) to see the rest]"
    )
    return message.model_copy(update={"content": content[:max_chars] + note})


def _message_size(message: ChatMessage) -> int:
    calls = sum(_size(call.model_dump_json()) for call in message.tool_calls)
    return _size(message.content or "") + calls + MESSAGE_OVERHEAD_CHARS


def _size(text: str) -> int:
    return len(text)
