"""``net.connections``: the host's TCP and UDP sockets and who owns them (blocking; a thread)."""

from __future__ import annotations

import socket
from typing import TYPE_CHECKING

import psutil

from sysward.tools.net.models import Connection, ConnectionList, ConnectionsArgs
from sysward.tools.tool import ToolFailed

if TYPE_CHECKING:  # psutil's record types moved between modules across versions
    from psutil._ntuples import sconn

# The registry refuses results over 64 KiB of JSON; stop adding sockets well before.
MAX_OUTPUT_BYTES = 48 * 1024

_PSUTIL_KIND = {"tcp": "tcp", "udp": "udp", "all": "inet"}


def read_connections(args: ConnectionsArgs) -> ConnectionList:
    """The sockets matching ``args``, sorted, capped, with their processes' names."""
    try:
        sockets = psutil.net_connections(_PSUTIL_KIND[args.kind])
    except psutil.AccessDenied as exc:
        raise ToolFailed(
            "permission_denied", "listing sockets needs root; the daemon is not running as root"
        ) from exc
    matched = sorted(
        (_connection(entry) for entry in sockets if _matches(entry, args)), key=_sort_key
    )
    returned = _within_budget(_named(matched[: args.limit]))
    return ConnectionList(
        connections=returned, total=len(matched), truncated=len(returned) < len(matched)
    )


def _matches(entry: sconn, args: ConnectionsArgs) -> bool:
    if args.state is not None and entry.status != args.state:
        return False
    if args.pid is not None and entry.pid != args.pid:
        return False
    ports = {entry.laddr.port if entry.laddr else None, entry.raddr.port if entry.raddr else None}
    return args.port is None or args.port in ports


def _connection(entry: sconn) -> Connection:
    return Connection(
        protocol="tcp" if entry.type == socket.SOCK_STREAM else "udp",
        family="ipv6" if entry.family == socket.AF_INET6 else "ipv4",
        local_address=entry.laddr.ip if entry.laddr else "",
        local_port=entry.laddr.port if entry.laddr else 0,
        remote_address=entry.raddr.ip if entry.raddr else None,
        remote_port=entry.raddr.port if entry.raddr else None,
        status=entry.status,
        pid=entry.pid,
        process_name=None,
    )


def _sort_key(connection: Connection) -> tuple[str, int, str, str, int]:
    return (
        connection.protocol,
        connection.local_port,
        connection.local_address,
        connection.remote_address or "",
        connection.remote_port or 0,
    )


def _named(connections: list[Connection]) -> list[Connection]:
    names: dict[int, str | None] = {}
    for pid in {c.pid for c in connections if c.pid is not None}:
        try:
            names[pid] = psutil.Process(pid).name()
        except psutil.Error:
            names[pid] = None  # exited or hidden since the sockets were read
    return [
        c.model_copy(update={"process_name": names[c.pid]}) if c.pid is not None else c
        for c in connections
    ]


def _within_budget(connections: list[Connection]) -> list[Connection]:
    kept, size = [], 0
    for connection in connections:
        size += len(connection.model_dump_json()) + 1
        if size > MAX_OUTPUT_BYTES:
            break
        kept.append(connection)
    return kept
