"""What the registry knows about one action, read once from a Tool class.

``action_specs(tool)`` walks the class for ``@action`` methods, checks them
against the contract of ``sysward.tools.tool`` and builds each action's JSON
Schema. The schema is pydantic's for the args model: an ``object`` whose
nested models stay in a root ``$defs`` block, so it is self-contained and
usable as-is as the ``parameters`` of an OpenAI ``tools`` function.
"""

from __future__ import annotations

import inspect
import re
import typing
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from pydantic import BaseModel, JsonValue

from sysward.tools.requirement import Requirement, first_missing
from sysward.tools.tool import (
    EFFECT_ATTRIBUTE,
    REQUIRES_ATTRIBUTE,
    Effect,
    Tool,
    ToolDefinitionError,
)

TOOL_NAME = re.compile(r"^[a-z][a-z0-9]{0,31}$")
ACTION_NAME = re.compile(r"^[a-z][a-z0-9_]{0,31}$")

ActionMethod = Callable[[BaseModel], Awaitable[object]]


@dataclass(frozen=True)
class ActionSpec:
    """One (tool, action) pair as offered to a model and checked by policy."""

    tool: str
    action: str
    effect: Effect
    description: str
    args_model: type[BaseModel]
    parameters: dict[str, JsonValue]
    requires: tuple[Requirement, ...] = ()

    def missing(self) -> str | None:
        """Why this action cannot run on this host, or None when it can."""
        return first_missing(self.requires)

    @property
    def is_read_only(self) -> bool:
        """True when the action may be re-run after a crash (DESIGN: turns, rule 3)."""
        return self.effect is Effect.READ

    @property
    def function_name(self) -> str:
        """The native tool-call function name, ``<tool>_<action>``."""
        return f"{self.tool}_{self.action}"


def tool_name(tool: Tool) -> str:
    """The tool's checked name."""
    name = getattr(type(tool), "name", None)
    if not isinstance(name, str) or not TOOL_NAME.match(name):
        raise ToolDefinitionError(
            f"{type(tool).__qualname__}.name must match {TOOL_NAME.pattern}, got {name!r}"
        )
    return name


def tool_description(tool: Tool) -> str:
    """The tool's own class docstring (not an inherited one)."""
    doc = type(tool).__dict__.get("__doc__")
    if not doc or not doc.strip():
        raise ToolDefinitionError(f"{type(tool).__qualname__} needs a docstring: its description")
    return inspect.cleandoc(doc)


def action_specs(tool: Tool) -> list[tuple[ActionSpec, ActionMethod]]:
    """Every action of ``tool`` in definition order, with its bound method."""
    name = tool_name(tool)
    methods: dict[str, Callable[..., object]] = {}
    for klass in reversed(type(tool).__mro__):
        for attr, member in vars(klass).items():
            if hasattr(member, EFFECT_ATTRIBUTE):
                methods[attr] = member
            else:
                methods.pop(attr, None)  # an override without @action is no longer an action
    if not methods:
        raise ToolDefinitionError(f"tool {name!r} has no @action methods")
    return [
        (_build_spec(name, attr, function), getattr(tool, attr))
        for attr, function in methods.items()
    ]


def _build_spec(tool: str, action: str, function: Callable[..., object]) -> ActionSpec:
    where = f"{tool}.{action}"
    if not ACTION_NAME.match(action):
        raise ToolDefinitionError(f"action {where} must match {ACTION_NAME.pattern}")
    doc = inspect.getdoc(function)
    if not doc:
        raise ToolDefinitionError(f"action {where} needs a docstring: its description")
    args_model = _args_model(where, function)
    return ActionSpec(
        tool=tool,
        action=action,
        effect=getattr(function, EFFECT_ATTRIBUTE),
        description=doc,
        args_model=args_model,
        parameters=parameters_schema(where, args_model),
        requires=getattr(function, REQUIRES_ATTRIBUTE, ()),
    )


def _args_model(where: str, function: Callable[..., object]) -> type[BaseModel]:
    params = list(inspect.signature(function).parameters.values())
    if len(params) != 2 or params[1].kind not in (
        inspect.Parameter.POSITIONAL_ONLY,
        inspect.Parameter.POSITIONAL_OR_KEYWORD,
    ):
        raise ToolDefinitionError(f"action {where} must take (self, args: <ArgsModel>)")
    try:
        hints = typing.get_type_hints(function)
    except NameError as exc:
        raise ToolDefinitionError(
            f"action {where}: cannot resolve its type hints ({exc}); "
            "define the args model at module level"
        ) from exc
    model = hints.get(params[1].name)
    if not (isinstance(model, type) and issubclass(model, BaseModel)):
        raise ToolDefinitionError(f"action {where}: args must be a pydantic model, got {model!r}")
    if model.model_config.get("extra") != "forbid":
        raise ToolDefinitionError(
            f"action {where}: {model.__name__} must forbid extra fields (subclass ToolArgs)"
        )
    return model


def parameters_schema(where: str, model: type[BaseModel]) -> dict[str, JsonValue]:
    """The JSON Schema of an args model, checked to describe every field."""
    schema: dict[str, JsonValue] = model.model_json_schema()
    properties = schema.get("properties")
    if schema.get("type") != "object" or not isinstance(properties, dict):
        raise ToolDefinitionError(f"action {where}: args schema is not an object schema")
    undescribed = [
        field
        for field, prop in properties.items()
        if not (isinstance(prop, dict) and prop.get("description"))
    ]
    if undescribed:
        raise ToolDefinitionError(
            f"action {where}: fields {undescribed} of {model.__name__} need "
            "Field(description=...): the model only knows what the description says"
        )
    return schema
