"""The ``unit`` trigger source: a systemd unit entering one of the configured ActiveStates.

It watches the manager's ``PropertiesChanged`` signals on a connection of its own
(subscribed, or systemd sends none), then scans ``ListUnits`` once, so a unit that
entered a state while the daemon was down fires on start. Both paths give one key
per unit, invocation and state; the service's ledger fires a key once, across restarts.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from fnmatch import fnmatchcase

from dbus_fast import Message, MessageType, Variant
from dbus_fast.aio import MessageBus

from sysward.config import UnitTrigger
from sysward.tools.dbus.connection import BusAddresses, BusConnections, call
from sysward.tools.systemd.jobs import MANAGER_INTERFACE, MANAGER_PATH
from sysward.tools.systemd.manager import SYSTEMD, SYSTEMD_ERROR_CODES, UNIT_INTERFACE
from sysward.tools.tool import ToolFailed
from sysward.triggers.source import Emit, SourceEvent, SourceUnavailable, clip

_log = logging.getLogger(__name__)

CALL_TIMEOUT_S = 10.0
UNIT_PATH_NAMESPACE = "/org/freedesktop/systemd1/unit"
PROPERTIES_INTERFACE = "org.freedesktop.DBus.Properties"
UNIT_CHANGED_RULE = (
    "type='signal',sender='org.freedesktop.systemd1',"
    f"interface='{PROPERTIES_INTERFACE}',member='PropertiesChanged',"
    f"path_namespace='{UNIT_PATH_NAMESPACE}',arg0='{UNIT_INTERFACE}'"
)
# The unit types whose own interface has a `Result` (targets, slices, devices have none).
_TYPES_WITH_RESULT = {"service", "socket", "mount", "swap", "timer", "path", "automount", "scope"}


class UnitSource:
    """Fires when a unit whose name matches the trigger's glob enters one of its states."""

    def __init__(self, settings: UnitTrigger, addresses: BusAddresses) -> None:
        self.settings = settings
        self.addresses = addresses

    async def run(self, emit: Emit) -> None:
        """Watch until cancelled; SourceUnavailable when the bus is unreachable or drops."""
        connections = BusConnections(self.addresses)
        try:
            connection = await self._connect(connections)
            await _UnitWatch(self.settings, connection, emit).run()
        finally:
            await connections.aclose()

    async def _connect(self, connections: BusConnections) -> MessageBus:
        bus = self.settings.bus
        if self.addresses.address(bus) is None:
            raise SourceUnavailable(
                f"unit trigger: no address for the {bus} bus; set DBUS_SESSION_BUS_ADDRESS "
                "or XDG_RUNTIME_DIR in the daemon's environment, or watch the system bus "
                '(bus = "system")'
            )
        try:
            return await connections.connection(bus)
        except ToolFailed as failure:
            raise SourceUnavailable(f"unit trigger: {failure.message}") from failure


