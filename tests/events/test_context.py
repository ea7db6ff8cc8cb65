"""Request context: fields bound with contextvars end up on every event appended inside."""

from __future__ import annotations

import asyncio

import pytest
from pydantic import ValidationError

from sysward.events.context import EventContext, bound_context, current_context
from sysward.events.log import EventLog

from .drafts import draft


def test_context_is_empty_outside_a_request() -> None:
    assert current_context() == EventContext()


def test_bound_context_nests_and_restores_on_exit() -> None:
    with bound_context(request_id="req_1", peer_uid=0):
        with bound_context(trace_id="trace_1"):
            assert current_context() == EventContext(
                request_id="req_1", trace_id="trace_1", peer_uid=0
            )
        assert current_context() == EventContext(request_id="req_1", peer_uid=0)
    assert current_context() == EventContext()


def test_bound_context_restores_even_when_the_block_raises() -> None:
    with pytest.raises(RuntimeError), bound_context(request_id="req_1"):
        raise RuntimeError("boom")
    assert current_context().request_id is None


def test_bound_context_rejects_unknown_fields() -> None:
    with pytest.raises(ValidationError, match="user"), bound_context(user="alice"):
        pass


def test_merged_takes_the_other_contexts_set_fields() -> None:
    base = EventContext(request_id="req_1", trace_id="trace_1")
    merged = base.merged(EventContext(trace_id="trace_2", correlation_id="c"))
    assert merged == EventContext(request_id="req_1", trace_id="trace_2", correlation_id="c")


async def test_events_appended_inside_bound_context_carry_it(log: EventLog) -> None:
    with bound_context(request_id="req_42", peer_uid=1000):
        appended = await log.append(draft())
    stored = await log.get(appended.seq)
    assert stored is not None
    assert stored.context == EventContext(request_id="req_42", peer_uid=1000)
    assert appended.context == stored.context


async def test_events_appended_outside_a_context_have_an_empty_one(log: EventLog) -> None:
    appended = await log.append(draft())
    stored = await log.get(appended.seq)
    assert stored is not None
    assert stored.context == EventContext()


async def test_explicit_draft_context_wins_over_the_bound_one(log: EventLog) -> None:
    explicit = EventContext(request_id="req_explicit", correlation_id="corr_1")
    with bound_context(request_id="req_ambient", trace_id="trace_ambient"):
        appended = await log.append(draft(context=explicit))
    stored = await log.get(appended.seq)
    assert stored is not None
    assert stored.context == EventContext(
        request_id="req_explicit", trace_id="trace_ambient", correlation_id="corr_1"
    )


async def test_each_task_keeps_its_own_context_in_one_group_commit(log: EventLog) -> None:
    async def append_as(request_id: str) -> tuple[str, int]:
        with bound_context(request_id=request_id):
            return request_id, (await log.append(draft())).seq

    appended = await asyncio.gather(*(append_as(f"req_{n}") for n in range(50)))
    for request_id, seq in appended:
        stored = await log.get(seq)
        assert stored is not None
        assert stored.context.request_id == request_id
