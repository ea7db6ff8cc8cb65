"""The contract a tool class must meet; breaking it fails when the registry is built."""

from typing import Any

import pytest
from pydantic import BaseModel, ConfigDict, Field

from sysward.tools import (
    Effect,
    NoArgs,
    Tool,
    ToolArgs,
    ToolDefinitionError,
    ToolRegistry,
    action,
)


class Loose(BaseModel):
    """Allows extra fields."""

    model_config = ConfigDict(extra="allow")

    path: str = Field(description="A path")


class Undescribed(ToolArgs):
    """A field without a description."""

    path: str


class Nested(ToolArgs):
    """An inner model."""

    port: int = Field(description="A port")


class Outer(ToolArgs):
    """Has a nested model."""

    inner: Nested = Field(description="The inner part")
    tags: list[Nested] = Field(default_factory=list, description="More parts")


class Good(Tool):
    """A tool that keeps the contract."""

    name = "good"

    @action(effect=Effect.READ)
    async def run(self, args: NoArgs) -> int:
        """Return one."""
        return 1


def build(*tools: Tool) -> ToolRegistry:
    return ToolRegistry(tools)


def test_a_tool_without_a_name_is_refused() -> None:
    class Nameless(Tool):
        """No name."""

        @action(effect=Effect.READ)
        async def run(self, args: NoArgs) -> int:
            """Return one."""
            return 1

    with pytest.raises(ToolDefinitionError, match="name"):
        build(Nameless())


@pytest.mark.parametrize("name", ["", "Net", "net_tool", "9net", "n" * 33])
def test_tool_names_are_lowercase_words(name: str) -> None:
    tool_class = type("Named", (Good,), {"name": name, "__doc__": "Named."})
    with pytest.raises(ToolDefinitionError, match="name"):
        build(tool_class())


def test_two_tools_with_one_name_are_refused() -> None:
    with pytest.raises(ToolDefinitionError, match="two tools"):
        build(Good(), Good())


def test_a_tool_needs_its_own_docstring() -> None:
    class Undocumented(Good):
        name = "undocumented"

    with pytest.raises(ToolDefinitionError, match="docstring"):
        build(Undocumented())


def test_a_tool_needs_an_action() -> None:
    class Idle(Tool):
        """Does nothing."""

        name = "idle"

    with pytest.raises(ToolDefinitionError, match="no @action"):
        build(Idle())


def test_an_action_needs_a_docstring() -> None:
    class Quiet(Tool):
        """Quiet."""

        name = "quiet"

        @action(effect=Effect.READ)
        async def run(self, args: NoArgs) -> int:
            return 1

    with pytest.raises(ToolDefinitionError, match="docstring"):
        build(Quiet())


def test_an_action_must_be_async() -> None:
    with pytest.raises(ToolDefinitionError, match="async"):

        class Sync(Tool):
            """Sync."""

            name = "sync"

            @action(effect=Effect.READ)  # type: ignore[type-var]
            def run(self, args: NoArgs) -> int:
                """Return one."""
                return 1


def test_an_action_takes_exactly_one_args_model() -> None:
    class TwoArgs(Tool):
        """Two args."""

        name = "twoargs"

        @action(effect=Effect.READ)
        async def run(self, args: NoArgs, more: NoArgs) -> int:
            """Return one."""
            return 1

    with pytest.raises(ToolDefinitionError, match="self, args"):
        build(TwoArgs())


def test_args_must_be_a_pydantic_model() -> None:
    class PlainArgs(Tool):
        """Plain args."""

        name = "plain"

        @action(effect=Effect.READ)
        async def run(self, args: dict[str, str]) -> int:
            """Return one."""
            return 1

    with pytest.raises(ToolDefinitionError, match="pydantic model"):
        build(PlainArgs())


def test_args_must_forbid_extra_fields() -> None:
    class LooseTool(Tool):
        """Loose."""

        name = "loose"

        @action(effect=Effect.READ)
        async def run(self, args: Loose) -> int:
            """Return one."""
            return 1

    with pytest.raises(ToolDefinitionError, match="forbid extra"):
        build(LooseTool())


def test_every_field_needs_a_description() -> None:
    class Terse(Tool):
        """Terse."""

        name = "terse"

        @action(effect=Effect.READ)
        async def run(self, args: Undescribed) -> int:
            """Return one."""
            return 1

    with pytest.raises(ToolDefinitionError, match=r"\['path'\].*description"):
        build(Terse())


def test_nested_models_stay_in_a_self_contained_defs_block() -> None:
    class Deep(Tool):
        """Deep."""

        name = "deep"

        @action(effect=Effect.READ)
        async def run(self, args: Outer) -> int:
            """Return one."""
            return 1

    schema: Any = build(Deep()).spec("deep", "run").parameters
    assert set(schema["$defs"]) == {"Nested"}
    assert "#/$defs/Nested" in str(schema["properties"])


def test_an_override_without_action_is_not_an_action() -> None:
    class Narrowed(Good):
        """Good without run."""

        name = "narrowed"

        async def run(self, args: NoArgs) -> int:
            return 2

        @action(effect=Effect.WRITE)
        async def other(self, args: NoArgs) -> int:
            """Return three."""
            return 3

    assert [spec.action for spec in build(Narrowed()).actions()] == ["other"]


def test_actions_are_inherited() -> None:
    class Child(Good):
        """Child of good."""

        name = "child"

    assert [spec.action for spec in build(Child()).actions()] == ["run"]


async def test_aclose_closes_every_tool() -> None:
    closed: list[str] = []

    class Holder(Good):
        """Holds something."""

        name = "holder"

        async def aclose(self) -> None:
            closed.append(self.name)

    await build(Holder(), Good()).aclose()
    assert closed == ["holder"]