class _UnitWatch:
    """One connection's watch: its queued signals, Ids by object path, last key per unit.

    Signals are queued by the message handler and handled one at a time on the
    task, so events keep the order systemd sent them in, and the signals that
    arrive during the startup scan wait for it instead of being lost.
    """

    def __init__(self, settings: UnitTrigger, connection: MessageBus, emit: Emit) -> None:
        self.settings = settings
        self.connection = connection
        self.emit = emit
        self._signals: asyncio.Queue[Message | None] = asyncio.Queue()
        self._ids: dict[str, str] = {}
        # systemd repeats a unit's properties on every change (a job removed, a
        # timestamp), so one state of one invocation arrives in several signals.
        self._last_keys: dict[str, str] = {}

    async def run(self) -> None:
        self.connection.add_message_handler(self._on_message)
        disconnected: asyncio.Task[None] = asyncio.create_task(
            self.connection.wait_for_disconnect()  # type: ignore[no-untyped-call]
        )
        disconnected.add_done_callback(lambda _: self._signals.put_nowait(None))
        try:
            await self._subscribe()
            await self._scan()
            while (message := await self._signals.get()) is not None:
                await self._handle(message)
            raise SourceUnavailable(
                f"unit trigger: the connection to the {self.settings.bus} bus dropped "
                f"({_ending(disconnected)}); is the manager still running?"
            )
        finally:
            await _settle(disconnected)

    def _on_message(self, message: Message) -> None:
        if _is_unit_change(message):
            self._signals.put_nowait(message)

    async def _subscribe(self) -> None:
        """Match the unit signals, then subscribe: systemd only sends them to subscribers."""
        add_match = Message(
            destination="org.freedesktop.DBus",
            path="/org/freedesktop/DBus",
            interface="org.freedesktop.DBus",
            member="AddMatch",
            signature="s",
            body=[UNIT_CHANGED_RULE],
        )
        try:
            await self._call(add_match)
            try:
                await self._call(_manager_message("Subscribe"))
            except ToolFailed as failure:
                if failure.details.get("dbus_error") != f"{SYSTEMD}.AlreadySubscribed":
                    raise
        except ToolFailed as failure:
            raise SourceUnavailable(
                f"unit trigger: cannot subscribe to the {self.settings.bus} manager's "
                f"unit changes: {failure.message}"
            ) from failure

    async def _scan(self) -> None:
        """Fire for the units already in a state; runs after subscribing, so none slip by."""
        try:
            reply = await self._call(_manager_message("ListUnits"))
        except ToolFailed as failure:
            raise SourceUnavailable(
                f"unit trigger: cannot list the units of the {self.settings.bus} manager: "
                f"{failure.message}"
            ) from failure
        for row in reply.body[0]:
            name, active_state, path = str(row[0]), str(row[3]), str(row[6])
            if active_state not in self.settings.states or not fnmatchcase(
                name, self.settings.unit
            ):
                continue
            self._ids[path] = name
            try:
                await self._fire(path, name, {})
            except ToolFailed as failure:
                _log.warning("unit trigger: skipped %s in the startup scan: %s", name, failure)

    async def _handle(self, message: Message) -> None:
        """Fire for one PropertiesChanged of a unit; a failing lookup skips only this one."""
        path = str(message.path)
        changed: dict[str, Variant] = message.body[1]
        if _text(changed, "ActiveState") not in self.settings.states:
            return
        try:
            unit = await self._unit_id(path, changed)
            if fnmatchcase(unit, self.settings.unit):
                await self._fire(path, unit, changed)
        except ToolFailed as failure:
            _log.warning("unit trigger: skipped a change of %s: %s", path, failure)

    async def _fire(self, path: str, unit: str, changed: Mapping[str, Variant]) -> None:
        """Emit the event for the unit's current state, unless that key was just emitted."""
        props = await self._complete(path, changed)
        state = _text(props, "ActiveState")
        if state not in self.settings.states:
            return
        invocation_id = _invocation_id(props)
        # A unit that never ran (a failed condition) has no invocation id.
        identity = invocation_id or _text(props, "StateChangeTimestamp")
        key = f"{unit}/{identity}/{state}"
        if self._last_keys.get(unit) == key:
            return
        self._last_keys[unit] = key
        fields = {
            "unit": unit,
            "state": state,
            "sub_state": _text(props, "SubState"),
            "result": await self._result(path, unit),
            "invocation_id": invocation_id,
            "bus": self.settings.bus,
        }
        self.emit(SourceEvent(key=key, fields={name: clip(v) for name, v in fields.items()}))

    async def _complete(self, path: str, changed: Mapping[str, Variant]) -> dict[str, Variant]:
        """The changed properties, plus the unit's current ones for any the signal lacks."""
        needed = ("ActiveState", "SubState", "InvocationID", "StateChangeTimestamp")
        if all(name in changed for name in needed):
            return dict(changed)
        reply = await self._call(_properties_message(path, "GetAll", "s", [UNIT_INTERFACE]))
        current: dict[str, Variant] = reply.body[0]
        return {**current, **changed}

    async def _unit_id(self, path: str, changed: Mapping[str, Variant]) -> str:
        if "Id" in changed:
            self._ids[path] = _text(changed, "Id")
        if path not in self._ids:
            reply = await self._call(_properties_message(path, "Get", "ss", [UNIT_INTERFACE, "Id"]))
            self._ids[path] = _text({"Id": reply.body[0]}, "Id")
        return self._ids[path]

    async def _result(self, path: str, unit: str) -> str:
        """The unit type's ``Result`` (``exit-code``, ``timeout``...); "" where unknown."""
        kind = unit.rsplit(".", 1)[-1]
        if kind not in _TYPES_WITH_RESULT:
            return ""
        interface = f"{SYSTEMD}.{kind.capitalize()}"
        try:
            reply = await self._call(_properties_message(path, "Get", "ss", [interface, "Result"]))
        except ToolFailed as failure:
            _log.info("unit trigger: no Result for %s: %s", unit, failure)
            return ""
        return _text({"Result": reply.body[0]}, "Result")

    async def _call(self, message: Message) -> Message:
        return await call(
            self.connection,
            message,
            timeout_s=CALL_TIMEOUT_S,
            error_codes=SYSTEMD_ERROR_CODES,
        )


def _is_unit_change(message: Message) -> bool:
    """Whether the message is a well-formed PropertiesChanged of a unit's Unit interface."""
    return (
        message.message_type is MessageType.SIGNAL
        and message.interface == PROPERTIES_INTERFACE
        and message.member == "PropertiesChanged"
        and message.signature == "sa{sv}as"
        and str(message.path).startswith(UNIT_PATH_NAMESPACE + "/")
        and message.body[0] == UNIT_INTERFACE
    )


def _text(props: Mapping[str, Variant], name: str) -> str:
    """A property as text; "" when absent. Numbers (timestamps in µs) become decimals."""
    variant = props.get(name)
    if not isinstance(variant, Variant):
        return ""
    value = variant.value
    return value if isinstance(value, str) else str(value) if isinstance(value, int) else ""


def _invocation_id(props: Mapping[str, Variant]) -> str:
    """``InvocationID`` (D-Bus ``ay``) as lowercase hex, the way journald shows it."""
    variant = props.get("InvocationID")
    value = variant.value if isinstance(variant, Variant) else b""
    return bytes(value).hex() if isinstance(value, bytes | bytearray | list) else ""


def _manager_message(member: str) -> Message:
    return Message(
        destination=SYSTEMD,
        path=MANAGER_PATH,
        interface=MANAGER_INTERFACE,
        member=member,
    )


def _properties_message(path: str, member: str, signature: str, body: list[object]) -> Message:
    return Message(
        destination=SYSTEMD,
        path=path,
        interface=PROPERTIES_INTERFACE,
        member=member,
        signature=signature,
        body=body,
    )


def _ending(disconnected: asyncio.Task[None]) -> str:
    """How the connection ended, for the operator: the error dbus-fast saw, if any."""
    error = None if disconnected.cancelled() else disconnected.exception()
    return f"{type(error).__name__}: {error}" if error is not None else "closed by the peer"


async def _settle(task: asyncio.Task[None]) -> None:
    """Stop the disconnect watcher and read its outcome, so asyncio logs no stray error."""
    if not task.done():
        task.cancel()
        await asyncio.wait([task])
    if not task.cancelled():
        task.exception()
