"""The trigger service: one watching task per enabled trigger, and the firing of its events.

A matching source event is decided in memory at once (duplicate, debounce, rate
limit), so a storm costs a counter per event, never an append. A firing is
`trigger.fired` (its turn id chosen in advance) committed before the prompt is
submitted through the supervisor, as the control API submits one. At start the
ledger is folded from the log; a firing whose prompt never reached the log (a
crash in between) is submitted then, once, under its recorded turn id.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from pydantic import BaseModel, ConfigDict, JsonValue

from sysward.agents.ids import TurnId, new_turn_id
from sysward.agents.supervisor import AgentConflict, AgentNotFound, Supervisor
from sysward.config import TriggerSettings
from sysward.errors import SyswardError
from sysward.events import topics
from sysward.events.context import bound_context
from sysward.events.log import EventLog
from sysward.events.query import EventQuery
from sysward.events.record import Event, NewEvent
from sysward.events.scan import AgentOutline
from sysward.triggers.ledger import Firing, Ledger, TriggerRecord
from sysward.triggers.payloads import (
    SuppressReason,
    TriggerError,
    TriggerFired,
    TriggerPayload,
    TriggerSuppressed,
    TriggerToggled,
)
from sysward.triggers.source import Source, SourceEvent, SourceUnavailable
from sysward.triggers.template import render

_log = logging.getLogger(__name__)
SOURCE = "sysward.triggers"
# Counted suppressions are written at most this often, one event per trigger.
REPORT_INTERVAL_S = 60.0
RETRY_INITIAL_S = 1.0
RETRY_MAX_S = 60.0
# Fired triggers read back from the log at start, newest first per agent.
MAX_TRIGGER_EVENTS_READ = 20_000

SourceFactory = Callable[[str, TriggerSettings, TriggerRecord], Source]


class TriggerNotFound(SyswardError):
    """No trigger of that name in the configuration."""


class TriggerInfo(BaseModel):
    """One trigger as `GET /v1/triggers` shows it."""

    model_config = ConfigDict(frozen=True)

    name: str
    source: str
    agent: str
    enabled: bool
    config_enabled: bool
    state: str
    error: str | None
    debounce_s: float
    max_per_hour: int
    firings: int
    fired_last_hour: int
    last_fired: str | None
    match: dict[str, JsonValue]


class TestOutcome(BaseModel):
    """What `sysward triggers test NAME` shows: the prompt, and the firing when --fire."""

    model_config = ConfigDict(frozen=True)

    name: str
    agent: str
    prompt: str
    fields: dict[str, str]
    fired_seq: int | None = None
    turn: str | None = None


@dataclass(slots=True)
class _Watch:
    task: asyncio.Task[None]
    state: str = "starting"
    error: str | None = None


def match_of(settings: TriggerSettings) -> dict[str, JsonValue]:
    """The trigger's source settings: what it watches and for what."""
    return settings.model_dump(
        mode="json", exclude={"agent", "prompt", "debounce_s", "max_per_hour", "enabled"}
    )


