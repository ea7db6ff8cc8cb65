"""The dbus tool refuses malformed and hostile arguments before anything reaches the bus."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from sysward.tools import TOOL_RESULT, ToolErr, ToolRegistry
from sysward.tools.dbus import BusAddresses, DbusTool

from .dbus_daemon import INTERFACE, PATH, SERVICE, DBusDaemon, SampleInterface

TARGET = {"service": SERVICE, "path": PATH, "interface": INTERFACE}


@pytest.fixture
async def registry(
    dbus_daemon: DBusDaemon, sample_service: SampleInterface
) -> AsyncIterator[ToolRegistry]:
    registry = ToolRegistry([DbusTool(BusAddresses(system=dbus_daemon.address))])
    try:
        yield registry
    finally:
        await registry.aclose()


async def fail(registry: ToolRegistry, action: str, **args: object) -> ToolErr:
    result = await registry.invoke("dbus", action, args)
    assert isinstance(result, ToolErr), result
    return result


@pytest.mark.parametrize("args", [{"prefix": "-org"}, {"prefix": "a b"}, {"limit": 0}])
async def test_list_refuses_bad_filters(registry: ToolRegistry, args: dict[str, object]) -> None:
    result = await fail(registry, "list", **args)
    assert result.error.code == "invalid_args"


@pytest.mark.parametrize(
    "path", ["", "relative/path", "/trailing/", "/a//b", "/with-dash", "/dot.ted", "/" + "a" * 1100]
)
async def test_introspect_refuses_bad_object_paths(registry: ToolRegistry, path: str) -> None:
    result = await fail(registry, "introspect", service=SERVICE, path=path)
    assert result.error.code == "invalid_args"


@pytest.mark.parametrize(
    "service", ["-org.sysward.Test", "--help", "org", "org..x", "1org.x", "org.x y", "a" * 256]
)
async def test_introspect_refuses_bad_bus_names(registry: ToolRegistry, service: str) -> None:
    result = await fail(registry, "introspect", service=service, path="/")
    assert result.error.code == "invalid_args"


@pytest.mark.parametrize(
    ("signature", "args"),
    [
        ("a{", ["x"]),
        ("(s", ["x"]),
        ("z", ["x"]),
        ("h", [0]),
        ("a" * 70 + "s", [[]]),
        ("ss", ["only one"]),
        ("s", ["one", "two"]),
        ("s", [5]),
        ("s", ["lone \ud800 surrogate"]),
        ("a{ss}", [{"\udfff": "x"}]),
        ("t", [10**5000]),
        ("s", [None]),
        ("i", ["1"]),
        ("i", [True]),
        ("i", [1.5]),
        ("u", [-1]),
        ("y", [256]),
        ("x", [2**63]),
        ("b", [1]),
        ("d", ["1.0"]),
        ("ay", ["not base64!"]),
        ("ay", [[1, 2]]),
        ("as", ["not a list"]),
        ("(si)", [["a"]]),
        ("a{is}", [{"x": "y"}]),
        ("a{bs}", [{"yes": "y"}]),
        ("o", ["not/a/path"]),
        ("g", ["z"]),
        ("v", [{"value": 1}]),
        ("v", [{"signature": "ss", "value": "a"}]),
        ("v", [{"signature": "h", "value": 0}]),
        ("v", [{"signature": "u", "value": -1}]),
        ("v", ["bare"]),
    ],
)
async def test_call_refuses_args_that_do_not_fit_the_signature_before_sending(
    registry: ToolRegistry, sample_service: SampleInterface, signature: str, args: list[object]
) -> None:
    result = await fail(registry, "call", **TARGET, method="Echo", signature=signature, args=args)
    assert result.error.code == "invalid_args"
    assert sample_service.calls == []


@pytest.mark.parametrize(
    "override",
    [
        {"service": "-org.sysward.Test"},
        {"interface": "nodots"},
        {"interface": "-org.x"},
        {"method": "1abc"},
        {"method": "Echo\x00"},
        {"method": "-Echo"},
        {"args": ["nul\x00byte"]},
        {"args": ["x" * (300 * 1024)]},
        {"args": ["x"] * 65, "signature": "s" * 65},
        {"timeout_s": 0},
        {"timeout_s": 301},
        {"max_items": 0},
        {"bus": "session"},
        {"extra": 1},
    ],
)
async def test_call_refuses_hostile_arguments(
    registry: ToolRegistry, sample_service: SampleInterface, override: dict[str, object]
) -> None:
    args = {**TARGET, "method": "Echo", "signature": "s", "args": ["x"], **override}
    result = await registry.invoke("dbus", "call", args)
    assert isinstance(result, ToolErr) and result.error.code == "invalid_args"
    assert len(TOOL_RESULT.dump_json(result)) < 4000  # the huge input is not echoed back
    assert sample_service.calls == []


@pytest.mark.parametrize(
    "override",
    [
        {"property": "-Count"},
        {"property": "a.b"},
        {"property": ""},
        {"property": "x" * 256},
        {"interface": "-org.sysward.Test"},
        {"path": "-/x"},
        {"timeout_s": -1},
    ],
)
async def test_get_property_refuses_hostile_arguments(
    registry: ToolRegistry, override: dict[str, object]
) -> None:
    result = await registry.invoke(
        "dbus", "get_property", {**TARGET, "property": "Count", **override}
    )
    assert isinstance(result, ToolErr) and result.error.code == "invalid_args"
