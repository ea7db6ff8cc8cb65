"""The firing ledger: what every trigger did, folded from its events, and what it may do next.

It is the only memory of debounce, rate limits, seen source events and journal
cursors, so each holds across restarts: the service folds the trigger events
of the log at start and every event it commits after.
"""

from __future__ import annotations

from collections import Counter, OrderedDict, deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

from pydantic import ValidationError

from sysward.config import TriggerSettings
from sysward.events import topics
from sysward.events.record import Event
from sysward.triggers.payloads import (
    PAYLOADS,
    SuppressReason,
    TriggerFired,
    TriggerSuppressed,
    TriggerToggled,
)

HOUR = timedelta(hours=1)
# Source event keys remembered per trigger: enough for any unit or journal replay.
MAX_KEYS = 4096


@dataclass(frozen=True, slots=True)
class Firing:
    """A committed trigger.fired: its seq, and the turn it was to start."""

    seq: int
    agent: str
    turn: str
    prompt: str


@dataclass(slots=True)
class TriggerRecord:
    """One trigger's history, as far as it decides what happens next."""

    fired_at: deque[datetime] = field(default_factory=deque)
    keys: OrderedDict[str, None] = field(default_factory=OrderedDict)
    cursor: str | None = None
    last_due: datetime | None = None
    toggled: TriggerToggled | None = None
    last_firing: Firing | None = None
    resolved_firings: set[int] = field(default_factory=set)
    firings: int = 0
    # Suppressions not yet reported, and whether one was reported since the last firing.
    unreported: Counter[str] = field(default_factory=Counter)
    has_reported: bool = False

    @property
    def last_fired(self) -> datetime | None:
        return self.fired_at[-1] if self.fired_at else None

    def take_unreported(self) -> dict[str, int]:
        """The counted suppressions, to report now; the next one is reported at once."""
        counts, self.unreported = dict(self.unreported), Counter()
        self.has_reported = False
        return counts

    def remember(self, key: str | None) -> None:
        if key is None:
            return
        self.keys[key] = None
        self.keys.move_to_end(key)
        while len(self.keys) > MAX_KEYS:
            self.keys.popitem(last=False)

    def forget_before(self, now: datetime) -> None:
        while self.fired_at and now - self.fired_at[0] >= HOUR:
            self.fired_at.popleft()


Decision = Literal["fire"] | SuppressReason


class Ledger:
    """Every trigger's record, by name."""

    def __init__(self) -> None:
        self.records: dict[str, TriggerRecord] = {}

    def record(self, name: str) -> TriggerRecord:
        return self.records.setdefault(name, TriggerRecord())

    def is_enabled(self, name: str, settings: TriggerSettings) -> bool:
        """The operator's run-time choice, while the config still says what it said then."""
        toggled = self.record(name).toggled
        if toggled is not None and toggled.config_enabled == settings.enabled:
            return toggled.enabled
        return settings.enabled

    def decide(
        self, name: str, settings: TriggerSettings, key: str | None, now: datetime
    ) -> Decision:
        """Whether a matching source event fires now, or why not."""
        record = self.record(name)
        if key is not None and key in record.keys:
            return "duplicate"
        record.forget_before(now)
        last = record.last_fired
        if last is not None and (now - last).total_seconds() < settings.debounce_s:
            return "debounce"
        if len(record.fired_at) >= settings.max_per_hour:
            return "rate_limit"
        return "fire"

    def fold(self, event: Event) -> None:
        """Take one committed trigger event (in seq order); unreadable ones change nothing."""
        model = PAYLOADS.get(event.topic)
        if model is None:
            return
        try:
            payload = model.model_validate(event.data)
        except ValidationError:
            return
        record = self.record(payload.trigger)
        match payload:
            case TriggerFired():
                if not payload.test:  # an operator's test counts against no limit
                    record.fired_at.append(event.ts)
                record.remember(payload.key)
                record.cursor = payload.cursor or record.cursor
                record.last_due = _due(payload.key) or record.last_due
                record.firings += 1
                record.has_reported = False
                if event.agent is not None and event.turn is not None:
                    record.last_firing = Firing(event.seq, event.agent, event.turn, payload.prompt)
            case TriggerSuppressed():
                record.remember(payload.key)
                record.cursor = payload.cursor or record.cursor
                record.last_due = _due(payload.key) or record.last_due
                if payload.firing_seq is not None:
                    record.resolved_firings.add(payload.firing_seq)
            case TriggerToggled():
                record.toggled = payload
        if event.topic == topics.TRIGGER_FIRED:
            record.forget_before(event.ts)


def _due(key: str | None) -> datetime | None:
    """A schedule's keys are its due times ("due:<ISO>")."""
    if key is None or not key.startswith("due:"):
        return None
    try:
        return datetime.fromisoformat(key.removeprefix("due:"))
    except ValueError:
        return None
