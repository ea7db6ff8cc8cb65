"""``net.port_check``: can a TCP connection be opened? Connect, measure, close at once."""

from __future__ import annotations

import asyncio
import errno
import os
import time
from contextlib import suppress

from sysward.tools.net.models import PortCheck, PortCheckArgs, PortError
from sysward.tools.net.resolver import lookup
from sysward.tools.tool import ToolFailed

CLOSE_TIMEOUT_S = 1.0
MAX_MESSAGE_CHARS = 200

_UNREACHABLE = {errno.ENETUNREACH, errno.EHOSTUNREACH, errno.EHOSTDOWN, errno.EADDRNOTAVAIL}


def port_error(exc: BaseException) -> PortError:
    """The kind of failure a connect attempt ended with."""
    if isinstance(exc, TimeoutError):
        return "timeout"
    if isinstance(exc, ConnectionRefusedError):
        return "refused"
    if isinstance(exc, ConnectionResetError):
        return "reset"
    if isinstance(exc, OSError) and exc.errno in _UNREACHABLE:
        return "unreachable"
    return "other"


async def check_port(args: PortCheckArgs) -> PortCheck:
    """Try each address of ``args.host`` in turn until one accepts, all within ``timeout_s``."""
    deadline = asyncio.get_running_loop().time() + args.timeout_s
    addresses, _ = await lookup(args.host, "any", args.timeout_s)
    if not addresses:  # getaddrinfo never succeeds empty; refuse to call that "open"
        raise ToolFailed("not_found", f"{args.host} resolves to no address", {"host": args.host})
    started = time.perf_counter()
    address: str | None = None
    failure: OSError | None = None
    try:
        async with asyncio.timeout_at(deadline):
            for resolved in addresses:
                address = resolved.address
                failure = await _try_connect(address, args.port)
                if failure is None:
                    break
    except TimeoutError as exc:
        failure = exc
    latency_ms = round((time.perf_counter() - started) * 1000, 3)
    return PortCheck(
        host=args.host,
        port=args.port,
        address=address,
        is_open=failure is None,
        latency_ms=latency_ms,
        error=None if failure is None else port_error(failure),
        error_message=None if failure is None else _message(failure, args.timeout_s),
    )


async def _try_connect(address: str, port: int) -> OSError | None:
    try:
        _, writer = await asyncio.open_connection(address, port)
    except OSError as exc:
        return exc
    writer.close()
    with suppress(OSError, TimeoutError):
        async with asyncio.timeout(CLOSE_TIMEOUT_S):
            await writer.wait_closed()
    return None


def _message(exc: BaseException, timeout_s: float) -> str:
    if isinstance(exc, TimeoutError):
        return f"no answer within {timeout_s:g} s (a firewall may be dropping packets)"
    # asyncio's connect errors carry "Connect call failed (addr)" as strerror; the errno says more.
    if isinstance(exc, OSError) and exc.errno:
        return os.strerror(exc.errno)
    return str(exc)[:MAX_MESSAGE_CHARS]
