"""Every error answer has one shape: `{"error": {"code", "message", "details"}}`.

Handlers here translate FastAPI's and our own exceptions once, at the edge;
anything not translated becomes a 500 `internal_error` in `control.edge`.
"""

from __future__ import annotations

from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import JsonValue
from starlette.exceptions import HTTPException as StarletteHTTPException

from sysward.agents.supervisor import AgentConflict, AgentNotFound
from sysward.control.models import ErrorBody, ErrorResponse
from sysward.errors import ConfigError, SyswardError

MAX_REPORTED_ERRORS = 20
MAX_PATH_CHARS = 200
MAX_BODY_BYTES = 1024 * 1024


class BodyTooLarge(Exception):
    """The request body exceeded MAX_BODY_BYTES."""

    def __init__(self) -> None:
        super().__init__(f"request body over {MAX_BODY_BYTES} bytes")


class ApiError(SyswardError):
    """A request the API refuses: status, a stable code and an actionable message."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        details: Mapping[str, JsonValue] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = dict(details or {})


def error_response(
    status: int,
    code: str,
    message: str,
    details: Mapping[str, JsonValue] | None = None,
    *,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    body = ErrorResponse(error=ErrorBody(code=code, message=message, details=dict(details or {})))
    return JSONResponse(body.model_dump(mode="json"), status_code=status, headers=headers)


def describe_validation_errors(errors: Any) -> list[JsonValue]:
    """pydantic's errors without the input (it may be huge or secret): loc, msg, type."""
    described: list[JsonValue] = []
    for error in list(errors)[:MAX_REPORTED_ERRORS]:
        loc: list[JsonValue] = [
            part if isinstance(part, int) else str(part) for part in error["loc"]
        ]
        described.append({"loc": loc, "msg": str(error["msg"]), "type": str(error["type"])})
    return described


async def _on_api_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    return error_response(exc.status, exc.code, exc.message, exc.details)


async def _on_validation(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = describe_validation_errors(exc.errors())
    is_json_broken = any(
        isinstance(error, dict) and error.get("type") == "json_invalid" for error in errors
    )
    code, message = (
        ("invalid_json", "the request body is not valid JSON")
        if is_json_broken
        else ("invalid_request", "the request does not match the API; see details.errors")
    )
    return error_response(400, code, message, {"errors": errors})


async def _on_http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    status = exc.status_code
    where = f"{request.method} {request.url.path[:MAX_PATH_CHARS]}"
    if status == 404:
        return error_response(
            404, "not_found", f"no such route: {where}; the API is at GET /v1/openapi.json"
        )
    if status == 405:
        return error_response(
            405, "method_not_allowed", f"{where} is not allowed", headers=exc.headers
        )
    if isinstance(exc.__cause__, BodyTooLarge):
        return error_response(413, "body_too_large", str(exc.__cause__))
    phrase = _phrase(status)
    return error_response(status, phrase.lower().replace(" ", "_"), str(exc.detail or phrase))


async def _on_agent_not_found(request: Request, exc: Exception) -> JSONResponse:
    return error_response(404, "agent_not_found", str(exc))


async def _on_agent_conflict(request: Request, exc: Exception) -> JSONResponse:
    return error_response(409, "conflict", str(exc))


async def _on_config_error(request: Request, exc: Exception) -> JSONResponse:
    return error_response(400, "invalid_agent", str(exc))


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ApiError, _on_api_error)
    app.add_exception_handler(RequestValidationError, _on_validation)
    app.add_exception_handler(StarletteHTTPException, _on_http_error)
    app.add_exception_handler(AgentNotFound, _on_agent_not_found)
    app.add_exception_handler(AgentConflict, _on_agent_conflict)
    app.add_exception_handler(ConfigError, _on_config_error)
