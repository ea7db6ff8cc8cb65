"""The registry: the catalogue offered to models and the one place calls become results."""

import asyncio
import json
import logging
from typing import Any

import pytest
from pydantic import BaseModel, Field

from sysward.tools import (
    TOOL_DESCRIPTIONS,
    TOOL_RESULT,
    Effect,
    NoArgs,
    Tool,
    ToolArgs,
    ToolErr,
    ToolFailed,
    ToolOk,
    ToolRegistry,
    UnknownAction,
    UnknownTool,
    action,
)
from sysward.tools.requirement import program


class EchoArgs(ToolArgs):
    """What to echo."""

    text: str = Field(max_length=1000, description="Text to echo back")
    times: int = Field(1, ge=1, le=10, description="How many times")


class Echoed(BaseModel):
    text: str


class SleepArgs(ToolArgs):
    """How long to sleep."""

    seconds: float = Field(ge=0, le=60, description="Seconds to sleep")


class SizeArgs(ToolArgs):
    """How big an output to make."""

    size: int = Field(ge=0, le=10_000_000, description="Characters of output")


class FailArgs(ToolArgs):
    """How to fail."""

    code: str = Field(max_length=64, description="Error code to raise")


class EchoTool(Tool):
    """Echo text back; a well-behaved test tool."""

    name = "echo"

    @action(effect=Effect.READ)
    async def say(self, args: EchoArgs) -> Echoed:
        """Return the text, repeated."""
        return Echoed(text=args.text * args.times)

    @action(effect=Effect.WRITE)
    async def shout(self, args: EchoArgs) -> str:
        """Return the text in capitals."""
        return args.text.upper()


class TroubleTool(Tool):
    """Misbehave in every way a tool can."""

    name = "trouble"

    def __init__(self) -> None:
        self.started = asyncio.Event()
        self.cleaned_up = False

    @action(effect=Effect.READ)
    async def fail(self, args: FailArgs) -> None:
        """Raise an expected failure."""
        raise ToolFailed(args.code, "the thing is missing; create it first", {"thing": "x"})

    @action(effect=Effect.READ)
    async def crash(self, args: NoArgs) -> None:
        """Raise a bug."""
        raise KeyError("boom")

    @action(effect=Effect.READ)
    async def sleep(self, args: SleepArgs) -> str:
        """Sleep, then answer."""
        self.started.set()
        try:
            await asyncio.sleep(args.seconds)
        finally:
            self.cleaned_up = True
        return "awake"

    @action(effect=Effect.READ)
    async def big(self, args: SizeArgs) -> str:
        """Return a string of the given size."""
        return "x" * args.size

    @action(effect=Effect.READ)
    async def opaque(self, args: NoArgs) -> object:
        """Return something that is not JSON."""
        return object()

    @action(effect=Effect.READ)
    async def own_timeout(self, args: NoArgs) -> None:
        """Raise a TimeoutError of its own."""
        raise TimeoutError("upstream socket timed out")

    @action(effect=Effect.READ)
    async def bad_details(self, args: NoArgs) -> None:
        """Raise ToolFailed with details that are not JSON."""
        raise ToolFailed("broken", "details are not JSON", {"obj": object()})  # type: ignore[dict-item]

    @action(effect=Effect.READ)
    async def cancelled(self, args: NoArgs) -> None:
        """Raise CancelledError as if the caller was cancelled."""
        raise asyncio.CancelledError


@pytest.fixture
def trouble() -> TroubleTool:
    return TroubleTool()


@pytest.fixture
def registry(trouble: TroubleTool) -> ToolRegistry:
    return ToolRegistry([EchoTool(), trouble])


def error_of(result: ToolOk | ToolErr) -> ToolErr:
    assert isinstance(result, ToolErr), result
    return result


# --- the catalogue -------------------------------------------------------------------------


def test_actions_are_listed_in_registration_then_definition_order(registry: ToolRegistry) -> None:
    names = [(spec.tool, spec.action) for spec in registry.actions()]
    assert names[:3] == [("echo", "say"), ("echo", "shout"), ("trouble", "fail")]


