"""The unit trigger source against a real, isolated ``systemd --user``."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from dbus_fast import Message

from sysward.config import UnitTrigger
from sysward.tools.dbus.connection import BusAddresses, BusConnections
from sysward.tools.systemd.manager import SystemdManager
from sysward.triggers.source import SourceEvent, SourceUnavailable
from sysward.triggers.sources.unit import UnitSource
from tools.user_systemd import UserManager

WAIT_S = 10.0
# Absence cannot be awaited: a source that stays silent this long after the unit
# failed (the signals arrive within milliseconds) is taken to emit nothing.
QUIET_S = 1.5


def trigger(unit: str = "*.service", states: list[str] | None = None) -> UnitTrigger:
    return UnitTrigger(
        source="unit",
        agent="ops",
        prompt="{unit} is {state}",
        unit=unit,
        states=states or ["failed"],
        bus="user",
    )


def addresses_of(manager: UserManager) -> BusAddresses:
    """The manager's bus as the user bus; a system bus that cannot exist, so no test
    reaches the host's manager."""
    return BusAddresses(
        system=f"unix:path={manager.runtime_dir}/no-system-bus", user=manager.address
    )


@pytest.fixture
async def systemd(user_manager: UserManager) -> AsyncIterator[SystemdManager]:
    """The project's own manager client on the isolated manager, to start units with."""
    connections = BusConnections(addresses_of(user_manager))
    try:
        yield SystemdManager(connections)
    finally:
        await connections.aclose()


@contextlib.asynccontextmanager
async def running(source: UnitSource) -> AsyncIterator[list[SourceEvent]]:
    """The source as a task, collecting what it emits; cancelled (and awaited) after."""
    events: list[SourceEvent] = []
    task = asyncio.create_task(source.run(events.append))
    try:
        yield events
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def fail_unit(systemd: SystemdManager, unit: str = "failing.service") -> None:
    outcome = await systemd.run_job("user", "start", unit, WAIT_S)
    assert outcome.result == "failed", outcome


async def wait_for(events: list[SourceEvent], count: int) -> list[SourceEvent]:
    """The events once there are ``count``; then no more may follow within QUIET_S."""
    try:
        async with asyncio.timeout(WAIT_S):
            while len(events) < count:  # noqa: ASYNC110
                await asyncio.sleep(0.01)
    except TimeoutError:
        pytest.fail(f"{len(events)} of {count} events within {WAIT_S} s: {events}")
    await asyncio.sleep(QUIET_S)
    assert len(events) == count, events
    return list(events)


async def invocation_id(systemd: SystemdManager, unit: str) -> str:
    """The unit's InvocationID as the manager reports it, in hex."""
    loaded = await systemd.connections.call(
        "user",
        Message(
            destination="org.freedesktop.systemd1",
            path="/org/freedesktop/systemd1",
            interface="org.freedesktop.systemd1.Manager",
            member="LoadUnit",
            signature="s",
            body=[unit],
        ),
        is_idempotent=True,
        timeout_s=WAIT_S,
    )
    reply = await systemd.connections.call(
        "user",
        Message(
            destination="org.freedesktop.systemd1",
            path=str(loaded.body[0]),
            interface="org.freedesktop.DBus.Properties",
            member="Get",
            signature="ss",
            body=["org.freedesktop.systemd1.Unit", "InvocationID"],
        ),
        is_idempotent=True,
        timeout_s=WAIT_S,
    )
    return bytes(reply.body[0].value).hex()


async def test_a_failing_unit_emits_one_failed_event(
    user_manager: UserManager, systemd: SystemdManager
) -> None:
    async with running(UnitSource(trigger(), addresses_of(user_manager))) as events:
        await fail_unit(systemd)
        [event] = await wait_for(events, 1)
    assert event.fields["unit"] == "failing.service"
    assert event.fields["state"] == "failed"
    assert event.fields["result"] == "exit-code"
    assert event.fields["bus"] == "user"
    assert event.fields["invocation_id"] == await invocation_id(systemd, "failing.service")
    assert event.key == f"failing.service/{event.fields['invocation_id']}/failed"


async def test_a_unit_not_matching_the_glob_emits_nothing(
    user_manager: UserManager, systemd: SystemdManager
) -> None:
    source = UnitSource(trigger(unit="nomatch-*.service"), addresses_of(user_manager))
    async with running(source) as events:
        await fail_unit(systemd)
        await asyncio.sleep(QUIET_S)
    assert events == []


async def test_a_state_not_listed_emits_nothing(
    user_manager: UserManager, systemd: SystemdManager
) -> None:
    # failing.service passes through activating, never active; dbus.service is active.
    source = UnitSource(
        trigger(unit="failing.service", states=["active"]), addresses_of(user_manager)
    )
    async with running(source) as events:
        await fail_unit(systemd)
        await asyncio.sleep(QUIET_S)
    assert events == []


async def test_startup_scan_emits_a_failure_from_before_the_start_once(
    user_manager: UserManager, systemd: SystemdManager
) -> None:
    await fail_unit(systemd)
    async with running(UnitSource(trigger(), addresses_of(user_manager))) as events:
        [event] = await wait_for(events, 1)
    invocation = await invocation_id(systemd, "failing.service")
    assert event.fields["unit"] == "failing.service"
    assert event.fields["invocation_id"] == invocation
    assert event.key == f"failing.service/{invocation}/failed"


async def test_startup_scan_gives_the_key_the_live_event_had(
    user_manager: UserManager, systemd: SystemdManager
) -> None:
    source = UnitSource(trigger(), addresses_of(user_manager))
    async with running(source) as events:
        await fail_unit(systemd)
        [live] = await wait_for(events, 1)
    async with running(source) as events:
        [scanned] = await wait_for(events, 1)
    assert scanned == live


async def test_a_new_invocation_gives_a_new_key(
    user_manager: UserManager, systemd: SystemdManager
) -> None:
    async with running(UnitSource(trigger(), addresses_of(user_manager))) as events:
        await fail_unit(systemd)
        [first] = await wait_for(events, 1)
        await fail_unit(systemd)
        [_, second] = await wait_for(events, 2)
    assert second.key != first.key
    assert second.fields["invocation_id"] != first.fields["invocation_id"]


async def test_no_user_bus_address_is_unavailable() -> None:
    source = UnitSource(trigger(), BusAddresses(user=None))
    with pytest.raises(SourceUnavailable, match="no address for the user bus"):
        await source.run(lambda event: None)


async def test_an_unreachable_bus_is_unavailable_naming_the_address(tmp_path: Path) -> None:
    address = f"unix:path={tmp_path}/no-bus"
    source = UnitSource(trigger(), BusAddresses(user=address))
    with pytest.raises(SourceUnavailable, match=str(tmp_path / "no-bus")):
        await source.run(lambda event: None)


async def test_a_dropped_bus_is_unavailable(user_manager: UserManager) -> None:
    source = UnitSource(trigger(), addresses_of(user_manager))
    events: list[SourceEvent] = []
    task = asyncio.create_task(source.run(events.append))
    try:
        await asyncio.sleep(0.5)  # connected and subscribed; nothing observable to await
        assert not task.done()
        await asyncio.to_thread(user_manager.stop)
        async with asyncio.timeout(WAIT_S):
            with pytest.raises(SourceUnavailable, match="dropped"):
                await task
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, SourceUnavailable):
            await task
