"""The event envelope: validation of drafts, the byte encoding, timestamps, chain hashes."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import JsonValue, ValidationError

from sysward.events.context import EventContext
from sysward.events.record import (
    GENESIS_PREV,
    Event,
    NewEvent,
    RecordHead,
    format_ts,
    parse_head,
    record_hash,
)

from .drafts import draft

segments = st.text(
    alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-",
    min_size=1,
    max_size=12,
)
topics = st.lists(segments, min_size=1, max_size=5).map(".".join)
# Event text is arbitrary Unicode except lone surrogates, which JSON cannot carry as UTF-8.
texts = st.text(st.characters(exclude_categories=("Cs",)), max_size=40)
json_values: st.SearchStrategy[JsonValue] = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63)
    | st.floats(allow_nan=False, allow_infinity=False)
    | texts,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(texts, children, max_size=4),
    max_leaves=12,
)
timestamps = st.datetimes(
    min_value=datetime(2000, 1, 1),
    max_value=datetime(2200, 1, 1),
    timezones=st.sampled_from(
        [UTC, timezone(timedelta(hours=5, minutes=30)), timezone(timedelta(hours=-8))]
    ),
)
contexts = st.builds(
    EventContext,
    request_id=st.none() | texts,
    trace_id=st.none() | texts,
    correlation_id=st.none() | texts,
    peer_uid=st.none() | st.integers(min_value=0, max_value=2**32),
)
events = st.builds(
    Event,
    seq=st.integers(min_value=1, max_value=2**63),
    ts=timestamps,
    topic=topics,
    type=texts.filter(bool),
    agent=st.none() | texts,
    turn=st.none() | texts,
    source=texts,
    data=st.dictionaries(texts, json_values, max_size=5),
    context=contexts,
    prev=st.binary(min_size=32, max_size=32).map(bytes.hex),
)


names = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,30}", fullmatch=True)
new_events = st.builds(
    NewEvent,
    topic=topics,
    type=names,
    agent=st.none() | names,
    turn=st.none() | names,
    source=names,
    data=st.dictionaries(texts, json_values, max_size=5),
    context=st.none() | contexts,
)


@settings(max_examples=200)
@given(events)
def test_event_survives_encode_then_decode(event: Event) -> None:
    assert Event.decode(event.encode()) == event


@settings(max_examples=100)
@given(events)
def test_encoding_is_stable_so_stored_bytes_hash_the_same_after_a_round_trip(event: Event) -> None:
    raw = event.encode()
    assert Event.decode(raw).encode() == raw
    assert Event.decode(memoryview(raw)) == event


@settings(max_examples=100)
@given(
    new_events,
    st.integers(min_value=1, max_value=2**63),
    timestamps,
    st.binary(min_size=32, max_size=32).map(bytes.hex),
    contexts,
)
def test_committed_event_equals_the_validated_event(
    draft_event: NewEvent, seq: int, ts: datetime, prev: str, context: EventContext
) -> None:
    committed = Event.committed(draft_event, seq=seq, ts=ts, prev=prev, context=context)
    validated = Event.model_validate(
        {**draft_event.model_dump(), "seq": seq, "ts": ts, "prev": prev, "context": context}
    )
    assert committed == validated
    assert committed.model_fields_set == validated.model_fields_set
    assert committed.model_dump() == validated.model_dump()
    assert committed.encode() == validated.encode()
    assert Event.decode(committed.encode()) == committed


@settings(max_examples=100)
@given(new_events, st.integers(min_value=1, max_value=2**63), timestamps)
def test_record_header_is_read_from_the_stored_bytes_without_a_parse(
    draft_event: NewEvent, seq: int, ts: datetime
) -> None:
    event = Event.committed(draft_event, seq=seq, ts=ts, prev=GENESIS_PREV, context=EventContext())
    assert parse_head(event.encode()) == RecordHead(
        seq, format_ts(ts), event.topic, event.type, event.agent, event.turn
    )


def test_record_of_another_shape_has_no_fast_header() -> None:
    assert parse_head(b'{"ts": "x", "seq": 1}') is None
    assert parse_head(b"not json") is None


def test_encoded_envelope_has_exactly_the_spec_fields() -> None:
    event = Event(
        seq=1042,
        ts=datetime(2026, 11, 22, 18, 15, 38, 123456, tzinfo=UTC),
        topic="tool.bash",
        type="invocation",
        agent="ops",
        turn="t_1",
        source="sysward.tools.bash",
        data={"action": "exec", "duration_ms": 12},
        context=EventContext(request_id="req_1"),
        prev=GENESIS_PREV,
    )
    envelope = json.loads(event.encode())
    assert list(envelope) == [
        "seq", "ts", "topic", "type", "agent", "turn", "source", "data", "context", "prev",
    ]  # fmt: skip
    assert envelope["ts"] == "2026-11-22T18:15:38.123456Z"
    assert envelope["context"]["request_id"] == "req_1"


def test_timestamps_are_written_in_utc_with_microseconds() -> None:
    ts = datetime(2026, 1, 2, 8, 0, 0, tzinfo=timezone(timedelta(hours=2)))
    assert format_ts(ts) == "2026-01-02T06:00:00.000000Z"


def test_record_hash_is_the_sha256_of_the_stored_bytes() -> None:
    raw = b'{"seq": 1}'
    assert record_hash(raw) == hashlib.sha256(raw).hexdigest()
    assert record_hash(memoryview(raw)) == record_hash(raw)


def test_genesis_prev_is_64_zero_hex_digits() -> None:
    assert GENESIS_PREV == "0" * 64


@pytest.mark.parametrize(
    "topic", ["", "tool..bash", ".tool", "tool.", "tool bash", "tool.*", "a.>"]
)
def test_draft_with_invalid_topic_is_rejected(topic: str) -> None:
    with pytest.raises(ValidationError, match="topic"):
        draft(topic)


@pytest.mark.parametrize("agent", ["ops\x00evil", "a b", 'say"hi', "-ops", "x" * 129])
def test_draft_agent_must_be_a_plain_name_because_it_keys_the_index(agent: str) -> None:
    with pytest.raises(ValidationError, match="agent"):
        draft(agent=agent)


@pytest.mark.parametrize("field", ["type", "agent", "turn"])
def test_draft_labels_must_not_be_empty(field: str) -> None:
    with pytest.raises(ValidationError, match=field):
        NewEvent.model_validate({"topic": "a.b", "type": "t", "source": "s", field: ""})


def test_draft_rejects_unknown_fields() -> None:
    with pytest.raises(ValidationError, match="seq"):
        NewEvent.model_validate({"topic": "a.b", "type": "t", "source": "s", "seq": 3})


def test_committed_event_must_carry_a_hex_sha256_prev() -> None:
    with pytest.raises(ValidationError, match="prev"):
        Event(seq=1, ts=datetime.now(UTC), topic="a", type="t", source="s", prev="xyz")


def test_committed_event_seq_starts_at_one() -> None:
    with pytest.raises(ValidationError, match="seq"):
        Event(seq=0, ts=datetime.now(UTC), topic="a", type="t", source="s", prev=GENESIS_PREV)
