"""Durable approvals: the hash of an action, approval ids, and the index of pending ones.

An approval is two events of a turn: `agent.approval_requested` (policy said
`ask`; the turn parks) and `agent.approval_decided` (an operator approved or
denied it, the agent recorded its expiry, or the turn was cancelled). The first
decision recorded is the one that counts. `ApprovalBook` is the daemon's index
of pending approvals: folded from the log at start, then kept current by a log
listener, so listing or deciding one never scans the log.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass

from pydantic import JsonValue

from sysward.agents.ids import ulid
from sysward.agents.payloads import (
    ApprovalDecided,
    ApprovalRequested,
    ApprovalVerdict,
    TurnCompleted,
)
from sysward.errors import SyswardError
from sysward.events import topics
from sysward.events.log import EventLog
from sysward.events.query import EventQuery
from sysward.events.record import Event, NewEvent
from sysward.events.scan import AgentOutline

SOURCE = "sysward.agents.approvals"

APPROVAL_TOPICS = (
    topics.AGENT_APPROVAL_REQUESTED,
    topics.AGENT_APPROVAL_DECIDED,
    topics.AGENT_TURN_COMPLETED,
)


def action_sha256(tool: str, action: str, args: Mapping[str, JsonValue]) -> str:
    """SHA-256 (hex) of the canonical JSON of {tool, action, args}: sorted keys, compact."""
    canonical = json.dumps(
        {"tool": tool, "action": action, "args": args},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def new_approval_id() -> str:
    return f"ap_{ulid()}"


class ApprovalUnavailable(SyswardError):
    """The approval cannot be decided now."""


class ApprovalNotFound(ApprovalUnavailable):
    """No approval of that id was ever requested."""


class ApprovalClosed(ApprovalUnavailable):
    """The approval is already decided, its turn has ended, or it is being decided."""


@dataclass(frozen=True, slots=True)
class PendingApproval:
    """One approval waiting for a decision, and where it belongs."""

    agent: str
    turn: str
    request: ApprovalRequested


class ApprovalBook:
    """Pending approvals, folded from the log and followed live; one decider at a time."""

    def __init__(self, log: EventLog, on_decided: Callable[[str], None]) -> None:
        self._log = log
        self._on_decided = on_decided
        self._pending: dict[str, PendingApproval] = {}
        self._closed: dict[str, str] = {}
        self._claimed: set[str] = set()
        self._buffer: list[Event] | None = None
        self._remove_listener: Callable[[], None] | None = None

    def follow(self) -> None:
        """Follow commits from now on; they are buffered until `load` has folded the log."""
        self._buffer = []
        self._remove_listener = self._log.add_listener(self._on_commit)

    async def load(self, outlines: Mapping[str, AgentOutline], until: int) -> None:
        """Fold every approval up to `until` (the snapshot the outlines were read from)."""
        # From the per-agent index (approval events always name their agent): a start
        # reads the approvals, not every record of the log.
        seqs = sorted(seq for each in outlines.values() for seq in each.approval_seqs)
        for event in await self._log.fetch(seqs):
            self._take(event)
        # Only the turns still holding an open approval can close one by ending.
        for agent, turn in sorted({(p.agent, p.turn) for p in self._pending.values()}):
            query = EventQuery(
                agent=agent, turn=turn, topic=topics.AGENT_TURN_COMPLETED, until_seq=until
            )
            for event in await self._log.query_all(query):
                self._take(event)
        buffered, self._buffer = self._buffer or [], None
        for event in buffered:
            if event.seq > until:
                self._take(event)

    def close(self) -> None:
        if self._remove_listener is not None:
            self._remove_listener()
            self._remove_listener = None

    def pending(self) -> list[PendingApproval]:
        """Pending approvals, oldest first."""
        return sorted(self._pending.values(), key=lambda pending: pending.request.requested_at)

    @contextlib.contextmanager
    def deciding(self, approval_id: str) -> Iterator[PendingApproval]:
        """Hold the right to decide one pending approval while its decision is appended."""
        pending = self._pending.get(approval_id)
        if pending is None:
            closed = self._closed.get(approval_id)
            if closed is None:
                raise ApprovalNotFound(f"no approval {approval_id!r}; see `sysward approvals`")
            raise ApprovalClosed(f"approval {approval_id} is already closed: {closed}")
        if approval_id in self._claimed:
            raise ApprovalClosed(f"approval {approval_id} is being decided right now")
        self._claimed.add(approval_id)
        try:
            yield pending
        finally:
            self._claimed.discard(approval_id)

    async def decide(
        self, approval_id: str, verdict: ApprovalVerdict, reason: str, approver_uid: int | None
    ) -> tuple[PendingApproval, ApprovalDecided]:
        """Record the decision of a pending approval; the listener then wakes its agent."""
        with self.deciding(approval_id) as pending:
            decided = ApprovalDecided(
                id=approval_id,
                decision=verdict,
                reason=reason,
                approver_uid=approver_uid,
                action_sha256=pending.request.action_sha256,
            )
            draft = NewEvent(
                topic=topics.AGENT_APPROVAL_DECIDED,
                type=verdict,
                agent=pending.agent,
                turn=pending.turn,
                source=SOURCE,
                data=decided.to_data(),
            )
            await self._log.append(draft)
        return pending, decided

    def _on_commit(self, events: Sequence[Event]) -> None:
        if self._buffer is not None:
            self._buffer.extend(event for event in events if event.topic in APPROVAL_TOPICS)
            return
        for event in events:
            self._take(event)

    def _take(self, event: Event) -> None:
        if event.agent is None or event.turn is None:
            return
        if event.topic == topics.AGENT_APPROVAL_REQUESTED:
            request = ApprovalRequested.model_validate(event.data)
            if request.id not in self._closed:
                self._pending[request.id] = PendingApproval(event.agent, event.turn, request)
        elif event.topic == topics.AGENT_APPROVAL_DECIDED:
            decided = ApprovalDecided.model_validate(event.data)
            self._close(decided.id, f"decided: {decided.decision}")
            self._on_decided(event.agent)
        elif event.topic == topics.AGENT_TURN_COMPLETED:
            status = TurnCompleted.model_validate(event.data).status
            for pending in [p for p in self._pending.values() if p.turn == event.turn]:
                self._close(pending.request.id, f"turn {event.turn} {status}")

    def _close(self, approval_id: str, how: str) -> None:
        self._pending.pop(approval_id, None)
        self._closed.setdefault(approval_id, how)
