"""The contract a tool family implements: ``Tool``, ``@action``, ``ToolArgs``, ``ToolFailed``.

A tool is a class with a ``name`` and a docstring (its description, shown to
the model). Each action is an async method decorated ``@action(effect=...)``
that takes exactly one args model and returns data::

    class PingArgs(ToolArgs):
        \"\"\"Where to ping.\"\"\"
        host: str = Field(max_length=253, description="Host name or IP address")

    class NetTool(Tool):
        \"\"\"Network inspection.\"\"\"
        name = "net"

        @action(effect=Effect.READ)
        async def ping(self, args: PingArgs) -> PingResult:
            \"\"\"Send ICMP echo requests and report the round-trip times.\"\"\"
            if not resolvable(args.host):
                raise ToolFailed("not_found", f"cannot resolve {args.host!r}; check the name")
            return await ping_host(args.host)

Rules the registry checks when it is built (``ToolDefinitionError`` otherwise):
the tool name matches ``[a-z][a-z0-9]*`` (so ``<tool>_<action>`` is unambiguous),
action names are snake_case, every action and tool has a docstring, the args
model forbids extra fields and every one of its fields has a ``description``.
Args models are found with ``typing.get_type_hints``: define them at module
level. Return a pydantic model or any JSON-able value; never prose.

Raise ``ToolFailed(code, message, details)`` for expected failures, with a
message that says what to do next. Anything else a tool raises is a bug: the
registry turns it into an ``internal_error`` result. Cap your own output
(return the first N lines and ``truncated: true``); the registry only has a
hard cap that replaces an oversized output with an error.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Mapping, Sequence
from enum import StrEnum
from typing import ClassVar, TypeVar

from pydantic import BaseModel, ConfigDict, JsonValue, model_validator

from sysward.errors import SyswardError
from sysward.tools.requirement import Requirement


class Effect(StrEnum):
    """Whether an action may be re-run after a crash left its outcome unknown."""

    READ = "read"  # no side effect: safe to run again
    WRITE = "write"  # changes the system: never re-run, the model must check


class ToolFailed(SyswardError):
    """An expected failure of an action; becomes an error result the model sees."""

    def __init__(
        self, code: str, message: str, details: Mapping[str, JsonValue] | None = None
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.details: dict[str, JsonValue] = dict(details or {})


class ToolDefinitionError(SyswardError):
    """A tool class breaks the contract (a developer error, raised at startup)."""


def _find_nul(value: object, where: str) -> str | None:
    """Return the location of the first string containing NUL in raw input, if any."""
    if isinstance(value, str):
        return where if "\x00" in value else None
    if isinstance(value, Mapping):
        for key, item in value.items():
            found = _find_nul(key, where) or _find_nul(item, f"{where}.{str(key)[:64]}")
            if found:
                return found
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            found = _find_nul(item, f"{where}[{index}]")
            if found:
                return found
    return None


class ToolArgs(BaseModel):
    """Base for args models: unknown fields are errors and strings never carry NUL.

    NUL is refused everywhere because it truncates paths, argv, env and D-Bus
    strings in C; an action that needs binary data takes it base64-encoded.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    @model_validator(mode="before")
    @classmethod
    def _refuse_nul(cls, data: object) -> object:
        where = _find_nul(data, "args")
        if where is not None:
            raise ValueError(f"{where} contains a NUL byte; send binary data base64-encoded")
        return data


class NoArgs(ToolArgs):
    """This action takes no arguments."""


_ActionFn = TypeVar("_ActionFn", bound=Callable[..., Awaitable[object]])

# The attribute `@action` sets on a method; its presence makes the method an action.
EFFECT_ATTRIBUTE = "__sysward_effect__"
REQUIRES_ATTRIBUTE = "__sysward_requires__"


def action(
    *, effect: Effect, requires: Sequence[Requirement] = ()
) -> Callable[[_ActionFn], _ActionFn]:
    """Mark an async method of a Tool as an action the model may call.

    ``requires`` names what the action needs beyond the core package (see
    ``sysward.tools.requirement``); while one is missing the action stays listed
    and a call returns ``unavailable`` with what to install.
    """

    def mark(method: _ActionFn) -> _ActionFn:
        # A separate name keeps mypy from narrowing `method` to a plain coroutine function.
        is_async = inspect.iscoroutinefunction(method)
        if not is_async:
            raise ToolDefinitionError(f"action {method.__qualname__} must be `async def`")
        setattr(method, EFFECT_ATTRIBUTE, Effect(effect))
        setattr(method, REQUIRES_ATTRIBUTE, tuple(requires))
        return method

    return mark


class Tool:
    """Base class of a tool family: set ``name``, write a docstring, add actions."""

    name: ClassVar[str]

    async def aclose(self) -> None:
        """Release what the tool holds (watches, connections); the default holds nothing."""
