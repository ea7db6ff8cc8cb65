"""The result of a tool call, exactly as SPEC.md puts it on the wire.

Every call ends in one of two shapes, told apart by the boolean ``ok``::

    {"ok": true,  "output": <JSON>, "metadata": {"duration_ms": 12}}
    {"ok": false, "error": {"code": "not_found", "message": "...", "details": {}}}

``TOOL_RESULT`` is the one TypeAdapter that encodes and decodes them (events,
HTTP, tests). pydantic accepts the ``Literal[True]``/``Literal[False]`` pair as
a discriminator, so ``ok`` selects the model in O(1) and a wrong or missing
``ok`` fails with one clear error instead of a union of guesses.

Error codes are short snake_case words a model can branch on. The registry
produces ``unknown_tool``, ``unknown_action``, ``invalid_args``, ``timeout``,
``output_too_large`` and ``internal_error``; tools raise ``ToolFailed`` with
their own (``not_found``, ``permission_denied``, ``unavailable``,
``invalid_input``, ``already_exists``, ...).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue, TypeAdapter


class ToolErrorBody(BaseModel):
    """What went wrong, in words a model or an operator can act on."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    code: str = Field(pattern=r"^[a-z][a-z0-9_]{0,63}$", description="snake_case error code")
    message: str = Field(description="What failed and what to do about it")
    details: dict[str, JsonValue] = Field(default_factory=dict)


class ToolOk(BaseModel):
    """A call that did what it was asked; ``output`` is the tool's data."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    ok: Literal[True] = True
    output: JsonValue
    metadata: dict[str, JsonValue] = Field(default_factory=dict)


class ToolErr(BaseModel):
    """A call that failed; shown to the model as an observation, never raised."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    ok: Literal[False] = False
    error: ToolErrorBody


ToolResult = Annotated[ToolOk | ToolErr, Field(discriminator="ok")]

TOOL_RESULT: TypeAdapter[ToolOk | ToolErr] = TypeAdapter(ToolResult)


def tool_error(code: str, message: str, details: dict[str, JsonValue] | None = None) -> ToolErr:
    """Build an error result in one call (the registry, the agent's `interrupted` result)."""
    return ToolErr(error=ToolErrorBody(code=code, message=message, details=details or {}))
