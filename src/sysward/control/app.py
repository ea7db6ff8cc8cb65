"""The control API as an ASGI app: routes, error shapes, the edge middleware, OpenAPI."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

import sysward
from sysward.control.edge import ControlEdge
from sysward.control.errors import install_error_handlers
from sysward.control.routes import agents, approvals, events, system, triggers
from sysward.control.routes.deps import STATE_KEY
from sysward.control.state import ControlState

OPENAPI_PATH = "/v1/openapi.json"
DESCRIPTION = (
    "HTTP/1.1 + JSON over the daemon's Unix socket. Peers are identified by "
    "SO_PEERCRED: root, the daemon's user and members of `daemon.allowed_groups`. "
    'Errors are `{"error": {"code", "message", "details"}}`.'
)


def create_app(state: ControlState) -> FastAPI:
    app = FastAPI(
        title="sysward control API",
        version=sysward.__version__,
        description=DESCRIPTION,
        openapi_url=OPENAPI_PATH,
        docs_url=None,
        redoc_url=None,
    )
    setattr(app.state, STATE_KEY, state)
    for router in (
        system.router,
        agents.router,
        approvals.router,
        events.router,
        triggers.router,
    ):
        app.include_router(router)
    install_error_handlers(app)
    app.add_middleware(ControlEdge, state=state)
    app.openapi = lambda: openapi_document(app)  # type: ignore[method-assign]
    return app


def openapi_document(app: FastAPI) -> dict[str, Any]:
    """FastAPI's document, with our error answers: 400 instead of FastAPI's 422, and the
    403 (peer not allowed) and 500 every route may give."""
    if app.openapi_schema is None:
        app.openapi_schema = _with_error_answers(FastAPI.openapi(app))
    return app.openapi_schema


def _error_answer(description: str) -> dict[str, Any]:
    schema = {"$ref": "#/components/schemas/ErrorResponse"}
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _with_error_answers(document: dict[str, Any]) -> dict[str, Any]:
    for operations in document.get("paths", {}).values():
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            if responses.pop("422", None) is not None:
                responses.setdefault("400", _error_answer("Invalid request"))
            responses.setdefault("403", _error_answer("The peer is not allowed"))
            responses.setdefault("500", _error_answer("Internal error (details in the log)"))
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    schemas.pop("HTTPValidationError", None)
    schemas.pop("ValidationError", None)
    return document
