"""Connections to the system and user D-Bus buses, shared by the dbus and systemd tools.

``BusAddresses`` says where each bus is; ``BusConnections`` opens a dbus-fast
connection to a bus the first time an action needs it, reuses it, opens a new
one when the old one dropped, and closes them all in ``aclose``. ``call`` sends
one method call with a deadline and turns an error reply into ``ToolFailed``;
an unreachable bus is ``unavailable`` with the address and what to check.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from dbus_fast import AuthError, InvalidAddressError, Message, MessageType
from dbus_fast.aio import MessageBus

from sysward.tools.dbus.failures import DBUS_ERROR_CODES, failure_from_reply
from sysward.tools.tool import ToolFailed

BusKind = Literal["system", "user"]

SYSTEM_BUS_ADDRESS = "unix:path=/run/dbus/system_bus_socket"
DEFAULT_CONNECT_TIMEOUT_S = 5.0

_HINTS: dict[BusKind, str] = {
    "system": "is this host running systemd?",
    "user": "is a user manager (systemd --user) or session bus running? "
    "Set DBUS_SESSION_BUS_ADDRESS or XDG_RUNTIME_DIR for the daemon",
}


@dataclass(frozen=True)
class BusAddresses:
    """D-Bus addresses of the system bus and of the daemon user's session (user) bus."""

    system: str = SYSTEM_BUS_ADDRESS
    user: str | None = None

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> BusAddresses:
        """The addresses libdbus would use: ``DBUS_*_BUS_ADDRESS``, then the standard paths."""
        env = os.environ if environ is None else environ
        user = env.get("DBUS_SESSION_BUS_ADDRESS") or None
        if user is None and env.get("XDG_RUNTIME_DIR"):
            user = f"unix:path={env['XDG_RUNTIME_DIR']}/bus"
        return cls(system=env.get("DBUS_SYSTEM_BUS_ADDRESS") or SYSTEM_BUS_ADDRESS, user=user)

    def address(self, bus: BusKind) -> str | None:
        """The address of ``bus``; None when no user bus is known."""
        return self.system if bus == "system" else self.user


class _MessageBus(MessageBus):
    """dbus-fast's connection, with no send future left holding an unretrieved error.

    dbus-fast drops the future of every message it sends for a call. When the
    socket dies, those futures hold the error the call itself also receives,
    and asyncio logs "Future exception was never retrieved" whenever the
    garbage collector gets to them (inside unrelated code, at any time).
    """

    __slots__ = ()

    # dbus-fast's asyncio bus itself overrides the base's `send` to return a Future.
    def send(self, msg: Message) -> asyncio.Future[None]:  # type: ignore[override]
        future: asyncio.Future[None] = super().send(msg)
        future.add_done_callback(_retrieve_error)
        return future


def _retrieve_error(future: asyncio.Future[None]) -> None:
    if not future.cancelled():
        future.exception()


class BusDropped(ToolFailed):
    """The connection closed under a call: the call may or may not have reached the peer."""


