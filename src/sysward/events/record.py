"""The event envelope of SPEC.md, its byte encoding and its place in the hash chain."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Annotated, NewType

from pydantic import BaseModel, ConfigDict, Field, JsonValue, field_serializer, field_validator

from sysward.events.context import EventContext
from sysward.events.patterns import validate_topic

Seq = NewType("Seq", int)

# The `prev` of the first record: no record came before it.
GENESIS_PREV = "0" * 64

Label = Annotated[str, Field(min_length=1, max_length=128)]


class NewEvent(BaseModel):
    """An event as a producer hands it to the log: everything but what commit assigns."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    topic: str
    type: Label
    agent: Label | None = None
    turn: Label | None = None
    source: Label
    data: dict[str, JsonValue] = Field(default_factory=dict)
    context: EventContext | None = None

    @field_validator("topic")
    @classmethod
    def _topic_is_valid(cls, topic: str) -> str:
        return validate_topic(topic)

    @field_validator("agent")
    @classmethod
    def _agent_has_no_nul(cls, agent: str | None) -> str | None:
        # NUL separates the agent from the seq in the per-agent index key.
        if agent is not None and "\x00" in agent:
            raise ValueError("agent name must not contain NUL")
        return agent


class Event(BaseModel):
    """A committed event: durable, numbered and chained to its predecessor."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    seq: int = Field(ge=1)
    ts: datetime
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
        return self.model_dump_json().encode()

    @classmethod
    def decode(cls, raw: bytes | memoryview) -> Event:
        return cls.model_validate_json(bytes(raw))

    @classmethod
    def committed(
        cls, draft: NewEvent, *, seq: int, ts: datetime, prev: str, context: EventContext
    ) -> Event:
        """Build the committed form of a validated draft without validating it again."""
        return cls.model_construct(
            seq=seq,
            ts=ts,
            topic=draft.topic,
            type=draft.type,
            agent=draft.agent,
            turn=draft.turn,
            source=draft.source,
            data=draft.data,
            context=context,
            prev=prev,
        )


def format_ts(ts: datetime) -> str:
    """`2026-11-22T18:15:38.123456Z`: always UTC, always microseconds."""
    return ts.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def record_hash(raw: bytes | memoryview) -> str:
    """The chain link: hex SHA-256 of a stored record's bytes."""
    return hashlib.sha256(raw).hexdigest()
