"""Queries: every filter, seq and time bounds, limits and `scanned_seq` continuation."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from sysward.events.context import EventContext
from sysward.events.log import EventLog
from sysward.events.query import MAX_QUERY_LIMIT, EventPage, EventQuery
from sysward.events.record import Event, PreparedEvent, encode_data
from sysward.events.store import EventStore

from .drafts import draft

TOPICS = ["test.a", "test.b", "test.a.c", "tool.bash", "agent.prompt", "solo"]
PATTERNS = ["test.>", "test.*", "test.a", "*.a", "*.*.c", ">", "*", "agent.>", "tool.*", "no.such"]
TYPES = ["started", "finished", "failed"]
AGENTS = [None, "ops", "ops2", "op", "db"]
TURNS = [None, "t_1", "t_2"]
EVENT_COUNT = 400
BATCHES = 20


@pytest.fixture(scope="module")
def filled_store(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[EventStore, list[Event]]]:
    """One log of varied events, shared by the property tests (it is only read)."""
    store = EventStore(tmp_path_factory.mktemp("query") / "events")
    rng = random.Random(20261122)
    committed: list[Event] = []
    per_batch = EVENT_COUNT // BATCHES
    try:
        for _ in range(BATCHES):
            drafts = [
                draft(
                    rng.choice(TOPICS),
                    type=rng.choice(TYPES),
                    agent=rng.choice(AGENTS),
                    turn=rng.choice(TURNS),
                    data={"r": rng.random()},
                )
                for _ in range(per_batch)
            ]
            committed += store.append_batch(
                [PreparedEvent(d, EventContext(), encode_data(d.data)) for d in drafts]
            )
        yield store, committed
    finally:
        store.close()


def brute_force(events: list[Event], query: EventQuery) -> list[Event]:
    """The specification of a query, as a filter over every event."""
    return [
        event
        for event in events
        if event.seq > query.after_seq
        and (query.until_seq is None or event.seq <= query.until_seq)
        and (query.topic is None or _pattern_matches(query.topic, event.topic))
        and (query.type is None or event.type == query.type)
        and (query.agent is None or event.agent == query.agent)
        and (query.turn is None or event.turn == query.turn)
        and (query.since_ts is None or event.ts >= query.since_ts)
        and (query.until_ts is None or event.ts <= query.until_ts)
    ]


def _pattern_matches(pattern: str, topic: str) -> bool:
    wanted, parts = pattern.split("."), topic.split(".")
    if wanted[-1] == ">":
        head = wanted[:-1]
        return len(parts) > len(head) and all(
            w in ("*", p) for w, p in zip(head, parts, strict=False)
        )
    return len(parts) == len(wanted) and all(
        w in ("*", p) for w, p in zip(wanted, parts, strict=True)
    )


@st.composite
def queries(draw: st.DrawFn, events: list[Event]) -> EventQuery:
    stamps = sorted({event.ts for event in events})

    def a_time() -> datetime:
        ts = draw(st.sampled_from(stamps)) + timedelta(
            microseconds=draw(st.sampled_from([-1, 0, 1]))
        )
        # The same instant in another zone must select the same events.
        return ts.astimezone(draw(st.sampled_from([UTC, timezone(timedelta(hours=-7))])))

    return EventQuery(
        topic=draw(st.none() | st.sampled_from(PATTERNS)),
        type=draw(st.none() | st.sampled_from(TYPES)),
        agent=draw(st.none() | st.sampled_from([*AGENTS[1:], "nobody"])),
        turn=draw(st.none() | st.sampled_from(TURNS[1:])),
        after_seq=draw(st.integers(0, EVENT_COUNT + 2)),
        until_seq=draw(st.none() | st.integers(0, EVENT_COUNT + 2)),
        since_ts=a_time() if draw(st.booleans()) else None,
        until_ts=a_time() if draw(st.booleans()) else None,
        limit=draw(st.integers(1, 60) | st.just(MAX_QUERY_LIMIT)),
    )


def continue_after(query: EventQuery, page: EventPage) -> EventQuery:
    return EventQuery.model_validate({**query.model_dump(), "after_seq": page.scanned_seq})


@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_query_returns_what_the_brute_force_filter_returns(
    filled_store: tuple[EventStore, list[Event]], data: st.DataObject
) -> None:
    store, events = filled_store
    query = data.draw(queries(events))
    expected = brute_force(events, query)
    page = store.query(query)
    assert page.events == expected[: query.limit]
    # Nothing that matches was left behind below scanned_seq, and the scan never goes back.
    assert page.scanned_seq >= query.after_seq
    assert [e for e in expected if e.seq <= page.scanned_seq] == page.events


@settings(max_examples=50, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_continuing_from_scanned_seq_never_skips_or_repeats(
    filled_store: tuple[EventStore, list[Event]], data: st.DataObject
) -> None:
    store, events = filled_store
    drawn = data.draw(queries(events))
    original = EventQuery.model_validate(
        {**drawn.model_dump(), "limit": data.draw(st.integers(1, 7))}
    )
    query, collected = original, []
    for _ in range(EVENT_COUNT + 1):
        page = store.query(query)
        collected += page.events
        if len(page.events) < query.limit:
            break
        assert page.scanned_seq == page.events[-1].seq
        query = continue_after(query, page)
    assert collected == brute_force(events, original)


async def test_query_by_topic_pattern(log: EventLog) -> None:
    await log.append_many([draft("tool.bash"), draft("tool.inotify.event"), draft("agent.prompt")])
    page = await log.query(EventQuery(topic="tool.*"))
    assert [e.topic for e in page.events] == ["tool.bash"]
    page = await log.query(EventQuery(topic="tool.>"))
    assert [e.topic for e in page.events] == ["tool.bash", "tool.inotify.event"]


async def test_query_by_type_and_turn(log: EventLog) -> None:
    await log.append_many(
        [
            draft(type="started", turn="t_1"),
            draft(type="finished", turn="t_1"),
            draft(type="started", turn="t_2"),
        ]
    )
    assert [e.seq for e in (await log.query(EventQuery(type="started"))).events] == [1, 3]
    assert [e.seq for e in (await log.query(EventQuery(turn="t_1"))).events] == [1, 2]
    both = await log.query(EventQuery(type="started", turn="t_2"))
    assert [e.seq for e in both.events] == [3]


async def test_agent_query_returns_exactly_that_agents_events(log: EventLog) -> None:
    agents = ["op", "ops", "ops2", None, "ops", "db", "ops", "op"]
    await log.append_many([draft(agent=agent) for agent in agents])
    page = await log.query(EventQuery(agent="ops"))
    assert [e.seq for e in page.events] == [2, 5, 7]
    assert all(e.agent == "ops" for e in page.events)
    assert (await log.query(EventQuery(agent="nobody"))).events == []


async def test_agent_query_combines_with_topic_type_and_turn(log: EventLog) -> None:
    await log.append_many(
        [
            draft("tool.bash", agent="ops", type="invocation", turn="t_1"),
            draft("agent.prompt", agent="ops", type="invocation", turn="t_1"),
            draft("tool.bash", agent="ops", type="invocation", turn="t_2"),
            draft("tool.bash", agent="db", type="invocation", turn="t_1"),
            draft("tool.bash", agent="ops", type="other", turn="t_1"),
        ]
    )
    query = EventQuery(agent="ops", topic="tool.*", type="invocation", turn="t_1")
    assert [e.seq for e in (await log.query(query)).events] == [1]


async def test_seq_bounds_exclude_after_and_include_until(log: EventLog) -> None:
    await log.append_many([draft() for _ in range(10)])
    page = await log.query(EventQuery(after_seq=3, until_seq=6))
    assert [e.seq for e in page.events] == [4, 5, 6]
    assert page.scanned_seq == 6


async def test_time_bounds_are_inclusive(log: EventLog) -> None:
    first = await log.append_many([draft(), draft()])
    middle = await log.append_many([draft(), draft()])
    last = await log.append_many([draft()])
    everything = first + middle + last
    since = await log.query(EventQuery(since_ts=middle[0].ts))
    assert since.events == [e for e in everything if e.ts >= middle[0].ts]
    until = await log.query(EventQuery(until_ts=middle[0].ts))
    assert until.events == [e for e in everything if e.ts <= middle[0].ts]
    assert middle[0] in since.events
    assert middle[0] in until.events


async def test_limit_stops_the_page_at_the_last_returned_event(log: EventLog) -> None:
    await log.append_many([draft("test.a" if n % 3 == 0 else "test.b") for n in range(12)])
    page = await log.query(EventQuery(topic="test.a", limit=2))
    assert [e.seq for e in page.events] == [1, 4]
    assert page.scanned_seq == 4
    rest = await log.query(EventQuery(topic="test.a", after_seq=page.scanned_seq))
    assert [e.seq for e in rest.events] == [7, 10]
    assert rest.scanned_seq == 12


async def test_scanned_seq_covers_trailing_events_that_did_not_match(log: EventLog) -> None:
    await log.append_many([draft("test.a"), draft("test.b"), draft("test.b")])
    page = await log.query(EventQuery(topic="test.a"))
    assert [e.seq for e in page.events] == [1]
    assert page.scanned_seq == 3


async def test_query_past_the_tail_is_empty_and_does_not_move_backwards(log: EventLog) -> None:
    await log.append_many([draft(), draft()])
    page = await log.query(EventQuery(after_seq=5))
    assert page.events == []
    assert page.scanned_seq >= 2


async def test_query_on_an_empty_log_is_empty(log: EventLog) -> None:
    page = await log.query(EventQuery())
    assert page.events == []
    assert page.scanned_seq == 0


async def test_queried_events_equal_the_acknowledged_ones(log: EventLog) -> None:
    appended = await log.append_many(
        [draft(agent="ops", turn="t_1", data={"nested": {"list": [1, 2.5, None, "x"]}})]
    )
    assert (await log.query(EventQuery(agent="ops"))).events == appended


@pytest.mark.parametrize(
    "fields",
    [
        {"topic": "tool.>.x"},
        {"since_ts": datetime(2026, 1, 1)},
        {"until_ts": datetime(2026, 1, 1)},
        {"limit": 0},
        {"limit": MAX_QUERY_LIMIT + 1},
        {"after_seq": -1},
        {"colour": "red"},
    ],
)
def test_invalid_queries_are_rejected(fields: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        EventQuery.model_validate(fields)
