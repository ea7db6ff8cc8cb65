"""`/v1/agents`: list, create, inspect, delete, start, stop, prompt and history."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from sysward.agents.payloads import AgentCreated
from sysward.control.errors import ApiError
from sysward.control.models import (
    AgentInfo,
    CreateAgent,
    History,
    PromptAccepted,
    PromptRequest,
)
from sysward.control.routes.deps import AgentName, State, errors
from sysward.control.sse import MEDIA_TYPE, sse_response, stream_turn
from sysward.control.state import ControlState
from sysward.control.turns import envelopes, history_messages
from sysward.events import topics
from sysward.events.query import EventQuery

router = APIRouter(prefix="/v1/agents", tags=["agents"])

PROMPT_RESPONSES = {
    **errors(400, 404, 409, 503),
    200: {
        "description": "`wait=true` or `Accept: text/event-stream`: the turn's events as SSE; "
        "first `event: accepted` (data: PromptAccepted), then `id: <seq>`, `event: <topic>`, "
        "`data: <envelope>` up to `agent.turn_completed`",
        "content": {MEDIA_TYPE: {}},
    },
}


def agent_info(state: ControlState, name: str) -> AgentInfo:
    supervisor = state.runtime.supervisor
    config, origin, agent, restarts = supervisor.slot_info(name)
    return AgentInfo(
        name=name,
        role=config.role.name,
        llm=config.llm,
        state=supervisor.state_of(name).value,
        origin="config" if origin == "config" else "runtime",
        max_steps=config.max_steps,
        read_only=config.read_only,
        current_turn=agent.current_turn if agent is not None else None,
        unfinished_turns=agent.unfinished_turns if agent is not None else [],
        restarts=restarts,
    )


@router.get("", response_model=list[AgentInfo])
async def list_agents(state: State) -> list[AgentInfo]:
    """Every agent, from config and created at run time."""
    return [agent_info(state, name) for name in state.runtime.supervisor.names()]


@router.post("", status_code=201, response_model=AgentInfo, responses=errors(400, 409, 503))
async def create_agent(body: CreateAgent, state: State) -> AgentInfo:
    """Create (and start) an agent; it persists in the log until deleted."""
    created = AgentCreated(
        role=body.role, llm=body.llm, max_steps=body.max_steps, read_only=body.read_only
    )
    config = state.runtime.agent_config(body.name, created)
    await state.runtime.supervisor.create(body.name, created, config)
    return agent_info(state, body.name)


@router.get("/{name}", response_model=AgentInfo, responses=errors(400, 404))
async def get_agent(name: AgentName, state: State) -> AgentInfo:
    return agent_info(state, name)


@router.delete("/{name}", status_code=204, responses=errors(400, 404, 409, 503))
async def delete_agent(name: AgentName, state: State) -> Response:
    """Delete a run-time agent (config agents are removed from the config file)."""
    await state.runtime.supervisor.delete(name)
    return Response(status_code=204)


@router.post("/{name}/start", response_model=AgentInfo, responses=errors(400, 404, 409, 503))
async def start_agent(name: AgentName, state: State) -> AgentInfo:
    await state.runtime.supervisor.start_agent(name)
    return agent_info(state, name)


@router.post("/{name}/stop", response_model=AgentInfo, responses=errors(400, 404, 503))
async def stop_agent(name: AgentName, state: State) -> AgentInfo:
    await state.runtime.supervisor.stop(name)
    return agent_info(state, name)


@router.post(
    "/{name}/prompt", status_code=202, response_model=PromptAccepted, responses=PROMPT_RESPONSES
)
async def prompt_agent(
    name: AgentName, body: PromptRequest, request: Request, state: State
) -> Response:
    """Start a turn. `wait=false`: 202 with the turn id at once; `wait=true` (or
    `Accept: text/event-stream`): stream the turn's events until it completes."""
    supervisor = state.runtime.supervisor
    if not (body.wait or MEDIA_TYPE in request.headers.get("accept", "")):
        turn = await supervisor.prompt(name, body.text)
        accepted = PromptAccepted(agent=name, turn=turn)
        return JSONResponse(accepted.model_dump(), status_code=202)
    # Subscribed before the prompt is appended, so no event of the turn can be missed.
    subscription = state.runtime.bus.subscribe(agent=name)
    try:
        turn = await supervisor.prompt(name, body.text)
    except BaseException:
        subscription.close()
        raise
    accepted_json = PromptAccepted(agent=name, turn=turn).model_dump_json().encode()
    return sse_response(
        stream_turn(subscription, accepted_json, turn, state.closing, state.heartbeat_s)
    )


@router.get("/{name}/history", response_model=History, responses=errors(400, 404))
async def agent_history(name: AgentName, state: State) -> History:
    """The agent's conversation, rebuilt from its `agent.message` events."""
    query = EventQuery(agent=name, topic=topics.AGENT_MESSAGE)
    messages = history_messages(envelopes(await state.runtime.log.query_all_raw(query)))
    if not messages and name not in state.runtime.supervisor.names():
        raise ApiError(404, "agent_not_found", f"no agent named {name!r} and no history of one")
    return History(agent=name, messages=messages)
