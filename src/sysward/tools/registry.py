"""The tool registry: the catalogue offered to models and the one place calls are run.

``ToolRegistry.invoke`` never raises for anything a model or a tool did. It
turns every outcome into a ``ToolResult``:

==========================  ======================================================
outcome                     result
==========================  ======================================================
tool returned data          ``ToolOk(output, metadata={"duration_ms": ...})``
unknown tool / action       ``unknown_tool`` / ``unknown_action``, valid names in
                            ``details["choices"]`` so the model can correct itself
a requirement is missing    ``unavailable``: what is missing and how to install it
args fail validation        ``invalid_args``, pydantic's ``loc``/``msg``/``type``
                            in ``details["errors"]`` (never the input itself)
``ToolFailed`` raised       its ``code``, ``message`` and ``details``
``timeout_s`` elapsed       ``timeout``
any other ``Exception``     ``internal_error`` (type and message; traceback logged)
output not JSON-able        ``internal_error``
result JSON over the cap    ``output_too_large`` (size and cap; see below)
==========================  ======================================================

``asyncio.CancelledError`` (and other ``BaseException``) propagates: the
caller owns cancellation.

Output cap: tools cap their own output (first N lines, ``truncated: true``)
because only they know what a useful prefix is. The registry never truncates;
it enforces a hard cap (``max_output_bytes``, default 64 KiB of result JSON)
by replacing an oversized result with an ``output_too_large`` error that
states the size and the cap, so the model can ask for less.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterable, Mapping

from pydantic import BaseModel, ConfigDict, JsonValue, TypeAdapter, ValidationError
from pydantic_core import PydanticSerializationError, to_jsonable_python

from sysward.tools.result import TOOL_RESULT, ToolErr, ToolOk, ToolResult, tool_error
from sysward.tools.spec import ActionMethod, ActionSpec, action_specs, tool_description, tool_name
from sysward.tools.tool import Effect, Tool, ToolDefinitionError, ToolFailed

DEFAULT_MAX_OUTPUT_BYTES = 64 * 1024

# Bounds on what an error result echoes, so a hostile or runaway input cannot
# make the error itself huge.
MAX_ECHOED_CHARS = 64
MAX_MESSAGE_CHARS = 1000
MAX_REPORTED_ARG_ERRORS = 20

_log = logging.getLogger(__name__)


class UnknownAction(ToolFailed):
    """No such action on that tool; ``details["choices"]`` lists the valid ones."""


class UnknownTool(UnknownAction):
    """No tool of that name; ``details["choices"]`` lists the valid ones."""


class ActionDescription(BaseModel):
    """One action in the ``GET /v1/tools`` answer."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    effect: Effect
    description: str
    parameters: dict[str, JsonValue]
    available: bool = True
    unavailable_reason: str | None = None


