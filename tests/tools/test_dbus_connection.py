"""The bus connections of the dbus and systemd tools: addresses, absent buses, reuse, drops."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from sysward.tools import ToolErr, ToolOk, ToolRegistry
from sysward.tools.dbus import BusAddresses, DbusTool

from .dbus_daemon import (
    INTERFACE,
    PATH,
    SERVICE,
    DBusDaemon,
    SampleInterface,
    start_dbus_daemon,
)

WAIT_S = 10.0


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


async def names(registry: ToolRegistry) -> list[str]:
    result = await registry.invoke("dbus", "list", {})
    assert isinstance(result, ToolOk) and isinstance(result.output, dict), result
    return [item["name"] for item in result.output["names"]]


async def test_absent_system_bus_is_unavailable_with_a_clear_message() -> None:
    addresses = BusAddresses.from_environment({})
    if os.path.exists("/run/dbus/system_bus_socket"):  # noqa: ASYNC240, PTH110 (one stat)
        pytest.skip("this host has a system bus; the missing-socket test below covers the path")
    registry = ToolRegistry([DbusTool(addresses)])
    result = await registry.invoke("dbus", "list", {})
    assert isinstance(result, ToolErr)
    assert result.error.code == "unavailable"
    assert result.error.message.startswith(
        "no systemd/D-Bus reachable on the system bus at unix:path=/run/dbus/system_bus_socket"
    )
    assert "is this host running systemd?" in result.error.message


async def test_missing_bus_socket_is_unavailable(tmp_path: Path) -> None:
    address = f"unix:path={tmp_path}/no-bus"
    registry = ToolRegistry([DbusTool(BusAddresses(system="unused", user=address))])
    result = await registry.invoke("dbus", "list", {"bus": "user"})
    assert isinstance(result, ToolErr) and result.error.code == "unavailable"
    assert result.error.details["address"] == address


async def test_user_bus_without_an_address_is_unavailable() -> None:
    registry = ToolRegistry([DbusTool(BusAddresses(user=None))])
    result = await registry.invoke("dbus", "list", {"bus": "user"})
    assert isinstance(result, ToolErr) and result.error.code == "unavailable"
    assert "DBUS_SESSION_BUS_ADDRESS" in result.error.message


async def test_the_connection_is_reused(registry: ToolRegistry, tool: DbusTool) -> None:
    await names(registry)
    first = await tool.connections.connection("system")
    await names(registry)
    assert await tool.connections.connection("system") is first


async def test_a_dropped_connection_is_replaced_on_the_next_call(
    tmp_path: Path, dbus_daemon: DBusDaemon, tool: DbusTool, registry: ToolRegistry
) -> None:
    assert SERVICE in await names(registry)
    old = await tool.connections.connection("system")
    dbus_daemon.stop()  # a new daemon on the same socket: the old connection is gone
    replacement = start_dbus_daemon(tmp_path / "dbus")
    try:
        assert SERVICE not in await names(registry)  # answered by the new daemon
        assert await tool.connections.connection("system") is not old
    finally:
        replacement.stop()


async def test_a_call_cut_off_by_a_dropped_connection_is_not_retried(
    dbus_daemon: DBusDaemon, sample_service: SampleInterface, registry: ToolRegistry
) -> None:
    target = {"service": SERVICE, "path": PATH, "interface": INTERFACE}
    pending = asyncio.create_task(
        registry.invoke("dbus", "call", {**target, "method": "Hang", "timeout_s": 30})
    )
    try:
        async with asyncio.timeout(WAIT_S):
            await sample_service.is_hanging.wait()  # the call reached the peer
        dbus_daemon.stop()
        result = await asyncio.wait_for(pending, WAIT_S)
    finally:
        pending.cancel()
    assert isinstance(result, ToolErr) and result.error.code == "unavailable"
    assert "whether it took effect is unknown" in result.error.message


async def test_aclose_disconnects(registry: ToolRegistry, tool: DbusTool) -> None:
    await names(registry)
    connection = await tool.connections.connection("system")
    await tool.aclose()
    assert not connection.connected


def test_addresses_come_from_the_environment() -> None:
    env = {"DBUS_SYSTEM_BUS_ADDRESS": "unix:path=/s", "DBUS_SESSION_BUS_ADDRESS": "unix:path=/u"}
    assert BusAddresses.from_environment(env) == BusAddresses("unix:path=/s", "unix:path=/u")
    fallback = BusAddresses.from_environment({"XDG_RUNTIME_DIR": "/run/user/0"})
    assert fallback == BusAddresses(
        "unix:path=/run/dbus/system_bus_socket", "unix:path=/run/user/0/bus"
    )
    assert BusAddresses.from_environment({}).user is None
    assert BusAddresses.from_environment(os.environ).system  # never empty
