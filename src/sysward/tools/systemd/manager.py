"""The systemd manager (org.freedesktop.systemd1) on the system or user bus, as typed calls."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from dbus_fast import Message, Variant
from dbus_fast.aio import MessageBus

from sysward.tools.dbus.connection import BusConnections, BusKind, call
from sysward.tools.dbus.failures import DBUS_ERROR_CODES
from sysward.tools.systemd.jobs import (
    JOB_REMOVED_RULE,
    MANAGER_INTERFACE,
    MANAGER_PATH,
    JobWatch,
    job_id,
)
from sysward.tools.systemd.models import JobOperation, JobOutcome, UnitFileChange, UnitFileChanges
from sysward.tools.systemd.units import UnitStatus, UnitSummary, unit_status, unit_summary
from sysward.tools.tool import ToolFailed

SYSTEMD = "org.freedesktop.systemd1"
UNIT_INTERFACE = "org.freedesktop.systemd1.Unit"
CALL_TIMEOUT_S = 30.0
RELOAD_TIMEOUT_S = 120.0  # a daemon-reload re-reads every unit file

_S = "org.freedesktop.systemd1."
SYSTEMD_ERROR_CODES = {
    **DBUS_ERROR_CODES,
    _S + "NoSuchUnit": "not_found",
    _S + "UnitMasked": "unit_masked",
    _S + "JobTypeNotApplicable": "not_applicable",
    _S + "OnlyByDependency": "not_applicable",
    _S + "TransactionIsDestructive": "conflict",
    _S + "TransactionJobsConflicting": "conflict",
    _S + "TransactionOrderIsCyclic": "conflict",
    _S + "ShuttingDown": "unavailable",
}

_JOB_METHODS: dict[JobOperation, str] = {
    "start": "StartUnit",
    "stop": "StopUnit",
    "restart": "RestartUnit",
    "reload": "ReloadUnit",
}


class SystemdManager:
    """Calls to the manager on each bus; subscribes a connection to job signals on first use."""

    def __init__(self, connections: BusConnections) -> None:
        self.connections = connections
        self._subscribed: dict[BusKind, MessageBus] = {}

    async def status(self, bus: BusKind, unit: str) -> UnitStatus:
        """The unit's status; ``not_found`` when it has neither a unit file nor a loaded unit."""
        status = await self._read_status(bus, unit)
        if status.load_state == "not-found":
            raise ToolFailed(
                "not_found",
                f"unit {unit} not found on the {bus} manager: no unit file and not loaded; "
                "check the name with systemd.list",
                {"unit": unit, "bus": bus},
            )
        return status

    async def run_job(
        self, bus: BusKind, operation: JobOperation, unit: str, timeout_s: float
    ) -> JobOutcome:
        """Queue the job (mode "replace"), wait for it up to ``timeout_s``, report the unit."""
        connection = await self._subscribed_connection(bus)
        watch = JobWatch()
        connection.add_message_handler(watch.on_message)
        try:
            message = _manager_message(_JOB_METHODS[operation], "ss", [unit, "replace"])
            reply = await call(
                connection, message, timeout_s=CALL_TIMEOUT_S, error_codes=SYSTEMD_ERROR_CODES
            )
            job_path = str(reply.body[0])
            result = await watch.wait(job_path, timeout_s)
        finally:
            connection.remove_message_handler(watch.on_message)
        return JobOutcome(
            unit=unit,
            operation=operation,
            job_id=job_id(job_path),
            result=result or "still_running",
            is_finished=result is not None,
            # Not `status`: a unit without a unit file may be gone once stopped.
            status=await self._read_status(bus, unit),
        )

    async def enable(self, bus: BusKind, unit: str) -> UnitFileChanges:
        """Enable the unit file (not runtime, not forced) and reload if anything changed."""
        reply = await self._call(
            bus, "EnableUnitFiles", "asbb", [[unit], False, False], is_idempotent=False
        )
        carries_install_info, rows = reply.body
        return await self._changed(bus, unit, "enable", rows, bool(carries_install_info))

    async def disable(self, bus: BusKind, unit: str) -> UnitFileChanges:
        """Disable the unit file (not runtime) and reload if anything changed."""
        reply = await self._call(
            bus, "DisableUnitFiles", "asb", [[unit], False], is_idempotent=False
        )
        return await self._changed(bus, unit, "disable", reply.body[0], None)

    async def list_units(self, bus: BusKind) -> list[UnitSummary]:
        """Every unit the manager has loaded."""
        reply = await self._call(bus, "ListUnits", is_idempotent=True)
        return [unit_summary(tuple(row)) for row in reply.body[0]]

    async def _changed(
        self,
        bus: BusKind,
        unit: str,
        operation: Literal["enable", "disable"],
        rows: Sequence[Sequence[str]],
        carries_install_info: bool | None,
    ) -> UnitFileChanges:
        changes = [
            UnitFileChange(type=kind, file=file, destination=destination or None)
            for kind, file, destination in rows
        ]
        if changes:
            await self._call(bus, "Reload", is_idempotent=False, timeout_s=RELOAD_TIMEOUT_S)
        state = await self._call(bus, "GetUnitFileState", "s", [unit], is_idempotent=True)
        return UnitFileChanges(
            unit=unit,
            operation=operation,
            changes=changes,
            carries_install_info=carries_install_info,
            unit_file_state=str(state.body[0]) or None,
        )

    async def _read_status(self, bus: BusKind, unit: str) -> UnitStatus:
        reply = await self._call(bus, "LoadUnit", "s", [unit], is_idempotent=True)
        path = str(reply.body[0])
        unit_props = await self._properties(bus, path, UNIT_INTERFACE)
        if _value_of(unit_props, "LoadState") == "not-found":
            return unit_status(unit_props, {})
        suffix = unit.rsplit(".", 1)[1]
        typed = await self._properties(bus, path, f"{_S}{suffix.capitalize()}")
        return unit_status(unit_props, typed)

    async def _subscribed_connection(self, bus: BusKind) -> MessageBus:
        """The bus connection, receiving JobRemoved (systemd sends it only to subscribers)."""
        connection = await self.connections.connection(bus)
        if self._subscribed.get(bus) is connection:
            return connection
        add_match = Message(
            destination="org.freedesktop.DBus",
            path="/org/freedesktop/DBus",
            interface="org.freedesktop.DBus",
            member="AddMatch",
            signature="s",
            body=[JOB_REMOVED_RULE],
        )
        await call(connection, add_match, timeout_s=CALL_TIMEOUT_S)
        try:
            await call(connection, _manager_message("Subscribe"), timeout_s=CALL_TIMEOUT_S)
        except ToolFailed as failure:
            if failure.details.get("dbus_error") != f"{_S}AlreadySubscribed":
                raise
        self._subscribed[bus] = connection
        return connection

    async def _properties(self, bus: BusKind, path: str, interface: str) -> dict[str, Variant]:
        message = Message(
            destination=SYSTEMD,
            path=path,
            interface="org.freedesktop.DBus.Properties",
            member="GetAll",
            signature="s",
            body=[interface],
        )
        reply = await self.connections.call(
            bus,
            message,
            is_idempotent=True,
            timeout_s=CALL_TIMEOUT_S,
            error_codes=SYSTEMD_ERROR_CODES,
        )
        props: dict[str, Variant] = reply.body[0]
        return props

    async def _call(
        self,
        bus: BusKind,
        member: str,
        signature: str = "",
        body: list[object] | None = None,
        *,
        is_idempotent: bool,
        timeout_s: float = CALL_TIMEOUT_S,
    ) -> Message:
        return await self.connections.call(
            bus,
            _manager_message(member, signature, body or []),
            is_idempotent=is_idempotent,
            timeout_s=timeout_s,
            error_codes=SYSTEMD_ERROR_CODES,
        )


def _value_of(props: dict[str, Variant], name: str) -> object:
    variant = props.get(name)
    return variant.value if variant is not None else None


def _manager_message(member: str, signature: str = "", body: list[object] | None = None) -> Message:
    return Message(
        destination=SYSTEMD,
        path=MANAGER_PATH,
        interface=MANAGER_INTERFACE,
        member=member,
        signature=signature,
        body=body or [],
    )
