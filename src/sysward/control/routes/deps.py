"""What route handlers receive from FastAPI's dependency injection."""

from __future__ import annotations

from typing import Annotated, Any, cast

from fastapi import Depends, Path, Request

from sysward.control.models import ErrorResponse, NamePattern
from sysward.control.state import ControlState

STATE_KEY = "control"


def control_state(request: Request) -> ControlState:
    return cast(ControlState, getattr(request.app.state, STATE_KEY))


State = Annotated[ControlState, Depends(control_state)]
AgentName = Annotated[str, Path(pattern=NamePattern, description="The agent's name")]


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` entries for the error answers a route may give."""
    described: dict[int | str, dict[str, Any]] = {
        status: {"model": ErrorResponse} for status in statuses
    }
    return described
