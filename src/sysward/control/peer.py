"""Who is on the other end of a control connection: SO_PEERCRED, read once per connection.

uvicorn does not put peer credentials into the ASGI scope, so the control
server runs this subclass of its h11 protocol: `connection_made` reads the
kernel's (pid, uid, gid) of the connecting process and every request on that
connection carries them as `scope["sysward.peer"]`.
"""

from __future__ import annotations

import asyncio
import socket
import struct
from collections.abc import MutableMapping
from dataclasses import dataclass
from typing import Any, cast

from uvicorn._types import ASGI3Application, ASGIReceiveCallable, ASGISendCallable, Scope
from uvicorn.protocols.http.h11_impl import H11Protocol

PEER_SCOPE_KEY = "sysward.peer"
_UCRED = struct.Struct("3i")  # struct ucred: pid, uid, gid


@dataclass(frozen=True, slots=True)
class PeerCredentials:
    """The connecting process as the kernel saw it when it connected."""

    pid: int
    uid: int
    gid: int


def read_peer_credentials(sock: socket.socket | Any) -> PeerCredentials | None:
    """SO_PEERCRED of a connected Unix socket; None when the kernel gives none."""
    try:
        raw = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, _UCRED.size)
    except (OSError, AttributeError):
        return None
    pid, uid, gid = _UCRED.unpack(raw)
    if uid < 0 or gid < 0:  # not a Unix socket peer (the kernel reports -1)
        return None
    return PeerCredentials(pid=pid, uid=uid, gid=gid)


def peer_of(scope: MutableMapping[str, Any]) -> PeerCredentials | None:
    """The credentials the protocol attached to a request's scope, if any."""
    peer = scope.get(PEER_SCOPE_KEY)
    return peer if isinstance(peer, PeerCredentials) else None


class PeerH11Protocol(H11Protocol):
    """uvicorn's h11 protocol, with the connection's SO_PEERCRED in every request scope."""

    def connection_made(  # type: ignore[override]
        self, transport: asyncio.Transport
    ) -> None:
        super().connection_made(transport)
        peer = read_peer_credentials(transport.get_extra_info("socket"))
        self.app = _with_peer(self.app, peer)


def _with_peer(app: ASGI3Application, peer: PeerCredentials | None) -> ASGI3Application:
    async def with_peer(scope: Scope, receive: ASGIReceiveCallable, send: ASGISendCallable) -> None:
        cast(dict[str, Any], scope)[PEER_SCOPE_KEY] = peer
        await app(scope, receive, send)

    return with_peer
