"""The dbus tool against a real private dbus-daemon and a real service exported on it."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from typing import Any

import pytest
from pydantic import JsonValue

from sysward.tools import ToolErr, ToolOk, ToolRegistry
from sysward.tools.dbus import BusAddresses, DbusTool

from .dbus_daemon import (
    ACTIVATABLE,
    FORBIDDEN,
    INTERFACE,
    PATH,
    SERVICE,
    DBusDaemon,
    SampleInterface,
)

TARGET = {"service": SERVICE, "path": PATH, "interface": INTERFACE}


@pytest.fixture
def tool(dbus_daemon: DBusDaemon) -> DbusTool:
    return DbusTool(BusAddresses(system=dbus_daemon.address))


@pytest.fixture
async def registry(tool: DbusTool, sample_service: SampleInterface) -> AsyncIterator[ToolRegistry]:
    registry = ToolRegistry([tool])
    try:
        yield registry
    finally:
        await registry.aclose()


async def call(registry: ToolRegistry, action: str, **args: object) -> dict[str, Any]:
    result = await registry.invoke("dbus", action, args)
    assert isinstance(result, ToolOk), result
    assert isinstance(result.output, dict)
    return result.output


async def fail(registry: ToolRegistry, action: str, **args: object) -> ToolErr:
    result = await registry.invoke("dbus", action, args)
    assert isinstance(result, ToolErr), result
    return result


async def invoke(registry: ToolRegistry, method: str, signature: str, *args: JsonValue) -> object:
    output = await call(registry, "call", **TARGET, method=method, signature=signature, args=args)
    return output["values"]


# --- catalogue ---------------------------------------------------------------------------


def test_dbus_offers_the_spec_actions_with_their_effects() -> None:
    effects = {spec.action: spec.effect.value for spec in ToolRegistry([DbusTool()]).actions()}
    assert effects == {
        "list": "read",
        "introspect": "read",
        "call": "write",
        "get_property": "read",
    }


# --- list --------------------------------------------------------------------------------


async def test_list_marks_names_active_and_activatable(registry: ToolRegistry) -> None:
    output = await call(registry, "list")
    names = {item["name"]: item for item in output["names"]}
    assert names[SERVICE] == {"name": SERVICE, "is_active": True, "is_activatable": False}
    assert names[ACTIVATABLE] == {"name": ACTIVATABLE, "is_active": False, "is_activatable": True}
    assert output["truncated"] is False


async def test_list_hides_unique_names_unless_asked(registry: ToolRegistry) -> None:
    hidden = await call(registry, "list")
    shown = await call(registry, "list", include_unique=True)
    assert not any(str(item["name"]).startswith(":") for item in hidden["names"])
    assert any(str(item["name"]).startswith(":") for item in shown["names"])


async def test_list_filters_by_prefix(registry: ToolRegistry) -> None:
    output = await call(registry, "list", prefix="org.sysward.")
    assert [item["name"] for item in output["names"]] == [
        ACTIVATABLE,
        FORBIDDEN,
        SERVICE,
    ]


async def test_list_limit_truncates_and_counts_all(registry: ToolRegistry) -> None:
    output = await call(registry, "list", prefix="org.sysward.", limit=1)
    assert len(output["names"]) == 1
    assert output["total"] == 3
    assert output["truncated"] is True


# --- introspect --------------------------------------------------------------------------


async def test_introspect_describes_methods_signals_and_properties(
    registry: ToolRegistry,
) -> None:
    output = await call(registry, "introspect", service=SERVICE, path=PATH, interface=INTERFACE)
    (interface,) = output["interfaces"]
    methods = {m["name"]: m for m in interface["methods"]}
    assert methods["Add"] == {
        "name": "Add",
        "in_signature": "ii",
        "out_signature": "x",
        "in_args": [{"name": "a", "signature": "i"}, {"name": "b", "signature": "i"}],
        "out_args": [{"name": None, "signature": "x"}],
    }
    assert methods["Swap"]["in_signature"] == "(sa{us})"
    assert {"name": "Changed", "signature": "s", "args": [{"name": None, "signature": "s"}]} in (
        interface["signals"]
    )
    assert {"name": "Label", "signature": "s", "access": "read"} in interface["properties"]
    assert {"name": "Count", "signature": "u", "access": "readwrite"} in interface["properties"]


async def test_introspect_lists_child_nodes(registry: ToolRegistry) -> None:
    root = await call(registry, "introspect", service=SERVICE, path="/org/sysward")
    parent = await call(registry, "introspect", service=SERVICE, path=PATH)
    assert root["children"] == ["Test"]
    assert parent["children"] == ["child"]


async def test_introspect_hides_standard_interfaces_unless_asked(registry: ToolRegistry) -> None:
    plain = await call(registry, "introspect", service=SERVICE, path=PATH)
    full = await call(registry, "introspect", service=SERVICE, path=PATH, include_standard=True)
    plain_names = {item["name"] for item in plain["interfaces"]}
    full_names = {item["name"] for item in full["interfaces"]}
    assert INTERFACE in plain_names
    assert "org.freedesktop.DBus.Properties" not in plain_names
    assert {"org.freedesktop.DBus.Properties", "org.freedesktop.DBus.Peer"} <= full_names


async def test_introspect_a_missing_interface_is_not_found_with_the_choices(
    registry: ToolRegistry,
) -> None:
    result = await fail(
        registry, "introspect", service=SERVICE, path=PATH, interface="org.sysward.Nope"
    )
    assert result.error.code == "not_found"
    assert INTERFACE in result.error.details["interfaces"]


async def test_introspect_an_unknown_service_is_not_found(registry: ToolRegistry) -> None:
    result = await fail(registry, "introspect", service="org.sysward.Nobody", path="/")
    assert result.error.code == "not_found"
    assert result.error.details["dbus_error"] == "org.freedesktop.DBus.Error.ServiceUnknown"


# --- call --------------------------------------------------------------------------------


async def test_call_passes_strings_and_integers(
    registry: ToolRegistry, sample_service: SampleInterface
) -> None:
    assert await invoke(registry, "Echo", "s", "héllo") == ["héllo"]
    assert await invoke(registry, "Add", "ii", 2**31 - 1, 1) == [2**31]
    assert sample_service.calls == ["Echo"]


async def test_call_passes_bytes_as_base64(registry: ToolRegistry) -> None:
    reply = await invoke(registry, "Reverse", "ay", base64.b64encode(b"\x00\x01\xff").decode())
    assert reply == [base64.b64encode(b"\xff\x01\x00").decode()]


async def test_call_passes_a_dict_of_variants(registry: ToolRegistry) -> None:
    options = {
        "n": {"signature": "u", "value": 3},
        "list": {"signature": "as", "value": ["a", "b"]},
        "raw": {"signature": "ay", "value": "AAE="},
    }
    assert await invoke(registry, "Describe", "a{sv}", options) == [
        {"n": "u", "list": "as", "raw": "ay"}
    ]


async def test_call_returns_nested_variants_as_signature_and_value(
    registry: ToolRegistry,
) -> None:
    reply = await invoke(registry, "Wrap", "v", {"signature": "(ib)", "value": [-5, True]})
    inner = {"signature": "(ib)", "value": [-5, True]}
    assert reply == [{"signature": "(sv)", "value": ["wrapped", inner]}]


async def test_call_converts_structs_and_integer_keyed_dicts(registry: ToolRegistry) -> None:
    reply = await invoke(registry, "Swap", "(sa{us})", ["abc", {"1": "one", "41": "x"}])
    assert reply == [["cba", {"2": "one", "42": "x"}]]


async def test_call_returns_object_paths_as_strings(registry: ToolRegistry) -> None:
    assert await invoke(registry, "Path", "") == [PATH + "/child"]


async def test_call_cuts_long_arrays_to_max_items(registry: ToolRegistry) -> None:
    output = await call(
        registry, "call", **TARGET, method="Many", signature="u", args=[500], max_items=10
    )
    assert output["values"] == [[str(index) for index in range(10)]]
    assert output["truncated"] is True


async def test_call_reports_the_peer_error_name(registry: ToolRegistry) -> None:
    result = await fail(registry, "call", **TARGET, method="Fail")
    assert result.error.code == "dbus_error"
    assert result.error.details == {
        "dbus_error": "org.sysward.Test.Error.Broken",
        "dbus_message": "it broke on purpose",
    }


async def test_call_of_an_unknown_method_is_not_found(registry: ToolRegistry) -> None:
    result = await fail(registry, "call", **TARGET, method="Nope")
    assert result.error.code == "not_found"
    assert result.error.details["dbus_error"] == "org.freedesktop.DBus.Error.UnknownMethod"


async def test_call_with_a_signature_the_method_does_not_take_is_invalid_input(
    registry: ToolRegistry,
) -> None:
    result = await fail(registry, "call", **TARGET, method="Echo", signature="u", args=[1])
    assert result.error.code in ("invalid_input", "not_found")  # depends on the peer library
    assert str(result.error.details["dbus_error"]).startswith("org.freedesktop.DBus.Error.")


async def test_call_denied_by_bus_policy_is_permission_denied(registry: ToolRegistry) -> None:
    result = await fail(
        registry, "call", service=FORBIDDEN, path=PATH, interface=INTERFACE, method="Echo",
        signature="s", args=["x"],
    )  # fmt: skip
    assert result.error.code == "permission_denied"
    assert result.error.details["dbus_error"] == "org.freedesktop.DBus.Error.AccessDenied"


async def test_call_without_reply_times_out_within_its_bound(registry: ToolRegistry) -> None:
    result = await fail(registry, "call", **TARGET, method="Hang", timeout_s=0.2)
    assert result.error.code == "timeout"
    assert "unknown" in result.error.message


# --- get_property ------------------------------------------------------------------------


async def test_get_property_returns_the_value_and_its_signature(registry: ToolRegistry) -> None:
    output = await call(registry, "get_property", **TARGET, property="Count")
    assert output == {
        "interface": INTERFACE,
        "property": "Count",
        "signature": "u",
        "value": 7,
        "truncated": False,
    }


async def test_get_property_of_the_bus_daemon(registry: ToolRegistry) -> None:
    output = await call(
        registry,
        "get_property",
        service="org.freedesktop.DBus",
        path="/org/freedesktop/DBus",
        interface="org.freedesktop.DBus",
        property="Features",
    )
    assert output["signature"] == "as"
    assert isinstance(output["value"], list)


async def test_get_property_unknown_is_an_error_naming_the_dbus_error(
    registry: ToolRegistry,
) -> None:
    result = await fail(registry, "get_property", **TARGET, property="Nope")
    assert result.error.code in ("not_found", "invalid_input")  # dbus-fast answers InvalidArgs
    assert str(result.error.details["dbus_error"]).startswith("org.freedesktop.DBus.Error.")
