"""The net tool, called through the registry as a model would call it; loopback only.

Name resolution beyond /etc/hosts is tested without the network: a child
process runs the tool in a private mount namespace whose /etc/hosts and
/etc/resolv.conf are test files, and the nameserver is a stub on a loopback
address that answers NXDOMAIN or SERVFAIL, or stays silent.
"""

import asyncio
import errno
import json
import os
import shutil
import socket
import struct
import sys
import threading
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import psutil
import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import JsonValue

from sysward.tools import TOOL_RESULT, ToolErr, ToolOk, ToolRegistry
from sysward.tools.net import NetTool
from sysward.tools.net.host import checked_host
from sysward.tools.net.ping import parse_summary
from sysward.tools.net.ports import port_error

WAIT_S = 10.0
STUB_DNS_ADDRESS = "127.53.83.87"  # a loopback address of its own: nothing else listens there
HOSTS = """\
127.0.0.1 localhost
::1 localhost
127.0.0.2 sysward-a.test sysward-alias
fd53::2 sysward-a.test
127.0.0.3 xn--bcher-kva.test
"""
ISOLATED_CHILD = """
import asyncio, json, sys
from sysward.tools import TOOL_RESULT, ToolRegistry
from sysward.tools.net import NetTool

async def main():
    registry = ToolRegistry([NetTool()])
    for action, args in json.loads(sys.argv[1]):
        result = await registry.invoke("net", action, args)
        print(TOOL_RESULT.dump_json(result).decode(), flush=True)

asyncio.run(main())
"""

requires_root = pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("unshare") is None,
    reason="needs root and unshare(1) for a private /etc/resolv.conf",
)


@pytest.fixture
def registry() -> ToolRegistry:
    return ToolRegistry([NetTool()])


async def call(registry: ToolRegistry, action: str, **args: object) -> dict[str, JsonValue]:
    result = await registry.invoke("net", action, args)
    assert isinstance(result, ToolOk), result
    assert isinstance(result.output, dict)
    return result.output


async def fail(registry: ToolRegistry, action: str, **args: object) -> ToolErr:
    result = await registry.invoke("net", action, args)
    assert isinstance(result, ToolErr), result
    return result


def items(output: dict[str, JsonValue], key: str) -> list[dict[str, JsonValue]]:
    values = output[key]
    assert isinstance(values, list)
    return [value for value in values if isinstance(value, dict)]


# --- loopback peers ------------------------------------------------------------------------


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    """A TCP socket listening on 127.0.0.1 (port chosen by the kernel)."""
    server = socket.create_server(("127.0.0.1", 0))
    try:
        yield server
    finally:
        server.close()