def test_spec_carries_effect_description_and_args_model(registry: ToolRegistry) -> None:
    spec = registry.spec("echo", "shout")
    assert spec.effect is Effect.WRITE
    assert not spec.is_read_only
    assert spec.description == "Return the text in capitals."
    assert spec.args_model is EchoArgs
    assert spec.function_name == "echo_shout"


def test_every_parameters_schema_is_an_object_schema_with_descriptions(
    registry: ToolRegistry,
) -> None:
    for spec in registry.actions():
        schema: Any = spec.parameters
        assert schema["type"] == "object"
        assert schema["additionalProperties"] is False
        assert schema["description"]
        assert all(prop["description"] for prop in schema["properties"].values())
        json.dumps(schema)


def test_schema_keeps_constraints_and_required_fields(registry: ToolRegistry) -> None:
    schema: Any = registry.spec("echo", "say").parameters
    assert schema["required"] == ["text"]
    assert schema["properties"]["times"]["maximum"] == 10


def test_describe_has_the_get_v1_tools_shape(registry: ToolRegistry) -> None:
    wire = json.loads(TOOL_DESCRIPTIONS.dump_json(registry.describe()))
    assert [tool["name"] for tool in wire] == ["echo", "trouble"]
    echo = wire[0]
    assert set(echo) == {"name", "description", "actions"}
    assert echo["description"] == "Echo text back; a well-behaved test tool."
    assert [set(a) for a in echo["actions"]] == [
        {"name", "effect", "description", "parameters", "available", "unavailable_reason"}
    ] * 2
    assert [(a["available"], a["unavailable_reason"]) for a in echo["actions"]] == [
        (True, None)
    ] * 2
    assert [(a["name"], a["effect"]) for a in echo["actions"]] == [
        ("say", "read"),
        ("shout", "write"),
    ]
    assert echo["actions"][0]["parameters"] == registry.spec("echo", "say").parameters


def test_spec_of_unknown_tool_lists_the_tools(registry: ToolRegistry) -> None:
    with pytest.raises(UnknownTool) as raised:
        registry.spec("ehco", "say")
    assert raised.value.details["choices"] == ["echo", "trouble"]


def test_spec_of_unknown_action_lists_the_actions(registry: ToolRegistry) -> None:
    with pytest.raises(UnknownAction) as raised:
        registry.spec("echo", "yell")
    assert raised.value.details["choices"] == ["say", "shout"]


# --- invoke ------------------------------------------------------------------------------


async def test_invoke_returns_the_output_and_duration(registry: ToolRegistry) -> None:
    result = await registry.invoke("echo", "say", {"text": "hi", "times": 2})
    assert isinstance(result, ToolOk)
    assert result.output == {"text": "hihi"}
    assert isinstance(result.metadata["duration_ms"], int)


async def test_invoke_result_round_trips_through_the_adapter(registry: ToolRegistry) -> None:
    result = await registry.invoke("echo", "shout", {"text": "hi"})
    assert TOOL_RESULT.validate_json(TOOL_RESULT.dump_json(result)) == result


async def test_unknown_tool_is_an_error_result_with_choices(registry: ToolRegistry) -> None:
    error = error_of(await registry.invoke("nope", "say", {})).error
    assert error.code == "unknown_tool"
    assert error.details["choices"] == ["echo", "trouble"]


async def test_unknown_action_is_an_error_result_with_choices(registry: ToolRegistry) -> None:
    error = error_of(await registry.invoke("echo", "nope", {})).error
    assert error.code == "unknown_action"
    assert error.details["choices"] == ["say", "shout"]


async def test_unknown_names_are_not_echoed_in_full(registry: ToolRegistry) -> None:
    result = await registry.invoke("x" * 100_000, "y" * 100_000, {})
    assert error_of(result).error.code == "unknown_tool"
    assert len(TOOL_RESULT.dump_json(result)) < 1000


