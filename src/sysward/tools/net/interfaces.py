"""``net.interfaces``: links, addresses and traffic counters (psutil; blocking, run in a thread)."""

from __future__ import annotations

import socket
from typing import TYPE_CHECKING

import psutil
from pydantic import JsonValue

from sysward.tools.net.models import (
    Interface,
    InterfaceAddress,
    InterfaceCounters,
    InterfaceList,
    InterfacesArgs,
)
from sysward.tools.tool import ToolFailed

if TYPE_CHECKING:  # psutil's record types moved between modules across versions
    from psutil._ntuples import snetio, snicaddr, snicstats

MAX_NAMES_IN_ERROR = 50


def read_interfaces(args: InterfacesArgs) -> InterfaceList:
    """Every interface (or the one named), sorted by name."""
    addresses = psutil.net_if_addrs()
    stats = psutil.net_if_stats()
    counters = psutil.net_io_counters(pernic=True)
    names = sorted(set(addresses) | set(stats))
    if args.name is not None:
        if args.name not in names:
            raise ToolFailed(
                "not_found",
                f"there is no interface {args.name!r}; interfaces: {', '.join(names[:20])}",
                {"name": args.name, "choices": list[JsonValue](names[:MAX_NAMES_IN_ERROR])},
            )
        names = [args.name]
    interfaces = [
        _interface(name, addresses.get(name, []), stats.get(name), counters.get(name))
        for name in names[: args.limit]
    ]
    return InterfaceList(
        interfaces=interfaces, total=len(names), truncated=len(interfaces) < len(names)
    )


def _interface(
    name: str,
    addresses: list[snicaddr],
    stats: snicstats | None,
    counters: snetio | None,
) -> Interface:
    return Interface(
        name=name,
        is_up=bool(stats and stats.isup),
        mtu=stats.mtu if stats else None,
        speed_mbps=stats.speed if stats and stats.speed > 0 else None,
        mac=next((a.address for a in addresses if a.family == psutil.AF_LINK), None),
        addresses=[_address(a) for a in addresses if a.family in _FAMILY_NAMES],
        counters=_counters(counters) if counters else None,
    )


_FAMILY_NAMES = {socket.AF_INET: "ipv4", socket.AF_INET6: "ipv6"}


def _address(address: snicaddr) -> InterfaceAddress:
    return InterfaceAddress(
        family="ipv6" if address.family == socket.AF_INET6 else "ipv4",
        address=address.address,
        netmask=address.netmask,
        broadcast=address.broadcast,
    )


def _counters(counters: snetio) -> InterfaceCounters:
    return InterfaceCounters(
        bytes_sent=counters.bytes_sent,
        bytes_recv=counters.bytes_recv,
        packets_sent=counters.packets_sent,
        packets_recv=counters.packets_recv,
        errors_in=counters.errin,
        errors_out=counters.errout,
        drops_in=counters.dropin,
        drops_out=counters.dropout,
    )