class ToolDescription(BaseModel):
    """One tool in the ``GET /v1/tools`` answer."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    description: str
    actions: list[ActionDescription]


TOOL_DESCRIPTIONS: TypeAdapter[list[ToolDescription]] = TypeAdapter(list[ToolDescription])


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else f"{text[:limit]}… ({len(text)} chars)"


class ToolRegistry:
    """The set of tools a daemon offers, checked against the contract when built."""

    def __init__(
        self, tools: Iterable[Tool], *, max_output_bytes: int = DEFAULT_MAX_OUTPUT_BYTES
    ) -> None:
        self.max_output_bytes = max_output_bytes
        self._tools: dict[str, Tool] = {}
        self._descriptions: dict[str, str] = {}
        self._actions: dict[str, dict[str, tuple[ActionSpec, ActionMethod]]] = {}
        for tool in tools:
            name = tool_name(tool)
            if name in self._tools:
                raise ToolDefinitionError(f"two tools are named {name!r}")
            self._tools[name] = tool
            self._descriptions[name] = tool_description(tool)
            self._actions[name] = {spec.action: (spec, fn) for spec, fn in action_specs(tool)}

    def actions(self) -> list[ActionSpec]:
        """Every action of every tool, in registration then definition order."""
        return [spec for table in self._actions.values() for spec, _ in table.values()]

    def spec(self, tool: str, action: str) -> ActionSpec:
        """The spec of one action; raises ``UnknownTool`` or ``UnknownAction``."""
        return self._lookup(tool, action)[0]

    def describe(self) -> list[ToolDescription]:
        """The catalogue in the shape of SPEC.md's ``GET /v1/tools``."""
        return [
            ToolDescription(
                name=name,
                description=self._descriptions[name],
                actions=[_describe_action(spec) for spec, _ in table.values()],
            )
            for name, table in self._actions.items()
        ]

    async def invoke(
        self,
        tool: str,
        action: str,
        args: Mapping[str, object],
        *,
        timeout_s: float | None = None,
    ) -> ToolResult:
        """Run one action and return its result; never raises for a tool's or model's fault."""
        started = time.perf_counter()
        try:
            output = await self._call(tool, action, args, timeout_s)
            duration_ms = round((time.perf_counter() - started) * 1000)
            result: ToolResult = ToolOk(
                output=to_jsonable_python(output), metadata={"duration_ms": duration_ms}
            )
        except ToolFailed as failure:
            result = _failure_result(tool, action, failure)
        except Exception as exc:  # the one place a tool's bug becomes a result
            result = _internal_error(tool, action, exc)
        return self._capped(tool, action, result)

    async def aclose(self) -> None:
        """Close every tool, last registered first."""
        for tool in reversed(self._tools.values()):
            await tool.aclose()

    def _lookup(self, tool: str, action: str) -> tuple[ActionSpec, ActionMethod]:
        table = self._actions.get(tool)
        if table is None:
            raise UnknownTool(
                "unknown_tool",
                f"there is no tool {_clip(tool, MAX_ECHOED_CHARS)!r}; "
                f"tools: {', '.join(self._actions)}",
                {"tool": _clip(tool, MAX_ECHOED_CHARS), "choices": list(self._actions)},
            )
        entry = table.get(action)
        if entry is None:
            raise UnknownAction(
                "unknown_action",
                f"tool {tool!r} has no action {_clip(action, MAX_ECHOED_CHARS)!r}; "
                f"actions: {', '.join(table)}",
                {"tool": tool, "action": _clip(action, MAX_ECHOED_CHARS), "choices": list(table)},
            )
        return entry

    async def _call(
        self, tool: str, action: str, args: Mapping[str, object], timeout_s: float | None
    ) -> object:
        spec, method = self._lookup(tool, action)
        missing = spec.missing()
        if missing is not None:
            raise ToolFailed("unavailable", f"{tool}.{action} cannot run: {missing}")
        parsed = _parse_args(spec, args)
        deadline = asyncio.timeout(timeout_s)
        try:
            async with deadline:
                return await method(parsed)
        except TimeoutError as exc:
            if not deadline.expired():
                raise  # the tool's own TimeoutError: a bug, reported as internal_error
            raise ToolFailed(
                "timeout",
                f"{tool}.{action} did not finish within {timeout_s} s and was cancelled; "
                "its effect, if any, is unknown",
                {"timeout_s": timeout_s},
            ) from exc

    def _capped(self, tool: str, action: str, result: ToolOk | ToolErr) -> ToolOk | ToolErr:
        try:
            size = len(TOOL_RESULT.dump_json(result))
        except (ValueError, PydanticSerializationError) as exc:
            # e.g. a lone surrogate from a non-UTF-8 file name: not storable, not sendable.
            _log.error("%s.%s returned a result that is not JSON: %s", tool, action, exc)
            return tool_error(
                "internal_error",
                f"{tool}.{action} returned text that cannot be encoded as JSON "
                "(invalid UTF-8); this is a tool bug",
            )
        if size <= self.max_output_bytes:
            return result
        return tool_error(
            "output_too_large",
            f"{tool}.{action} produced {size} bytes of JSON, over the {self.max_output_bytes}"
            "-byte cap; ask for less (a narrower path, fewer lines, a filter)",
            {"size_bytes": size, "max_bytes": self.max_output_bytes},
        )


def _describe_action(spec: ActionSpec) -> ActionDescription:
    missing = spec.missing()
    return ActionDescription(
        name=spec.action,
        effect=spec.effect,
        description=spec.description,
        parameters=spec.parameters,
        available=missing is None,
        unavailable_reason=missing,
    )


def _parse_args(spec: ActionSpec, args: Mapping[str, object]) -> BaseModel:
    try:
        return spec.args_model.model_validate(args)
    except ValidationError as exc:
        errors: list[JsonValue] = [
            {
                "loc": [_clip(str(part), MAX_ECHOED_CHARS) for part in error["loc"]],
                "msg": _clip(error["msg"], MAX_MESSAGE_CHARS),
                "type": error["type"],
            }
            for error in exc.errors(include_url=False, include_input=False)
        ]
        raise ToolFailed(
            "invalid_args",
            f"invalid arguments for {spec.tool}.{spec.action}: {exc.error_count()} error(s); "
            "see details.errors and the action's parameters schema",
            {"errors": errors[:MAX_REPORTED_ARG_ERRORS], "error_count": exc.error_count()},
        ) from exc


def _failure_result(tool: str, action: str, failure: ToolFailed) -> ToolErr:
    try:
        return tool_error(failure.code, failure.message, failure.details)
    except ValidationError as exc:  # a bad code or non-JSON details is the tool's bug
        return _internal_error(tool, action, exc)


def _internal_error(tool: str, action: str, exc: Exception) -> ToolErr:
    _log.error("tool %s.%s raised %s", tool, action, type(exc).__name__, exc_info=exc)
    kind = f"{type(exc).__module__}.{type(exc).__qualname__}"
    return tool_error(
        "internal_error",
        f"{tool}.{action} failed with {type(exc).__name__}: "
        f"{_clip(str(exc), MAX_MESSAGE_CHARS)}. This is a bug in the tool, not a problem "
        "with the arguments",
        {"exception": kind},
    )