@pytest.mark.parametrize(
    ("args", "loc", "kind"),
    [
        ({"text": 5}, ["text"], "string_type"),
        ({}, ["text"], "missing"),
        ({"text": "hi", "loud": True}, ["loud"], "extra_forbidden"),
        ({"text": "hi", "times": 11}, ["times"], "less_than_equal"),
        ({"text": "a\x00b"}, [], "value_error"),
    ],
)
async def test_invalid_args_report_where_and_why(
    registry: ToolRegistry, args: dict[str, object], loc: list[str], kind: str
) -> None:
    error = error_of(await registry.invoke("echo", "say", args)).error
    assert error.code == "invalid_args"
    errors: Any = error.details["errors"]
    assert (errors[0]["loc"], errors[0]["type"]) == (loc, kind)
    assert errors[0]["msg"]


async def test_args_that_are_not_an_object_are_invalid(registry: ToolRegistry) -> None:
    result = await registry.invoke("echo", "say", ["hi"])  # type: ignore[arg-type]
    assert error_of(result).error.code == "invalid_args"


async def test_nul_in_a_nested_string_is_located(registry: ToolRegistry) -> None:
    error = error_of(await registry.invoke("echo", "say", {"text": "ok", "env": {"A": "\x00"}}))
    assert "args.env.A contains a NUL byte" in json.dumps(error.error.details)


async def test_huge_invalid_input_is_not_echoed(registry: ToolRegistry) -> None:
    huge = "z" * 5_000_000
    result = await registry.invoke("echo", "say", {"text": huge, huge: 1})
    assert error_of(result).error.code == "invalid_args"
    assert len(TOOL_RESULT.dump_json(result)) < 2000


async def test_tool_failed_keeps_its_code_message_and_details(registry: ToolRegistry) -> None:
    error = error_of(await registry.invoke("trouble", "fail", {"code": "not_found"})).error
    assert (error.code, error.message, error.details) == (
        "not_found",
        "the thing is missing; create it first",
        {"thing": "x"},
    )


async def test_tool_failed_with_a_malformed_code_is_an_internal_error(
    registry: ToolRegistry,
) -> None:
    result = await registry.invoke("trouble", "fail", {"code": "Not Found"})
    assert error_of(result).error.code == "internal_error"


async def test_tool_failed_with_non_json_details_is_an_internal_error(
    registry: ToolRegistry,
) -> None:
    result = await registry.invoke("trouble", "bad_details", {})
    assert error_of(result).error.code == "internal_error"


async def test_timeout_cancels_the_tool_and_reports_timeout(
    registry: ToolRegistry, trouble: TroubleTool
) -> None:
    result = await registry.invoke("trouble", "sleep", {"seconds": 30}, timeout_s=0.01)
    error = error_of(result).error
    assert (error.code, error.details) == ("timeout", {"timeout_s": 0.01})
    assert trouble.cleaned_up


async def test_a_tools_own_timeout_error_is_an_internal_error(registry: ToolRegistry) -> None:
    result = await registry.invoke("trouble", "own_timeout", {}, timeout_s=10)
    error = error_of(result).error
    assert error.code == "internal_error"
    assert "TimeoutError" in error.message


async def test_a_buggy_tool_becomes_an_internal_error(
    registry: ToolRegistry, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="sysward.tools.registry"):
        error = error_of(await registry.invoke("trouble", "crash", {})).error
    assert error.code == "internal_error"
    assert "KeyError" in error.message and "boom" in error.message
    assert error.details == {"exception": "builtins.KeyError"}
    assert caplog.records[0].exc_info is not None  # the traceback reaches the developer


async def test_non_json_output_is_an_internal_error(registry: ToolRegistry) -> None:
    result = await registry.invoke("trouble", "opaque", {})
    assert error_of(result).error.code == "internal_error"