@pytest.fixture
def closed_port() -> Iterator[int]:
    """A loopback port that refuses connections: bound (so no one takes it) but not listening."""
    reserved = socket.socket()
    try:
        reserved.bind(("127.0.0.1", 0))
        yield reserved.getsockname()[1]
    finally:
        reserved.close()


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port whose accept queue is full, so the kernel drops new SYNs: connects time out."""
    server = socket.create_server(("127.0.0.1", 0), backlog=0)
    filler = socket.create_connection(server.getsockname(), timeout=WAIT_S)
    try:
        yield server.getsockname()[1]
    finally:
        filler.close()
        server.close()


@pytest.fixture
async def established() -> AsyncIterator[tuple[int, int]]:
    """A loopback TCP connection accepted by a server: (server port, client port)."""
    accepted: asyncio.Queue[asyncio.StreamWriter] = asyncio.Queue()

    async def on_client(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        accepted.put_nowait(writer)  # kept open until teardown: the connection stays up

    server = await asyncio.start_server(on_client, "127.0.0.1", 0)
    _, client = await asyncio.open_connection(*server.sockets[0].getsockname()[:2])
    try:
        async with asyncio.timeout(WAIT_S):
            server_end = await accepted.get()
        try:
            yield server.sockets[0].getsockname()[1], client.get_extra_info("sockname")[1]
        finally:
            server_end.close()
    finally:
        client.close()
        server.close()
        await server.wait_closed()


# --- a private resolver --------------------------------------------------------------------


class StubDns:
    """A UDP nameserver on a loopback address: SERVFAIL for servfail.*, silence for
    silent.*, NXDOMAIN for everything else. Records the names it was asked."""

    def __init__(self) -> None:
        self.queries: list[str] = []
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((STUB_DNS_ADDRESS, 53))
        self.sock.settimeout(0.1)  # how often serve() notices it should stop
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self.serve, daemon=True)

    def serve(self) -> None:
        while not self.stopping.is_set():
            try:
                query, peer = self.sock.recvfrom(512)
            except TimeoutError:
                continue
            reply = self.answer(query)
            if reply is not None:
                self.sock.sendto(reply, peer)

    def answer(self, query: bytes) -> bytes | None:
        query_id, flags = struct.unpack("!HH", query[:4])
        labels, end = [], 12
        while query[end]:
            labels.append(query[end + 1 : end + 1 + query[end]].decode())
            end += 1 + query[end]
        name = ".".join(labels)
        self.queries.append(name)
        if name.startswith("silent."):
            return None
        rcode = 2 if name.startswith("servfail.") else 3
        header = struct.pack("!HHHHHH", query_id, 0x8180 | (flags & 0x0100) | rcode, 1, 0, 0, 0)
        return header + query[12 : end + 5]  # echo the question: name, type, class


@pytest.fixture(scope="module")
def stub_dns() -> Iterator[StubDns]:
    if os.geteuid() != 0:
        pytest.skip("binding port 53 needs root")
    dns = StubDns()
    dns.thread.start()
    try:
        yield dns
    finally:
        dns.stopping.set()
        dns.thread.join(timeout=WAIT_S)
        dns.sock.close()


@pytest.fixture
def isolated_etc(tmp_path: Path) -> Path:
    (tmp_path / "hosts").write_text(HOSTS)
    (tmp_path / "resolv.conf").write_text(
        f"nameserver {STUB_DNS_ADDRESS}\noptions timeout:1 attempts:1\n"
    )
    return tmp_path


async def run_isolated(
    etc: Path, calls: list[tuple[str, dict[str, object]]]
) -> list[ToolOk | ToolErr]:
    """Results of ``calls`` made by a NetTool in a mount namespace with our hosts/resolv.conf."""
    script = (
        f"mount --bind {etc / 'hosts'} /etc/hosts && "
        f"mount --bind {etc / 'resolv.conf'} /etc/resolv.conf && "
        'exec "$0" -c "$1" "$2"'
    )
    process = await asyncio.create_subprocess_exec(
        *["unshare", "--mount", "--propagation", "private", "sh", "-c", script],
        *[sys.executable, ISOLATED_CHILD, json.dumps(calls)],
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        async with asyncio.timeout(WAIT_S):
            stdout, stderr = await process.communicate()
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode == 0, stderr.decode()
    return [TOOL_RESULT.validate_json(line) for line in stdout.splitlines()]


async def isolated_call(etc: Path, action: str, **args: object) -> dict[str, JsonValue] | ToolErr:
    (result,) = await run_isolated(etc, [(action, args)])
    if isinstance(result, ToolErr):
        return result
    assert isinstance(result.output, dict)
    return result.output


# --- catalogue -----------------------------------------------------------------------------


def test_net_offers_the_spec_actions_all_read_only(registry: ToolRegistry) -> None:
    effects = {spec.action: spec.effect.value for spec in registry.actions()}
    assert effects == dict.fromkeys(
        ["interfaces", "ping", "resolve", "connections", "port_check"], "read"
    )


# --- interfaces ----------------------------------------------------------------------------


async def test_interfaces_include_loopback_with_addresses_and_counters(
    registry: ToolRegistry,
) -> None:
    output = await call(registry, "interfaces")
    lo = next(entry for entry in items(output, "interfaces") if entry["name"] == "lo")
    assert lo["is_up"] is True
    assert isinstance(lo["mtu"], int) and lo["mtu"] > 0
    addresses = items(lo, "addresses")
    assert {"family": "ipv4", "address": "127.0.0.1", "netmask": "255.0.0.0"}.items() <= (
        addresses[0].items()
    )
    counters = lo["counters"]
    assert isinstance(counters, dict)
    assert all(isinstance(counters[key], int) for key in ("bytes_sent", "packets_recv"))


async def test_interfaces_by_name_returns_only_that_one(registry: ToolRegistry) -> None:
    output = await call(registry, "interfaces", name="lo")
    assert [entry["name"] for entry in items(output, "interfaces")] == ["lo"]
    assert output["total"] == 1 and output["truncated"] is False


async def test_interfaces_limit_truncates(registry: ToolRegistry) -> None:
    output = await call(registry, "interfaces", limit=1)
    assert len(items(output, "interfaces")) == 1
    assert isinstance(output["total"], int)
    assert output["truncated"] is (output["total"] > 1)


async def test_unknown_interface_is_not_found_with_the_choices(registry: ToolRegistry) -> None:
    error = await fail(registry, "interfaces", name="nosuch0")
    assert error.error.code == "not_found"
    choices = error.error.details["choices"]
    assert isinstance(choices, list) and "lo" in choices


@pytest.mark.parametrize(
    "args",
    [{"name": "-lo"}, {"name": "eth0 up"}, {"name": "a/b"}, {"name": "x" * 16}, {"limit": 0}],
)
async def test_interfaces_refuse_bad_arguments(
    registry: ToolRegistry, args: dict[str, object]
) -> None:
    assert (await fail(registry, "interfaces", **args)).error.code == "invalid_args"


# --- ping ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("host", "address"), [("127.0.0.1", "127.0.0.1"), ("::1", "::1")])
async def test_ping_loopback_reports_replies_and_round_trip_times(
    registry: ToolRegistry, host: str, address: str
) -> None:
    output = await call(registry, "ping", host=host, count=2, interval_s=0.2)
    assert output["address"] == address
    assert output["is_reachable"] is True
    assert (output["transmitted"], output["received"], output["loss_percent"]) == (2, 2, 0.0)
    rtts = [output[key] for key in ("rtt_min_ms", "rtt_avg_ms", "rtt_max_ms")]
    assert all(isinstance(rtt, float) for rtt in rtts)
    assert rtts == sorted(rtts)  # type: ignore[type-var]


async def test_ping_a_name_from_etc_hosts(registry: ToolRegistry) -> None:
    output = await call(registry, "ping", host="localhost", count=1, family="ipv4")
    assert output["address"] == "127.0.0.1" and output["received"] == 1


async def test_ping_without_the_ping_command_names_the_package(
    registry: ToolRegistry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # an empty directory: no ping on PATH
    error = await fail(registry, "ping", host="127.0.0.1", count=1)
    assert error.error.code == "unavailable"
    assert "iputils-ping" in error.error.message


@requires_root
async def test_ping_an_unknown_name_is_not_found(isolated_etc: Path, stub_dns: StubDns) -> None:
    result = await isolated_call(isolated_etc, "ping", host="nxdomain.test", count=1)
    assert isinstance(result, ToolErr) and result.error.code == "not_found"
    assert "nxdomain.test" in result.error.message
    assert "nxdomain.test" in stub_dns.queries


@pytest.mark.parametrize(
    "host",
    [
        "-f",
        "--help",
        "-c1000 127.0.0.1",
        "",
        " 127.0.0.1",
        "127.0.0.1 ",
        "127.0.0.1\n",
        "a b",
        "127.0.0.1;id",
        "$(id)",
        "`id`",
        "host\x00name",
        "x" * 254,
        ("a" * 64) + ".test",
        "a..b",
        "-bad.test",
        "bad-.test",
        "10.1",
        "0x7f.1",
        "127.1",
        "fe80::1%eth0;id",
        "xn--",
        "ü" * 64 + ".test",
    ],
)
async def test_ping_refuses_hosts_that_are_not_addresses_or_names(
    registry: ToolRegistry, host: str
) -> None:
    assert (await fail(registry, "ping", host=host)).error.code == "invalid_args"


@pytest.mark.parametrize(
    "args",
    [
        {"count": 0},
        {"count": 11},
        {"timeout_s": 0},
        {"timeout_s": 11},
        {"interval_s": 0.01},
        {"host": 127},
        {"family": "ipv6"},  # 127.0.0.1 is IPv4
        {"flood": True},
    ],
)
async def test_ping_refuses_bad_arguments(registry: ToolRegistry, args: dict[str, object]) -> None:
    error = await fail(registry, "ping", **({"host": "127.0.0.1"} | args))
    assert error.error.code == "invalid_args"


def test_ping_summary_of_unanswered_requests_has_no_rtt() -> None:
    output = (
        "PING 192.0.2.200 (192.0.2.200) 56(84) bytes of data.\n\n"
        "--- 192.0.2.200 ping statistics ---\n"
        "3 packets transmitted, 0 received, +3 errors, 100% packet loss, time 2003ms\n"
    )
    summary = parse_summary(output)
    assert summary is not None
    assert (summary.transmitted, summary.received, summary.errors) == (3, 0, 3)
    assert summary.loss_percent == 100.0 and summary.rtt_ms is None
    assert summary.address == "192.0.2.200"


def test_ping_summary_is_none_when_ping_never_started() -> None:
    assert parse_summary("ping: nxdomain.test: Name or service not known\n") is None


@given(
    transmitted=st.integers(1, 10),
    data=st.data(),
    rtts=st.lists(st.integers(0, 10**7), min_size=4, max_size=4),
)
def test_ping_summary_round_trips_iputils_numbers(
    transmitted: int, data: st.DataObject, rtts: list[int]
) -> None:
    received = data.draw(st.integers(0, transmitted))
    duplicates = data.draw(st.integers(0, 3))
    loss = f"{100 * (transmitted - received) / transmitted:g}"
    low, mid, high, mdev = (f"{value / 1000:.3f}" for value in sorted(rtts))
    output = (
        "PING ::1(::1) 56 data bytes\n"
        f"--- ::1 ping statistics ---\n{transmitted} packets transmitted, {received} received, "
        + (f"+{duplicates} duplicates, " if duplicates else "")
        + f"{loss}% packet loss, time 9ms\nrtt min/avg/max/mdev = {low}/{mid}/{high}/{mdev} ms\n"
    )
    summary = parse_summary(output)
    assert summary is not None and summary.address == "::1"
    assert (summary.transmitted, summary.received) == (transmitted, received)
    assert summary.duplicates == duplicates and summary.loss_percent == float(loss)
    assert summary.rtt_ms == tuple(float(value) for value in (low, mid, high, mdev))


@given(st.text(max_size=300))
def test_a_checked_host_is_never_an_option_or_split_by_spaces(text: str) -> None:
    try:
        host = checked_host(text)
    except ValueError:
        return
    assert host and not host.startswith("-")
    assert host.isascii() and not any(char.isspace() for char in host)


def test_international_names_become_punycode() -> None:
    assert checked_host("bücher.test") == "xn--bcher-kva.test"


# --- resolve -------------------------------------------------------------------------------


async def test_resolve_localhost_from_etc_hosts(registry: ToolRegistry) -> None:
    output = await call(registry, "resolve", name="localhost", family="ipv4")
    assert output["kind"] == "forward"
    assert items(output, "addresses") == [{"family": "ipv4", "address": "127.0.0.1"}]


async def test_resolve_an_address_gives_its_name(registry: ToolRegistry) -> None:
    output = await call(registry, "resolve", name="127.0.0.1")
    assert output["kind"] == "reverse" and output["hostname"] == "localhost"


@requires_root
async def test_resolve_returns_each_address_once_per_family(
    isolated_etc: Path, stub_dns: StubDns
) -> None:
    results = await run_isolated(
        isolated_etc,
        [
            ("resolve", {"name": "sysward-a.test"}),
            ("resolve", {"name": "sysward-a.test", "family": "ipv4"}),
            ("resolve", {"name": "sysward-a.test", "family": "ipv6"}),
        ],
    )
    addresses = []
    for result in results:
        assert isinstance(result, ToolOk) and isinstance(result.output, dict)
        addresses.append({str(a["address"]) for a in items(result.output, "addresses")})
    assert addresses == [{"127.0.0.2", "fd53::2"}, {"127.0.0.2"}, {"fd53::2"}]
    assert "sysward-a.test" not in stub_dns.queries  # answered by /etc/hosts alone


@requires_root
async def test_resolve_an_alias_reports_the_canonical_name(isolated_etc: Path) -> None:
    output = await isolated_call(isolated_etc, "resolve", name="sysward-alias", family="ipv4")
    assert isinstance(output, dict)
    assert output["canonical_name"] == "sysward-a.test"


@requires_root
async def test_resolve_reverse_uses_the_hosts_file(isolated_etc: Path) -> None:
    output = await isolated_call(isolated_etc, "resolve", name="127.0.0.2")
    assert isinstance(output, dict) and output["hostname"] == "sysward-a.test"


@requires_root
async def test_resolve_an_international_name_looks_up_its_punycode(isolated_etc: Path) -> None:
    output = await isolated_call(isolated_etc, "resolve", name="bücher.test")
    assert isinstance(output, dict) and output["name"] == "xn--bcher-kva.test"
    assert items(output, "addresses") == [{"family": "ipv4", "address": "127.0.0.3"}]


@requires_root
async def test_resolve_nxdomain_is_not_found(isolated_etc: Path, stub_dns: StubDns) -> None:
    error = await isolated_call(isolated_etc, "resolve", name="nxdomain.test")
    assert isinstance(error, ToolErr) and error.error.code == "not_found"
    assert "nxdomain.test" in stub_dns.queries


@requires_root
async def test_resolve_servfail_is_unavailable(isolated_etc: Path, stub_dns: StubDns) -> None:
    error = await isolated_call(isolated_etc, "resolve", name="servfail.test")
    assert isinstance(error, ToolErr) and error.error.code == "unavailable"


@requires_root
async def test_resolve_a_silent_nameserver_times_out(isolated_etc: Path, stub_dns: StubDns) -> None:
    error = await isolated_call(isolated_etc, "resolve", name="silent.test", timeout_s=0.3)
    assert isinstance(error, ToolErr) and error.error.code == "timeout"


@pytest.mark.parametrize(
    "args",
    [{"name": "-x"}, {"name": ""}, {"name": "a b"}, {"family": "ipv5"}, {"timeout_s": 0}],
)
async def test_resolve_refuses_bad_arguments(
    registry: ToolRegistry, args: dict[str, object]
) -> None:
    error = await fail(registry, "resolve", **({"name": "localhost"} | args))
    assert error.error.code == "invalid_args"


async def test_resolve_requires_a_name(registry: ToolRegistry) -> None:
    assert (await fail(registry, "resolve")).error.code == "invalid_args"


# --- connections ---------------------------------------------------------------------------


async def test_connections_find_a_listening_socket_and_its_process(
    registry: ToolRegistry, listener: socket.socket
) -> None:
    port = listener.getsockname()[1]
    output = await call(registry, "connections", kind="tcp", state="LISTEN", port=port)
    (entry,) = items(output, "connections")
    assert entry["protocol"] == "tcp" and entry["family"] == "ipv4"
    assert (entry["local_address"], entry["local_port"]) == ("127.0.0.1", port)
    assert entry["remote_address"] is None and entry["status"] == "LISTEN"
    assert entry["pid"] == os.getpid()
    assert entry["process_name"] == psutil.Process().name()


async def test_connections_find_both_ends_of_an_established_connection(
    registry: ToolRegistry, established: tuple[int, int]
) -> None:
    server_port, client_port = established
    output = await call(registry, "connections", state="ESTABLISHED", port=server_port)
    ends = {(c["local_port"], c["remote_port"]) for c in items(output, "connections")}
    assert ends == {(server_port, client_port), (client_port, server_port)}
    assert {c["pid"] for c in items(output, "connections")} == {os.getpid()}


async def test_connections_list_udp_sockets_only_when_asked(registry: ToolRegistry) -> None:
    with socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as udp:
        udp.bind(("::1", 0))
        port = udp.getsockname()[1]
        output = await call(registry, "connections", kind="udp", port=port)
        (entry,) = items(output, "connections")
        assert (entry["protocol"], entry["family"], entry["status"]) == ("udp", "ipv6", "NONE")
        tcp_only = await call(registry, "connections", kind="tcp", port=port)
        assert tcp_only["total"] == 0


async def test_connections_filter_by_pid(registry: ToolRegistry, listener: socket.socket) -> None:
    port = listener.getsockname()[1]
    mine = await call(registry, "connections", pid=os.getpid(), port=port)
    assert mine["total"] == 1
    others = await call(registry, "connections", pid=1, port=port)
    assert others["total"] == 0


async def test_connections_limit_truncates(registry: ToolRegistry) -> None:
    servers = [socket.create_server(("127.0.0.1", 0)) for _ in range(3)]
    try:
        output = await call(registry, "connections", pid=os.getpid(), state="LISTEN", limit=1)
        assert len(items(output, "connections")) == 1
        assert isinstance(output["total"], int) and output["total"] >= 3
        assert output["truncated"] is True
    finally:
        for server in servers:
            server.close()


@pytest.mark.parametrize(
    "args",
    [
        {"kind": "unix"},
        {"state": "listening"},
        {"port": 0},
        {"port": 65536},
        {"pid": 0},
        {"limit": 1001},
        {"port": "80; rm"},
    ],
)
async def test_connections_refuse_bad_arguments(
    registry: ToolRegistry, args: dict[str, object]
) -> None:
    assert (await fail(registry, "connections", **args)).error.code == "invalid_args"


# --- port_check ----------------------------------------------------------------------------


async def test_port_check_open_port(registry: ToolRegistry, listener: socket.socket) -> None:
    port = listener.getsockname()[1]
    output = await call(registry, "port_check", host="127.0.0.1", port=port)
    assert output["is_open"] is True and output["error"] is None
    assert output["address"] == "127.0.0.1"
    assert isinstance(output["latency_ms"], float) and 0 <= output["latency_ms"] < 3000


async def test_port_check_resolves_names_from_etc_hosts(
    registry: ToolRegistry, listener: socket.socket
) -> None:
    port = listener.getsockname()[1]
    output = await call(registry, "port_check", host="localhost", port=port)
    assert output["is_open"] is True and output["address"] == "127.0.0.1"


async def test_port_check_ipv6_loopback(registry: ToolRegistry) -> None:
    with socket.create_server(("::1", 0), family=socket.AF_INET6) as server:
        output = await call(registry, "port_check", host="::1", port=server.getsockname()[1])
        assert output["is_open"] is True


async def test_port_check_closed_port_is_refused(registry: ToolRegistry, closed_port: int) -> None:
    output = await call(registry, "port_check", host="127.0.0.1", port=closed_port)
    assert output["is_open"] is False and output["error"] == "refused"
    assert output["error_message"] == os.strerror(errno.ECONNREFUSED)


async def test_port_check_unanswered_port_times_out(
    registry: ToolRegistry, silent_port: int
) -> None:
    output = await call(registry, "port_check", host="127.0.0.1", port=silent_port, timeout_s=0.3)
    assert output["is_open"] is False and output["error"] == "timeout"
    assert isinstance(output["latency_ms"], float) and output["latency_ms"] >= 250


@requires_root
async def test_port_check_unknown_name_is_not_found(isolated_etc: Path, stub_dns: StubDns) -> None:
    error = await isolated_call(isolated_etc, "port_check", host="nxdomain.test", port=80)
    assert isinstance(error, ToolErr) and error.error.code == "not_found"


@pytest.mark.parametrize(
    ("exc", "kind"),
    [
        (ConnectionRefusedError(errno.ECONNREFUSED, "refused"), "refused"),
        (TimeoutError(), "timeout"),
        (OSError(errno.ENETUNREACH, "Network is unreachable"), "unreachable"),
        (OSError(errno.EHOSTUNREACH, "No route to host"), "unreachable"),
        (ConnectionResetError(errno.ECONNRESET, "reset"), "reset"),
        (OSError(errno.EACCES, "Permission denied"), "other"),
    ],
)
def test_port_errors_are_classified(exc: OSError, kind: str) -> None:
    # Unreachable networks cannot be produced on loopback without changing the host's routes.
    assert port_error(exc) == kind


@pytest.mark.parametrize(
    "args",
    [
        {"port": 0},
        {"port": 65536},
        {"port": -1},
        {"port": "http"},
        {"host": "-p"},
        {"host": "127.0.0.1:80"},
        {"timeout_s": 0},
        {"timeout_s": 31},
    ],
)
async def test_port_check_refuses_bad_arguments(
    registry: ToolRegistry, args: dict[str, object]
) -> None:
    error = await fail(registry, "port_check", **({"host": "127.0.0.1", "port": 22} | args))
    assert error.error.code == "invalid_args"