class TriggerService:
    """Starts, stops and reloads the triggers; commits their firings and suppressions."""

    def __init__(
        self,
        log: EventLog,
        supervisor: Supervisor,
        triggers: Mapping[str, TriggerSettings],
        sources: SourceFactory,
    ) -> None:
        self._log = log
        self._supervisor = supervisor
        self._settings = dict(triggers)
        self._sources = sources
        self.ledger = Ledger()
        self._watches: dict[str, _Watch] = {}
        self._tasks: set[asyncio.Task[object]] = set()
        self._reporter: asyncio.Task[None] | None = None
        self._closed = False

    # -- lifecycle ---------------------------------------------------------------

    async def start(self, outlines: Mapping[str, AgentOutline]) -> None:
        """Fold the ledger from the log, finish interrupted firings, start watching."""
        seqs = sorted(seq for outline in outlines.values() for seq in outline.trigger_seqs)
        for event in await self._log.fetch(seqs[-MAX_TRIGGER_EVENTS_READ:]):
            self.ledger.fold(event)
        for name in sorted(self.ledger.records):
            await self._finish_interrupted(name)
        for name in self._settings:
            self._apply(name)
        self._reporter = asyncio.create_task(self._report_forever(), name="trigger-reports")

    async def close(self) -> None:
        self._closed = True
        tasks = [watch.task for watch in self._watches.values()] + list(self._tasks)
        if self._reporter is not None:
            tasks.append(self._reporter)
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._watches.clear()

    async def reload(self, triggers: Mapping[str, TriggerSettings]) -> None:
        """New settings: a trigger whose settings changed restarts its source."""
        old, self._settings = self._settings, dict(triggers)
        for name in set(old) | set(self._settings):
            if old.get(name) != self._settings.get(name):
                await self._stop_watch(name)
                self._apply(name)

    def _apply(self, name: str) -> None:
        """Watch if enabled and not watching yet; a disabled trigger watches nothing."""
        settings = self._settings.get(name)
        if settings is None or self._closed or name in self._watches:
            return
        if not self.ledger.is_enabled(name, settings):
            return
        watch = _Watch(
            task=asyncio.create_task(self._watch(name, settings), name=f"trigger-{name}")
        )
        self._watches[name] = watch

    async def _stop_watch(self, name: str) -> None:
        watch = self._watches.pop(name, None)
        if watch is None:
            return
        watch.task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await watch.task

    async def _watch(self, name: str, settings: TriggerSettings) -> None:
        """Run the source; when it fails, record why (once per message) and retry later."""
        delay, last_error = RETRY_INITIAL_S, None
        while True:
            watch = self._watches[name]
            try:
                source = self._sources(name, settings, self.ledger.record(name))
                watch.state, watch.error = "watching", None
                await source.run(lambda event: self.offer(name, event))
                message = "the source stopped"
            except asyncio.CancelledError:
                raise
            except SourceUnavailable as exc:
                message = str(exc)
            except Exception as exc:  # a source's bug must not end the trigger or the daemon
                _log.exception("trigger %s: source failed", name)
                message = f"{type(exc).__name__}: {exc}"
            watch.state, watch.error = "error", message
            if message != last_error:
                _log.error("trigger %s cannot watch: %s (retrying)", name, message)
                await self._append(
                    name,
                    settings,
                    topics.TRIGGER_ERROR,
                    "unavailable",
                    TriggerError(trigger=name, message=message),
                )
                last_error = message
            await asyncio.sleep(delay)
            delay = min(delay * 2, RETRY_MAX_S)

    # -- firing ------------------------------------------------------------------

    def offer(self, name: str, event: SourceEvent) -> None:
        """A matching source event (on the loop): decide now, commit in the background."""
        settings = self._settings.get(name)
        if settings is None or self._closed:
            return
        record = self.ledger.record(name)
        now = datetime.now(UTC)
        decision = self.ledger.decide(name, settings, event.key, now)
        if decision == "duplicate":
            return  # the exactly-once check itself: a replay after a restart
        if decision == "fire" and not self._supervisor.accepts_prompts(settings.agent):
            decision = "agent_unavailable"
        if decision != "fire":
            self._suppress(name, settings, decision, event)
            return
        # Taken at once, before the commit: the next event of a burst is already debounced.
        record.fired_at.append(now)
        record.remember(event.key)
        self._spawn(self._fire(name, settings, event, suppressed=record.take_unreported()))

    def _suppress(
        self, name: str, settings: TriggerSettings, reason: SuppressReason, event: SourceEvent
    ) -> None:
        record = self.ledger.record(name)
        if record.has_reported:
            record.unreported[reason] += 1
            return
        record.has_reported = True
        report = TriggerSuppressed(
            trigger=name,
            reasons={reason: 1},
            key=event.key,
            cursor=event.cursor,
            message=_why(reason, settings),
        )
        self._spawn(self._append(name, settings, topics.TRIGGER_SUPPRESSED, reason, report))

    async def _fire(
        self,
        name: str,
        settings: TriggerSettings,
        event: SourceEvent,
        *,
        suppressed: dict[str, int],
        test: bool = False,
    ) -> tuple[int, str]:
        record = self.ledger.record(name)
        prompt = render(settings.prompt, event.fields)
        turn = new_turn_id()
        fired = TriggerFired(
            trigger=name,
            source=settings.source,
            key=event.key,
            cursor=event.cursor,
            fields=event.fields,
            match=match_of(settings),
            prompt=prompt,
            suppressed=suppressed,
            test=test,
        )
        with bound_context(trigger=name):
            committed = await self._log.append(
                NewEvent(
                    topic=topics.TRIGGER_FIRED,
                    type=settings.source,
                    agent=settings.agent,
                    turn=turn,
                    source=SOURCE,
                    data=fired.to_data(),
                )
            )
        record.cursor = event.cursor or record.cursor
        record.firings += 1
        firing = Firing(committed.seq, settings.agent, turn, prompt)
        record.last_firing = firing
        _log.info(
            "trigger %s fired (seq %d): turn %s of agent %s",
            name,
            committed.seq,
            turn,
            settings.agent,
        )
        await self._start_turn(name, firing)
        return committed.seq, turn

    async def _start_turn(self, name: str, firing: Firing) -> None:
        with bound_context(trigger=name, trigger_seq=firing.seq):
            try:
                await self._supervisor.prompt(firing.agent, firing.prompt, turn=TurnId(firing.turn))
            except (AgentNotFound, AgentConflict) as exc:
                report = TriggerSuppressed(
                    trigger=name,
                    reasons={"agent_unavailable": 1},
                    firing_seq=firing.seq,
                    message=str(exc),
                )
                await self._log.append(
                    NewEvent(
                        topic=topics.TRIGGER_SUPPRESSED,
                        type="agent_unavailable",
                        agent=firing.agent,
                        source=SOURCE,
                        data=report.to_data(),
                    )
                )

    async def _finish_interrupted(self, name: str) -> None:
        """A firing whose prompt is not in the log (a crash came between): send it now."""
        record = self.ledger.records[name]
        firing = record.last_firing
        if firing is None or firing.seq in record.resolved_firings:
            return
        query = EventQuery(
            agent=firing.agent,
            turn=firing.turn,
            topic=topics.AGENT_PROMPT,
            after_seq=firing.seq,
            limit=1,
        )
        if (await self._log.query(query)).events:
            return
        _log.warning(
            "trigger %s: firing %d never started its turn; starting it now", name, firing.seq
        )
        await self._start_turn(name, firing)

    async def _report_forever(self) -> None:
        while True:
            await asyncio.sleep(REPORT_INTERVAL_S)
            await self.flush_reports()

    async def flush_reports(self) -> None:
        """Write the counted suppressions of every trigger (one event each, when any)."""
        for name, record in list(self.ledger.records.items()):
            settings = self._settings.get(name)
            if not record.unreported or settings is None:
                continue
            reasons = record.take_unreported()
            record.has_reported = True
            report = TriggerSuppressed(
                trigger=name,
                reasons=reasons,
                cursor=record.cursor,
                message=f"{sum(reasons.values())} matching events suppressed since the last report",
            )
            await self._append(name, settings, topics.TRIGGER_SUPPRESSED, "coalesced", report)

    async def _append(
        self,
        name: str,
        settings: TriggerSettings,
        topic: str,
        type_: str,
        payload: TriggerPayload,
    ) -> Event:
        with bound_context(trigger=name):
            return await self._log.append(
                NewEvent(
                    topic=topic,
                    type=type_,
                    agent=settings.agent,
                    source=SOURCE,
                    data=payload.to_data(),
                )
            )

    def _spawn(self, work: Coroutine[object, object, object]) -> None:
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[object]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and (exc := task.exception()) is not None:
            _log.error("trigger firing failed: %s", exc, exc_info=exc)

    # -- operators ---------------------------------------------------------------

    def infos(self) -> list[TriggerInfo]:
        now = datetime.now(UTC)
        return [self.info(name, now) for name in sorted(self._settings)]

    def info(self, name: str, now: datetime | None = None) -> TriggerInfo:
        settings = self._require(name)
        record = self.ledger.record(name)
        record.forget_before(now or datetime.now(UTC))
        enabled = self.ledger.is_enabled(name, settings)
        watch = self._watches.get(name)
        last = record.last_fired
        return TriggerInfo(
            name=name,
            source=settings.source,
            agent=settings.agent,
            enabled=enabled,
            config_enabled=settings.enabled,
            state=(watch.state if watch else "disabled") if enabled else "disabled",
            error=watch.error if watch else None,
            debounce_s=settings.debounce_s,
            max_per_hour=settings.max_per_hour,
            firings=record.firings,
            fired_last_hour=len(record.fired_at),
            last_fired=last.isoformat().replace("+00:00", "Z") if last else None,
            match=match_of(settings),
        )

    async def set_enabled(self, name: str, enabled: bool, uid: int | None) -> TriggerInfo:
        """Enable or disable at run time; recorded, so it holds across restarts."""
        settings = self._require(name)
        toggled = TriggerToggled(
            trigger=name, enabled=enabled, config_enabled=settings.enabled, uid=uid
        )
        event = await self._append(
            name, settings, topics.TRIGGER_TOGGLED, "enabled" if enabled else "disabled", toggled
        )
        self.ledger.fold(event)
        if enabled:
            self._apply(name)
        else:
            await self._stop_watch(name)
        return self.info(name)

    async def test(self, name: str, fields: Mapping[str, str], *, fire: bool) -> TestOutcome:
        """The prompt a firing with these fields sends; with `fire`, fire it for real."""
        settings = self._require(name)
        fields = {"test": "true", **fields}
        outcome = TestOutcome(
            name=name, agent=settings.agent, prompt=render(settings.prompt, fields), fields=fields
        )
        if not fire:
            return outcome
        if not self._supervisor.accepts_prompts(settings.agent):
            raise AgentConflict(
                f"agent {settings.agent!r} is not running; `sysward agent start {settings.agent}`"
            )
        seq, turn = await self._fire(
            name, settings, SourceEvent(key=None, fields=fields), suppressed={}, test=True
        )
        return outcome.model_copy(update={"fired_seq": seq, "turn": turn})

    def _require(self, name: str) -> TriggerSettings:
        settings = self._settings.get(name)
        if settings is None:
            known = ", ".join(sorted(self._settings)) or "none"
            raise TriggerNotFound(f"no trigger named {name!r} (triggers: {known})")
        return settings


def _why(reason: SuppressReason, settings: TriggerSettings) -> str:
    match reason:
        case "debounce":
            return f"within debounce_s={settings.debounce_s:g} of the last firing"
        case "rate_limit":
            return f"max_per_hour={settings.max_per_hour} reached"
        case "agent_unavailable":
            return f"agent {settings.agent!r} is not running"
        case _:
            return "already fired for this source event"
