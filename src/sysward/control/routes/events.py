"""`/v1/events`: query the log, and follow it live as Server-Sent Events."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Header, Query, Response
from pydantic import ValidationError

from sysward.control.errors import ApiError, describe_validation_errors
from sysward.control.models import EventsPage
from sysward.control.routes.deps import State, errors
from sysward.control.sse import MEDIA_TYPE, sse_response, stream_events
from sysward.events.log import EventLog
from sysward.events.patterns import InvalidTopicError
from sysward.events.query import MAX_QUERY_LIMIT, EventQuery
from sysward.events.record import NAME_PATTERN

router = APIRouter(prefix="/v1/events", tags=["events"])

MAX_SEQ = 2**63 - 1
SeqOrTime = Annotated[
    str | None,
    Query(max_length=64, description="A seq (exclusive for since) or an ISO time with zone"),
]
Pattern = Annotated[str | None, Query(max_length=255, description="Topic pattern: tool.*, agent.>")]
Label = Annotated[
    str | None, Query(pattern=NAME_PATTERN, description="An agent, turn or type name")
]


def parse_seq_or_time(name: str, raw: str | None) -> int | datetime | None:
    """`since`/`until`: a seq when all digits, else an ISO 8601 time with a zone."""
    if raw is None or raw == "":
        return None
    if raw.isascii() and raw.isdigit():
        seq = int(raw)
        if seq > MAX_SEQ:
            raise ApiError(400, "invalid_request", f"{name}: seq {raw[:24]} is out of range")
        return seq
    try:
        return datetime.fromisoformat(raw)
    except ValueError:
        raise ApiError(
            400,
            "invalid_request",
            f"{name} must be a seq or an ISO time like 2026-11-22T18:00:00Z, got {raw!r}",
        ) from None


def build_query(**fields: object) -> EventQuery:
    try:
        return EventQuery.model_validate(fields)
    except ValidationError as exc:
        details = {"errors": describe_validation_errors(exc.errors())}
        raise ApiError(400, "invalid_request", "invalid event query", details) from None
    except InvalidTopicError as exc:
        raise ApiError(400, "invalid_request", str(exc)) from None


@router.get("", response_model=EventsPage, responses=errors(400))
async def query_events(
    state: State,
    topic: Pattern = None,
    type: Label = None,
    agent: Label = None,
    turn: Label = None,
    since: SeqOrTime = None,
    until: SeqOrTime = None,
    limit: Annotated[int, Query(ge=1, le=MAX_QUERY_LIMIT)] = 100,
) -> Response:
    """Events in seq order, envelopes exactly as stored; continue with `since=next_since`."""
    start, end = parse_seq_or_time("since", since), parse_seq_or_time("until", until)
    query = build_query(
        topic=topic,
        type=type,
        agent=agent,
        turn=turn,
        after_seq=start if isinstance(start, int) else 0,
        since_ts=start if isinstance(start, datetime) else None,
        until_seq=end if isinstance(end, int) else None,
        until_ts=end if isinstance(end, datetime) else None,
        limit=limit,
    )
    page = await state.runtime.log.query_raw(query)
    next_since = max(query.after_seq, page.scanned_seq)
    body = b'{"events":[%s],"next_since":%d}' % (
        b",".join(record.raw for record in page.records),
        next_since,
    )
    return Response(body, media_type="application/json")


async def resume_seq(
    log: EventLog, since: int | datetime | None, last_event_id: str | None
) -> int | None:
    """Where a stream starts: Last-Event-ID, else `since` (a seq, or the first event at a time)."""
    if last_event_id is not None:
        resumed = parse_seq_or_time("Last-Event-ID", last_event_id.strip())
        if not isinstance(resumed, int):
            raise ApiError(400, "invalid_request", "Last-Event-ID must be a seq")
        return resumed
    if isinstance(since, datetime):
        page = await log.query_raw(build_query(since_ts=since, limit=1))
        return page.records[0].seq - 1 if page.records else log.last_seq
    return since


@router.get(
    "/stream",
    responses={**errors(400), 200: {"content": {MEDIA_TYPE: {}}, "description": "SSE"}},
    response_class=Response,
)
async def stream(
    state: State,
    topic: Pattern = None,
    agent: Label = None,
    since: SeqOrTime = None,
    last_event_id: Annotated[str | None, Header(max_length=32)] = None,
) -> Response:
    """Server-Sent Events: `id` = seq, `event` = topic, `data` = the stored envelope.
    Reconnect with `Last-Event-ID` (or `?since=SEQ`) to resume with no gap and no
    duplicate; `: keepalive` comments keep idle streams open; `event: dropped`
    (data: `resume_after_seq`) ends a stream that fell too far behind."""
    build_query(topic=topic, agent=agent)  # validates the pattern before streaming
    start = await resume_seq(state.runtime.log, parse_seq_or_time("since", since), last_event_id)
    subscription = state.runtime.bus.subscribe(topic or ">", agent=agent, since=start)
    return sse_response(stream_events(subscription, state.closing, state.heartbeat_s))
