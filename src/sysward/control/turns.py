"""Answers folded from the log: a turn's progress (`TurnInfo`) and an agent's history.

Both read stored records and fold them with pure functions, so what the API
reports is exactly what the log says.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import timedelta
from typing import cast

from pydantic import JsonValue

from sysward.agents.ids import turn_created_at
from sysward.control.models import HistoryMessage, TurnInfo, TurnStatus
from sysward.events import topics
from sysward.events.log import EventLog
from sysward.events.query import EventQuery
from sysward.events.record import parse_head
from sysward.events.scan import RawRecord

FINAL_STATUSES = frozenset({"completed", "failed", "quarantined", "cancelled"})


# A turn's events are never older than its id: the id is minted just before its
# prompt is appended, and commit times never go backwards. The slack covers a
# wall clock stepped back between the two.
TURN_CLOCK_SLACK = timedelta(minutes=10)


async def turn_origin(log: EventLog, turn: str) -> tuple[int, str | None] | None:
    """The seq of a turn's first record and its agent, or None when the log has no such turn.

    Searched from the time in the turn's id on (binary search by time), so
    this does not scan the whole log.
    """
    created = turn_created_at(turn)
    since = created - TURN_CLOCK_SLACK if created is not None else None
    page = await log.query_raw(EventQuery(turn=turn, since_ts=since, limit=1))
    if not page.records:
        return None
    first = page.records[0]
    head = parse_head(first.raw)
    return first.seq, head.agent if head is not None else None


async def read_turn(log: EventLog, turn: str) -> list[RawRecord]:
    """A turn's records: found from its origin on, through its agent's index."""
    origin = await turn_origin(log, turn)
    if origin is None:
        return []
    seq, agent = origin
    return await log.query_all_raw(EventQuery(turn=turn, agent=agent, after_seq=seq - 1))


def envelopes(records: Iterable[RawRecord]) -> list[dict[str, JsonValue]]:
    return [cast(dict[str, JsonValue], json.loads(record.raw)) for record in records]


def fold_turn_info(
    turn: str, events: list[dict[str, JsonValue]], *, is_current: bool
) -> TurnInfo | None:
    """A turn's state from its events (in seq order); None when there are none."""
    if not events:
        return None
    info = TurnInfo(turn=turn, agent=str(events[0].get("agent") or ""), status="pending")
    for event in events:
        _fold(info, event)
    if info.status == "pending" and (is_current or info.steps > 0):
        info.status = "running"
    info.events = events
    return info


def _fold(info: TurnInfo, event: dict[str, JsonValue]) -> None:
    topic, data = event.get("topic"), event.get("data")
    if not isinstance(data, dict):
        return
    if topic == topics.AGENT_PROMPT:
        text = data.get("text")
        info.prompt = text if isinstance(text, str) else None
    elif topic == topics.AGENT_LLM_RESPONSE:
        info.steps += 1
    elif topic == topics.AGENT_TURN_COMPLETED:
        status = data.get("status")
        if isinstance(status, str) and status in FINAL_STATUSES:
            info.status = cast(TurnStatus, status)
        answer, error = data.get("answer"), data.get("error")
        info.answer = answer if isinstance(answer, str) else None
        info.error = error if isinstance(error, str) else None


def history_messages(events: Iterable[dict[str, JsonValue]]) -> list[HistoryMessage]:
    """The conversation as the API shows it, from `agent.message` envelopes."""
    messages = []
    for event in events:
        data = event.get("data")
        message = data.get("message") if isinstance(data, dict) else None
        if event.get("topic") != topics.AGENT_MESSAGE or not isinstance(message, dict):
            continue
        messages.append(
            HistoryMessage.model_validate(
                {
                    "seq": event.get("seq"),
                    "turn": event.get("turn"),
                    "role": message.get("role"),
                    "content": message.get("content"),
                    "tool_calls": message.get("tool_calls") or [],
                    "tool_call_id": message.get("tool_call_id"),
                }
            )
        )
    return messages
