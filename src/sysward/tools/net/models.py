"""Arguments and results of the net tool's actions, with their bounds."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from sysward.tools.net.host import Family, Host, ip_version
from sysward.tools.tool import ToolArgs

MAX_INTERFACES = 500
MAX_CONNECTIONS = 1000

_FAMILY = "Address family: any, ipv4 (A records / IPv4 only) or ipv6 (AAAA / IPv6 only)"

AddressFamily = Literal["ipv4", "ipv6"]
ConnectionKind = Literal["tcp", "udp", "all"]
TcpState = Literal[
    "ESTABLISHED",
    "SYN_SENT",
    "SYN_RECV",
    "FIN_WAIT1",
    "FIN_WAIT2",
    "TIME_WAIT",
    "CLOSE",
    "CLOSE_WAIT",
    "LAST_ACK",
    "LISTEN",
    "CLOSING",
    "NONE",
]
PortError = Literal["refused", "timeout", "unreachable", "reset", "other"]


class InterfacesArgs(ToolArgs):
    """Which network interfaces to describe."""

    name: str | None = Field(
        None,
        min_length=1,
        max_length=15,
        pattern=r"^[A-Za-z0-9_.:@][A-Za-z0-9_.:@-]*$",
        description="Only this interface (e.g. eth0); default: all of them",
    )
    limit: int = Field(100, ge=1, le=MAX_INTERFACES, description="Most interfaces to return")


class InterfaceAddress(BaseModel):
    """One address of an interface."""

    model_config = ConfigDict(frozen=True)

    family: AddressFamily
    address: str
    netmask: str | None
    broadcast: str | None


class InterfaceCounters(BaseModel):
    """Traffic since the interface appeared."""

    model_config = ConfigDict(frozen=True)

    bytes_sent: int
    bytes_recv: int
    packets_sent: int
    packets_recv: int
    errors_in: int
    errors_out: int
    drops_in: int
    drops_out: int


class Interface(BaseModel):
    """A network interface: state, link settings, addresses and counters."""

    model_config = ConfigDict(frozen=True)

    name: str
    is_up: bool
    mtu: int | None
    speed_mbps: int | None = Field(description="Link speed; null when the driver does not say")
    mac: str | None
    addresses: list[InterfaceAddress]
    counters: InterfaceCounters | None


class InterfaceList(BaseModel):
    """The host's interfaces, by name."""

    model_config = ConfigDict(frozen=True)

    interfaces: list[Interface]
    total: int
    truncated: bool


class PingArgs(ToolArgs):
    """Where to send ICMP echo requests, and how many."""

    host: Host = Field(description="IP address or host name to ping (no options, no spaces)")
    count: int = Field(3, ge=1, le=10, description="Echo requests to send")
    timeout_s: float = Field(
        2.0, ge=0.1, le=10, description="Seconds to wait for a reply after the last request"
    )
    interval_s: float = Field(1.0, ge=0.2, le=5, description="Seconds between requests")
    family: Family = Field("any", description=_FAMILY)

    @model_validator(mode="after")
    def _family_fits_the_address(self) -> PingArgs:
        version = ip_version(self.host.partition("%")[0])
        if version is not None and self.family not in ("any", f"ipv{version}"):
            raise ValueError(f"{self.host} is an IPv{version} address but family is {self.family}")
        return self


class PingResult(BaseModel):
    """How many echo requests were answered, and how fast."""

    model_config = ConfigDict(frozen=True)

    host: str
    address: str | None = Field(description="The address pinged (the name resolved to)")
    is_reachable: bool = Field(description="True when at least one reply came back")
    transmitted: int
    received: int
    loss_percent: float
    duplicates: int
    errors: int = Field(description="ICMP errors received, e.g. destination unreachable")
    rtt_min_ms: float | None
    rtt_avg_ms: float | None
    rtt_max_ms: float | None
    rtt_mdev_ms: float | None


class ResolveArgs(ToolArgs):
    """A name to look up (or an IP address to look up the name of)."""

    name: Host = Field(
        description="Host name to resolve to addresses, or an IP address to find its name"
    )
    family: Family = Field("any", description=_FAMILY)
    timeout_s: float = Field(5.0, gt=0, le=30, description="Seconds to wait for the resolver")


class ResolvedAddress(BaseModel):
    """One address a name resolves to."""

    model_config = ConfigDict(frozen=True)

    family: AddressFamily
    address: str


class Resolution(BaseModel):
    """What the system resolver (/etc/hosts, DNS, ...) answered."""

    model_config = ConfigDict(frozen=True)

    name: str
    kind: Literal["forward", "reverse"]
    canonical_name: str | None = Field(description="Forward: the canonical name, if different")
    hostname: str | None = Field(description="Reverse: the name of the address")
    addresses: list[ResolvedAddress]


class ConnectionsArgs(ToolArgs):
    """Which sockets to list."""

    kind: ConnectionKind = Field("all", description="tcp, udp or all (TCP and UDP, IPv4 and 6)")
    state: TcpState | None = Field(
        None, description="Only sockets in this TCP state, e.g. LISTEN or ESTABLISHED (UDP: NONE)"
    )
    port: int | None = Field(
        None, ge=1, le=65535, description="Only sockets with this local or remote port"
    )
    pid: int | None = Field(None, ge=1, le=4 * 1024 * 1024, description="Only this process's")
    limit: int = Field(100, ge=1, le=MAX_CONNECTIONS, description="Most sockets to return")


class Connection(BaseModel):
    """One socket: its addresses, state and owning process."""

    model_config = ConfigDict(frozen=True)

    protocol: Literal["tcp", "udp"]
    family: AddressFamily
    local_address: str
    local_port: int
    remote_address: str | None
    remote_port: int | None
    status: str
    pid: int | None = Field(description="Owning process; null if it could not be seen")
    process_name: str | None


class ConnectionList(BaseModel):
    """The sockets that matched, sorted by protocol, local port and address."""

    model_config = ConfigDict(frozen=True)

    connections: list[Connection]
    total: int
    truncated: bool


class PortCheckArgs(ToolArgs):
    """The TCP endpoint to try to connect to."""

    host: Host = Field(description="IP address or host name")
    port: int = Field(ge=1, le=65535, description="TCP port")
    timeout_s: float = Field(3.0, gt=0, le=30, description="Seconds to wait for the connection")


class PortCheck(BaseModel):
    """Whether a TCP connection could be opened; the connection is closed at once."""

    model_config = ConfigDict(frozen=True)

    host: str
    port: int
    address: str | None = Field(description="The address tried last (the name resolved to)")
    is_open: bool
    latency_ms: float = Field(description="Time to connect, or to fail")
    error: PortError | None = Field(description="Why it is not open")
    error_message: str | None
