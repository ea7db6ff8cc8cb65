"""`/v1/triggers`: the host events that start agents' turns, enabled and tested at run time.

Enabling and disabling are recorded in the log (`trigger.toggled`, with the
peer's uid), so they hold across restarts until the config's `enabled` changes.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from pydantic import BaseModel, ConfigDict, Field

from sysward.control.errors import ApiError
from sysward.control.models import NamePattern
from sysward.control.routes.deps import State, errors
from sysward.events.context import current_context
from sysward.triggers.service import TestOutcome, TriggerInfo, TriggerNotFound, TriggerService

router = APIRouter(tags=["triggers"])

TriggerName = Annotated[str, Path(pattern=NamePattern, description="The trigger's name")]


class TriggerTest(BaseModel):
    """A test of a trigger: the fields of a made-up source event, and whether to fire."""

    model_config = ConfigDict(extra="forbid")

    fields: dict[str, Annotated[str, Field(max_length=1000)]] = Field(
        default_factory=dict, max_length=64, description="Template fields of the test event"
    )
    fire: bool = Field(False, description="Fire for real: trigger.fired and a turn (no limits)")


@router.get("/v1/triggers", response_model=list[TriggerInfo])
async def list_triggers(state: State) -> list[TriggerInfo]:
    """Every configured trigger: source, agent, whether enabled and watching, firings."""
    return state.runtime.triggers.infos()


@router.get("/v1/triggers/{name}", response_model=TriggerInfo, responses=errors(404))
async def get_trigger(name: TriggerName, state: State) -> TriggerInfo:
    """One trigger."""
    return _known(state.runtime.triggers, name).info(name)


@router.post("/v1/triggers/{name}/enable", response_model=TriggerInfo, responses=errors(404))
async def enable_trigger(name: TriggerName, state: State) -> TriggerInfo:
    """Start watching; recorded, so it holds across restarts."""
    service = _known(state.runtime.triggers, name)
    return await service.set_enabled(name, True, current_context().peer_uid)


@router.post("/v1/triggers/{name}/disable", response_model=TriggerInfo, responses=errors(404))
async def disable_trigger(name: TriggerName, state: State) -> TriggerInfo:
    """Stop watching; recorded, so it holds across restarts."""
    service = _known(state.runtime.triggers, name)
    return await service.set_enabled(name, False, current_context().peer_uid)


@router.post("/v1/triggers/{name}/test", response_model=TestOutcome, responses=errors(404, 409))
async def test_trigger(name: TriggerName, body: TriggerTest, state: State) -> TestOutcome:
    """The prompt a firing would send; with `fire`, a real firing marked `test`.
    409 when firing and the agent is not running."""
    service = _known(state.runtime.triggers, name)
    return await service.test(name, body.fields, fire=body.fire)


def _known(service: TriggerService, name: str) -> TriggerService:
    try:
        service.info(name)
    except TriggerNotFound as exc:
        raise ApiError(404, "trigger_not_found", str(exc)) from None
    return service