class BusConnections:
    """One lazily opened, reused connection per bus; owned by one tool, closed by it.

    A cached connection whose peer has closed it is replaced before use, even
    when the event loop has not read the end of the stream yet (the bus daemon
    restarted). If a connection drops during a call anyway, an idempotent call
    is retried once on a new connection; any other fails with ``BusDropped``.
    """

    def __init__(
        self, addresses: BusAddresses, *, connect_timeout_s: float = DEFAULT_CONNECT_TIMEOUT_S
    ) -> None:
        self.addresses = addresses
        self.connect_timeout_s = connect_timeout_s
        self._buses: dict[BusKind, MessageBus] = {}
        # Two actions needing the same bus at once must not open two connections.
        self._locks: dict[BusKind, asyncio.Lock] = {
            "system": asyncio.Lock(),
            "user": asyncio.Lock(),
        }

    async def connection(self, bus: BusKind) -> MessageBus:
        """The open connection to ``bus``; connects when there is none or it was closed."""
        async with self._locks[bus]:
            current = self._buses.pop(bus, None)
            if current is not None and current.connected and not _is_closed_by_peer(current):
                self._buses[bus] = current
                return current
            if current is not None:
                await _discard(current)
            self._buses[bus] = await self._connect(bus)
            return self._buses[bus]

    async def call(
        self,
        bus: BusKind,
        message: Message,
        *,
        is_idempotent: bool,
        timeout_s: float,
        error_codes: Mapping[str, str] = DBUS_ERROR_CODES,
    ) -> Message:
        """Send a method call on ``bus`` and return its reply (see module ``call``)."""
        connection = await self.connection(bus)
        try:
            return await call(connection, message, timeout_s=timeout_s, error_codes=error_codes)
        except BusDropped:
            if not is_idempotent:
                raise
        connection = await self.connection(bus)
        return await call(connection, message, timeout_s=timeout_s, error_codes=error_codes)

    async def aclose(self) -> None:
        """Close every open connection."""
        buses, self._buses = list(self._buses.values()), {}
        for bus in buses:
            await _discard(bus)

    async def _connect(self, bus: BusKind) -> MessageBus:
        address = self.addresses.address(bus)
        if address is None:
            raise ToolFailed(
                "unavailable",
                f"no address for the user bus; {_HINTS['user']}",
                {"bus": bus},
            )
        deadline = asyncio.timeout(self.connect_timeout_s)
        try:
            async with deadline:
                return await _MessageBus(bus_address=address).connect()
        except TimeoutError as exc:
            if not deadline.expired():
                raise
            raise _unreachable(
                bus, address, f"no answer within {self.connect_timeout_s} s"
            ) from exc
        except AuthError as exc:
            raise ToolFailed(
                "permission_denied",
                f"the D-Bus daemon on the {bus} bus at {address} refused this connection: {exc}",
                {"bus": bus, "address": address},
            ) from exc
        except (OSError, EOFError, InvalidAddressError) as exc:
            raise _unreachable(bus, address, f"{type(exc).__name__}: {exc}") from exc


async def call(
    connection: MessageBus,
    message: Message,
    *,
    timeout_s: float,
    error_codes: Mapping[str, str] = DBUS_ERROR_CODES,
) -> Message:
    """Send a method call and return its reply; an error reply raises ``ToolFailed``.

    A connection that drops while the call is in flight raises ``BusDropped``
    (code ``unavailable``): the peer may have acted on the call already.
    """
    what = f"{message.interface}.{message.member} on {message.destination} at {message.path}"
    deadline = asyncio.timeout(timeout_s)
    try:
        async with deadline:
            reply: Message | None = await connection.call(message)
    except TimeoutError as exc:
        if not deadline.expired():
            raise
        raise ToolFailed(
            "timeout",
            f"no reply to {what} within {timeout_s} s; whether it took effect is unknown",
            {"timeout_s": timeout_s},
        ) from exc
    except (OSError, EOFError) as exc:
        reply, reason = None, f"{type(exc).__name__}: {exc}"
    else:
        reason = "connection closed"
    if reply is None:
        raise BusDropped(
            "unavailable",
            f"the bus connection dropped during {what} ({reason}); whether it took effect "
            "is unknown, check before retrying",
        )
    if reply.message_type is MessageType.ERROR:
        raise failure_from_reply(reply, what, error_codes)
    return reply


def _is_closed_by_peer(connection: MessageBus) -> bool:
    """Whether the other end closed the socket, though the loop may not have read the EOF.

    Writing on such a socket fails inside dbus-fast in a way that leaves futures
    holding unretrieved errors; a non-consuming peek finds out first. dbus-fast
    offers no public accessor for its socket.
    """
    sock: socket.socket | None = connection._sock
    if sock is None:
        return True
    try:
        return sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) == b""
    except BlockingIOError:
        return False  # open, nothing to read
    except OSError:
        return True


def _unreachable(bus: BusKind, address: str, reason: str) -> ToolFailed:
    return ToolFailed(
        "unavailable",
        f"no systemd/D-Bus reachable on the {bus} bus at {address} ({reason}); {_HINTS[bus]}",
        {"bus": bus, "address": address, "reason": reason},
    )


async def _discard(bus: MessageBus) -> None:
    """Close a connection and collect how it ended, so nothing is left unretrieved."""
    bus.disconnect()
    # The disconnect future holds the error a dropped connection ended with; awaiting
    # it marks it retrieved. A clean disconnect resolves within the event loop's next turns.
    with contextlib.suppress(Exception):
        async with asyncio.timeout(1.0):
            await bus.wait_for_disconnect()  # type: ignore[no-untyped-call]
