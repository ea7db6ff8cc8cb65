"""Health, tools, turns, log verification and metrics."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from typing import Annotated

from fastapi import APIRouter, Path
from fastapi.responses import PlainTextResponse
from pydantic import JsonValue

import sysward
from sysward.agents.agent import AgentState
from sysward.control.errors import ApiError
from sysward.control.metrics import CONTENT_TYPE
from sysward.control.models import Health, TurnInfo
from sysward.control.routes.deps import State, errors
from sysward.control.turns import envelopes, fold_turn_info, read_turn
from sysward.events.chain import ChainReport
from sysward.events.record import NAME_PATTERN
from sysward.events.signing import KeyRing, SigningKeyError
from sysward.tools import ToolDescription

router = APIRouter(tags=["system"])

TurnId = Annotated[str, Path(pattern=NAME_PATTERN, description="A turn id, e.g. t_01J…")]


@router.get("/v1/health", response_model=Health)
async def health(state: State) -> Health:
    runtime = state.runtime
    return Health(
        status="stopping" if runtime.is_stopping else "ok",
        version=sysward.__version__,
        uptime_s=round(time.monotonic() - runtime.started_monotonic, 3),
        last_seq=runtime.log.last_seq,
        agents=len(runtime.supervisor.names()),
    )


@router.get("/v1/tools", response_model=list[ToolDescription])
async def tools(state: State) -> list[ToolDescription]:
    """What a model may be offered: every tool, its actions and their JSON Schemas."""
    return state.runtime.registry.describe()


@router.get("/v1/turns/{turn}", response_model=TurnInfo, responses=errors(400, 404))
async def turn_info(turn: TurnId, state: State) -> TurnInfo:
    """A turn's status, prompt, answer and events, folded from the log."""
    records = await read_turn(state.runtime.log, turn)
    events = envelopes(records)
    agent = events[0].get("agent") if events else None
    info = fold_turn_info(turn, events, is_current=_is_current(state, agent, turn))
    if info is None:
        raise ApiError(404, "turn_not_found", f"no turn {turn!r} in the log")
    return info


def _is_current(state: State, agent: JsonValue, turn: str) -> bool:
    supervisor = state.runtime.supervisor
    if not isinstance(agent, str) or agent not in supervisor.names():
        return False
    _, _, running, _ = supervisor.slot_info(agent)
    return running is not None and running.current_turn == turn


@router.post("/v1/log/verify", response_model=ChainReport, responses=errors(500))
async def verify_log(state: State) -> ChainReport:
    """Walk the hash chain and check the signed checkpoints; `ok: false` (still 200)
    names the first bad seq. Keys come from the keys directory, never from the log."""
    runtime = state.runtime
    try:
        keys = await asyncio.to_thread(KeyRing.load, runtime.settings.daemon.keys_dir)
    except SigningKeyError as exc:
        raise ApiError(500, "keys_unreadable", str(exc)) from None
    return await runtime.log.verify(keys)


@router.get("/metrics", response_class=PlainTextResponse)
async def metrics(state: State) -> PlainTextResponse:
    """Prometheus text format."""
    runtime = state.runtime
    supervisor = runtime.supervisor
    counted = Counter(supervisor.state_of(name) for name in supervisor.names())
    by_state = {state.value: counted[state] for state in AgentState}
    text = state.metrics.render(
        last_seq=runtime.log.last_seq,
        agents_by_state=by_state,
        subscribers=runtime.bus.subscriber_count,
        uptime_s=time.monotonic() - runtime.started_monotonic,
    )
    return PlainTextResponse(text, media_type=CONTENT_TYPE)
