"""Queries over the event log: filters by topic pattern, type, agent, turn, seq and time."""

from __future__ import annotations

from datetime import datetime
from functools import cached_property

from pydantic import BaseModel, ConfigDict, Field, model_validator

from sysward.events.patterns import MATCH_ALL, TopicPattern
from sysward.events.record import Event

MAX_QUERY_LIMIT = 10_000


class EventQuery(BaseModel):
    """Which events to read. Seq bounds: `after_seq` exclusive, `until_seq` inclusive."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    topic: str | None = Field(None, description="Topic pattern, e.g. tool.* or agent.>")
    type: str | None = None
    agent: str | None = None
    turn: str | None = None
    after_seq: int = Field(0, ge=0, description="Only events with seq greater than this")
    until_seq: int | None = Field(None, ge=0, description="Only events with seq up to this")
    since_ts: datetime | None = Field(None, description="Only events at or after this time")
    until_ts: datetime | None = Field(None, description="Only events at or before this time")
    limit: int = Field(1000, ge=1, le=MAX_QUERY_LIMIT)

    @model_validator(mode="after")
    def _pattern_and_times_are_valid(self) -> EventQuery:
        if self.topic is not None:
            TopicPattern.parse(self.topic)
        for ts in (self.since_ts, self.until_ts):
            if ts is not None and ts.tzinfo is None:
                raise ValueError("times must carry a timezone (e.g. 2026-11-22T18:00:00Z)")
        return self

    @cached_property
    def pattern(self) -> TopicPattern:
        return TopicPattern.parse(self.topic) if self.topic is not None else MATCH_ALL

    @property
    def has_header_filters(self) -> bool:
        """Whether topic, type or turn narrow the query (the agent index alone does not)."""
        return self.topic is not None or self.type is not None or self.turn is not None

    def matches(self, event: Event) -> bool:
        """Whether an event passes every filter but the seq bounds and the limit."""
        return (
            (self.since_ts is None or event.ts >= self.since_ts)
            and (self.until_ts is None or event.ts <= self.until_ts)
            and self.matches_fields(event.topic, event.type, event.agent, event.turn)
        )

    def matches_fields(self, topic: str, type_: str, agent: str | None, turn: str | None) -> bool:
        """The header filters alone (time is applied as seq bounds by the store)."""
        return (
            (self.type is None or type_ == self.type)
            and (self.agent is None or agent == self.agent)
            and (self.turn is None or turn == self.turn)
            and self.pattern.matches(topic)
        )


class EventPage(BaseModel):
    """A query's answer: the matching events and how far the log was scanned.

    `scanned_seq` lets a caller continue exactly where this page stopped, even
    when the last events scanned did not match.
    """

    model_config = ConfigDict(frozen=True)

    events: list[Event]
    scanned_seq: int
