"""The net tool: interfaces, ping, name resolution, sockets and TCP port checks."""

from __future__ import annotations

import asyncio

from sysward.tools.net.connections import read_connections
from sysward.tools.net.interfaces import read_interfaces
from sysward.tools.net.models import (
    ConnectionList,
    ConnectionsArgs,
    InterfaceList,
    InterfacesArgs,
    PingArgs,
    PingResult,
    PortCheck,
    PortCheckArgs,
    Resolution,
    ResolveArgs,
)
from sysward.tools.net.ping import PING_COMMAND, ping
from sysward.tools.net.ports import check_port
from sysward.tools.net.resolver import resolve
from sysward.tools.tool import Effect, Tool, action


class NetTool(Tool):
    """Inspect the host's network: interfaces, sockets, name resolution, reachability.

    Read-only: nothing here changes the network configuration.
    """

    name = "net"

    @action(effect=Effect.READ)
    async def interfaces(self, args: InterfacesArgs) -> InterfaceList:
        """Network interfaces: up/down, MTU, speed, MAC, IPv4/IPv6 addresses, traffic counters."""
        return await asyncio.to_thread(read_interfaces, args)

    @action(effect=Effect.READ, requires=(PING_COMMAND,))
    async def ping(self, args: PingArgs) -> PingResult:
        """Send ICMP echo requests with the system ping; packet loss and round-trip times.

        No reply is a result (is_reachable: false), not an error.
        """
        return await ping(args)

    @action(effect=Effect.READ)
    async def resolve(self, args: ResolveArgs) -> Resolution:
        """Look a host name up with the system resolver (/etc/hosts, DNS), or an IP address's
        name (reverse lookup)."""
        return await resolve(args)

    @action(effect=Effect.READ)
    async def connections(self, args: ConnectionsArgs) -> ConnectionList:
        """TCP/UDP sockets with local and remote address, state and owning process; filter
        by state (LISTEN, ESTABLISHED...), port or pid."""
        return await asyncio.to_thread(read_connections, args)

    @action(effect=Effect.READ)
    async def port_check(self, args: PortCheckArgs) -> PortCheck:
        """Whether a TCP connection to host:port can be opened (open / refused / timeout),
        and how long it took. The connection is closed at once; nothing is sent."""
        return await check_port(args)
