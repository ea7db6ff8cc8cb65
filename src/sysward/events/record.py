"""The event envelope of SPEC.md, its byte encoding and its place in the hash chain."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime
from typing import Annotated, NamedTuple, NewType

import pydantic_core
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, JsonValue, field_serializer

from sysward.errors import SyswardError
from sysward.events.context import EventContext
from sysward.events.patterns import MAX_TOPIC_LENGTH, TOPIC_PATTERN

Seq = NewType("Seq", int)

# The `prev` of the first record: no record came before it.
GENESIS_PREV = "0" * 64

# Names in the envelope's header (type, agent, turn, source) are restricted to a
# safe alphabet: they appear in index keys and can be read from a stored record's
# first bytes without a JSON parse (see parse_head).
NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$"
Label = Annotated[str, Field(pattern=NAME_PATTERN)]


class NewEvent(BaseModel):
    """An event as a producer hands it to the log: everything but what commit assigns."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    topic: Annotated[str, Field(pattern=TOPIC_PATTERN, max_length=MAX_TOPIC_LENGTH)]
    type: Label
    agent: Label | None = None
    turn: Label | None = None
    source: Label
    data: dict[str, JsonValue] = Field(default_factory=dict)
    context: EventContext | None = None


class Event(BaseModel):
    """A committed event: durable, numbered and chained to its predecessor."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    seq: int = Field(ge=1)
    ts: AwareDatetime
    topic: str
    type: str
    agent: str | None = None
    turn: str | None = None
    source: str
    data: dict[str, JsonValue] = Field(default_factory=dict)
    context: EventContext = Field(default_factory=EventContext)
    prev: str = Field(pattern=r"^[0-9a-f]{64}$")

    @field_serializer("ts")
    def _ts_as_utc_z(self, ts: datetime) -> str:
        return format_ts(ts)

    def encode(self) -> bytes:
        """The exact bytes stored in the log, hashed by the chain and sent on the wire."""
        return encode_record(
            self.seq,
            format_ts(self.ts),
            self,
            encode_context(self.context),
            encode_data(self.data),
            self.prev,
        )

    @classmethod
    def decode(cls, raw: bytes | memoryview) -> Event:
        return cls.model_validate_json(bytes(raw))

    @classmethod
    def committed(
        cls, draft: NewEvent, *, seq: int, ts: datetime, prev: str, context: EventContext
    ) -> Event:
        """Build the committed form of a validated draft without validating it again.

        This is model_construct without its per-field loop: the log's writer builds
        one per appended event, and model_construct alone cost a third of its time.
        tests/events/test_record.py checks the result equals a validated Event.
        """
        event = cls.__new__(cls)
        values = {
            "seq": seq,
            "ts": ts,
            "topic": draft.topic,
            "type": draft.type,
            "agent": draft.agent,
            "turn": draft.turn,
            "source": draft.source,
            "data": draft.data,
            "context": context,
            "prev": prev,
        }
        object.__setattr__(event, "__dict__", values)
        object.__setattr__(event, "__pydantic_fields_set__", _EVENT_FIELDS)
        object.__setattr__(event, "__pydantic_extra__", None)
        object.__setattr__(event, "__pydantic_private__", None)
        return event


_EVENT_FIELDS = frozenset(Event.model_fields)


class InvalidEventError(SyswardError, ValueError):
    """An event's data cannot be stored as JSON (for example a lone surrogate)."""


class PreparedEvent(NamedTuple):
    """A draft ready for the writer: its context resolved and its data already encoded.

    Encoding happens on the caller's side, so a bad event fails only its own
    append, never the other appends committed in the same batch.
    """

    draft: NewEvent
    context: EventContext
    data_json: bytes


def encode_data(data: dict[str, JsonValue]) -> bytes:
    """The data as JSON; NaN and ±Infinity become null, as JSON has no such numbers."""
    try:
        return pydantic_core.to_json(data, inf_nan_mode="null")
    except (ValueError, pydantic_core.PydanticSerializationError) as exc:
        raise InvalidEventError(f"event data cannot be encoded as JSON: {exc}") from None


def encode_record(
    seq: int,
    ts_text: str,
    fields: NewEvent | Event,
    context_json: bytes,
    data_json: bytes,
    prev: str,
) -> bytes:
    """Encode an envelope in SPEC.md's field order from its already-encoded parts.

    The log's writer calls this directly (it is several times cheaper than
    building and dumping a model per event); Event.encode gives the same bytes.
    """
    header = pydantic_core.to_json(
        {
            "seq": seq,
            "ts": ts_text,
            "topic": fields.topic,
            "type": fields.type,
            "agent": fields.agent,
            "turn": fields.turn,
            "source": fields.source,
        }
    )
    return b"".join(
        (
            header[:-1],
            b',"data":',
            data_json,
            b',"context":',
            context_json,
            b',"prev":"',
            prev.encode(),
            b'"}',
        )
    )


def encode_context(context: EventContext) -> bytes:
    # The trigger fields appear only where set: every record written before they
    # existed encodes to the bytes it was stored (and hashed) as.
    if context.trigger is None and context.trigger_seq is None:
        return pydantic_core.to_json(context.model_dump(exclude=_TRIGGER_FIELDS))
    return pydantic_core.to_json(context.model_dump())


_TRIGGER_FIELDS = {"trigger", "trigger_seq"}


def format_ts(ts: datetime) -> str:
    """`2026-11-22T18:15:38.123456Z`: always UTC, always microseconds."""
    return ts.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def record_hash(raw: bytes | memoryview) -> str:
    """The chain link: hex SHA-256 of a stored record's bytes."""
    return hashlib.sha256(raw).hexdigest()


_HEAD = re.compile(
    rb'^\{"seq":(\d+),"ts":"([^"]+)","topic":"([^"]+)","type":"([^"]+)",'
    rb'"agent":(?:null|"([^"]+)"),"turn":(?:null|"([^"]+)"),'
)


class RecordHead(NamedTuple):
    """The envelope's header fields, read from a stored record without a JSON parse."""

    seq: int
    ts: str
    topic: str
    type: str
    agent: str | None
    turn: str | None


def parse_head(raw: bytes | memoryview) -> RecordHead | None:
    """The header of a stored record, or None when it does not have the expected shape."""
    found = _HEAD.match(bytes(raw[:1024]))
    if found is None:
        return None
    seq, ts, topic, type_, agent, turn = found.groups()
    return RecordHead(
        int(seq),
        ts.decode(),
        topic.decode(),
        type_.decode(),
        agent.decode() if agent is not None else None,
        turn.decode() if turn is not None else None,
    )
