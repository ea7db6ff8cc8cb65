"""``net.resolve``: the system resolver (nsswitch: /etc/hosts, then DNS, ...), off the loop.

``loop.getaddrinfo`` runs glibc's blocking resolver in the default executor.
A lookup that outlives ``timeout_s`` is abandoned, not stopped: its thread
ends when glibc gives up (the ``timeout``/``attempts`` of resolv.conf).
"""

from __future__ import annotations

import asyncio
import socket

from sysward.tools.net.host import Family, ip_version
from sysward.tools.net.models import AddressFamily, Resolution, ResolveArgs, ResolvedAddress
from sysward.tools.tool import ToolFailed

_SOCKET_FAMILY = {"any": socket.AF_UNSPEC, "ipv4": socket.AF_INET, "ipv6": socket.AF_INET6}

# getaddrinfo's answers that mean "this name has no such address": the model should
# check the name. Anything else (EAI_AGAIN, EAI_FAIL) means the resolver is in trouble.
_NO_SUCH_NAME = {socket.EAI_NONAME, socket.EAI_NODATA, socket.EAI_ADDRFAMILY}


async def resolve(args: ResolveArgs) -> Resolution:
    """Forward lookup of a name, or reverse lookup of an IP address."""
    if ip_version(args.name.partition("%")[0]) is not None:
        return await _reverse(args)
    addresses, canonical = await lookup(args.name, args.family, args.timeout_s)
    return Resolution(
        name=args.name,
        kind="forward",
        canonical_name=canonical if canonical and canonical != args.name else None,
        hostname=None,
        addresses=addresses,
    )


async def lookup(
    name: str, family: Family, timeout_s: float
) -> tuple[list[ResolvedAddress], str | None]:
    """The distinct addresses of ``name`` in the resolver's order, and its canonical name."""
    loop = asyncio.get_running_loop()
    try:
        async with asyncio.timeout(timeout_s):
            infos = await loop.getaddrinfo(
                name,
                None,
                family=_SOCKET_FAMILY[family],
                type=socket.SOCK_STREAM,
                flags=socket.AI_CANONNAME,
            )
    except TimeoutError as exc:
        raise _timed_out(name, timeout_s) from exc
    except socket.gaierror as exc:
        raise _lookup_failed(name, exc) from exc
    addresses: dict[str, AddressFamily] = {}
    for info_family, _, _, _, sockaddr in infos:
        addresses.setdefault(str(sockaddr[0]), _family_name(info_family))
    canonical = next((info[3] for info in infos if info[3]), None)
    return [ResolvedAddress(family=f, address=a) for a, f in addresses.items()], canonical


async def _reverse(args: ResolveArgs) -> Resolution:
    loop = asyncio.get_running_loop()
    try:
        async with asyncio.timeout(args.timeout_s):
            hostname, _ = await loop.getnameinfo((args.name, 0), socket.NI_NAMEREQD)
    except TimeoutError as exc:
        raise _timed_out(args.name, args.timeout_s) from exc
    except socket.gaierror as exc:
        raise _lookup_failed(args.name, exc) from exc
    version = ip_version(args.name.partition("%")[0])
    return Resolution(
        name=args.name,
        kind="reverse",
        canonical_name=None,
        hostname=hostname,
        addresses=[ResolvedAddress(family="ipv6" if version == 6 else "ipv4", address=args.name)],
    )


def _family_name(family: int) -> AddressFamily:
    return "ipv6" if family == socket.AF_INET6 else "ipv4"


def _timed_out(name: str, timeout_s: float) -> ToolFailed:
    return ToolFailed(
        "timeout",
        f"the resolver did not answer for {name} within {timeout_s:g} s; "
        "the DNS server may be unreachable",
        {"name": name, "timeout_s": timeout_s},
    )


def _lookup_failed(name: str, error: socket.gaierror) -> ToolFailed:
    details = {"name": name, "resolver_error": error.strerror or str(error)}
    if error.errno in _NO_SUCH_NAME:
        return ToolFailed(
            "not_found",
            f"{name} does not resolve ({error.strerror}); check the spelling or the family",
            details,
        )
    return ToolFailed(
        "unavailable",
        f"the resolver could not look up {name} ({error.strerror}); try again later",
        details,
    )