async def test_output_over_the_cap_is_replaced_by_an_error(trouble: TroubleTool) -> None:
    registry = ToolRegistry([trouble], max_output_bytes=1000)
    error = error_of(await registry.invoke("trouble", "big", {"size": 5000})).error
    assert error.code == "output_too_large"
    assert error.details["max_bytes"] == 1000
    assert isinstance(error.details["size_bytes"], int) and error.details["size_bytes"] > 5000
    assert "1000" in error.message


async def test_output_under_the_cap_is_returned_whole(trouble: TroubleTool) -> None:
    registry = ToolRegistry([trouble], max_output_bytes=1000)
    result = await registry.invoke("trouble", "big", {"size": 900})
    assert isinstance(result, ToolOk) and result.output == "x" * 900


async def test_default_cap_is_64_kib(registry: ToolRegistry) -> None:
    result = await registry.invoke("trouble", "big", {"size": 64 * 1024})
    assert error_of(result).error.code == "output_too_large"


async def test_cancelling_the_caller_cancels_the_tool(
    registry: ToolRegistry, trouble: TroubleTool
) -> None:
    task = asyncio.create_task(registry.invoke("trouble", "sleep", {"seconds": 30}))
    async with asyncio.timeout(5):
        await trouble.started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert trouble.cleaned_up


async def test_cancelled_error_from_a_tool_propagates(registry: ToolRegistry) -> None:
    with pytest.raises(asyncio.CancelledError):
        await registry.invoke("trouble", "cancelled", {})


class _SurrogateTool(Tool):
    """Returns text with a lone surrogate, as os.fsdecode gives for a non-UTF-8 name."""

    name = "surrogate"

    @action(effect=Effect.READ)
    async def show(self, args: NoArgs) -> dict[str, str]:
        """Return an unencodable string."""
        return {"name": "bad\udcff"}


async def test_a_result_that_is_not_json_becomes_an_internal_error_result() -> None:
    registry = ToolRegistry([_SurrogateTool()])
    result = await registry.invoke("surrogate", "show", {})
    assert not result.ok
    assert result.error.code == "internal_error"
    assert "cannot be encoded" in result.error.message


# A program no host has: the requirement is real (shutil.which over the real PATH).
ABSENT = program("sysward-test-no-such-program", install="install the imaginary package")


class _NeedyTool(Tool):
    """An action that needs a program this host lacks, beside one that needs nothing."""

    name = "needy"

    def __init__(self) -> None:
        self.calls = 0

    @action(effect=Effect.WRITE, requires=(ABSENT,))
    async def run(self, args: EchoArgs) -> Echoed:
        """Would run the missing program."""
        self.calls += 1
        return Echoed(text=args.text)

    @action(effect=Effect.READ, requires=(program("sh", install="install dash"),))
    async def plain(self, args: NoArgs) -> str:
        """Needs only sh."""
        return "ok"


def test_an_action_with_a_missing_requirement_stays_listed_with_the_reason() -> None:
    (needy,) = ToolRegistry([_NeedyTool()]).describe()
    run, plain = needy.actions
    assert (run.name, run.available) == ("run", False)
    assert run.unavailable_reason == (
        "the sysward-test-no-such-program command is not available on this host; "
        "install the imaginary package"
    )
    assert run.parameters["required"] == ["text"]  # the schema is still offered
    assert (plain.available, plain.unavailable_reason) == (True, None)


async def test_calling_an_unavailable_action_returns_unavailable_and_never_runs_it() -> None:
    tool = _NeedyTool()
    result = await ToolRegistry([tool]).invoke("needy", "run", {"text": "x"})
    assert isinstance(result, ToolErr)
    assert result.error.code == "unavailable"
    assert result.error.message.startswith("needy.run cannot run: the sysward-test-no-such")
    assert "install the imaginary package" in result.error.message
    assert tool.calls == 0


async def test_an_action_whose_requirements_are_met_runs() -> None:
    result = await ToolRegistry([_NeedyTool()]).invoke("needy", "plain", {})
    assert isinstance(result, ToolOk) and result.output == "ok"
