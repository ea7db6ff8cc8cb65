"""``net.ping``: the system ``ping`` (iputils), run without a shell and read back as numbers.

Raw ICMP sockets need root or a capability that ``ping`` already has, so the
tool runs the real command rather than building packets itself. The host was
validated (``sysward.tools.net.host``) before it reaches argv: it cannot be
read as an option, and iputils does not accept ``--`` everywhere.
"""

from __future__ import annotations

import asyncio
import re
import shutil
from dataclasses import dataclass

from sysward.tools.net.host import ip_version
from sysward.tools.net.models import PingArgs, PingResult
from sysward.tools.requirement import program
from sysward.tools.tool import ToolFailed

# Beyond the pings themselves: process start and name resolution.
DEADLINE_SLACK_S = 5.0
MAX_ERROR_CHARS = 300

_HEADER = re.compile(r"^PING (\S+?) ?\(([^)\s]+)\)", re.MULTILINE)
_PACKETS = re.compile(
    r"(?P<transmitted>\d+) packets transmitted, (?P<received>\d+) received"
    r"(?:, \+(?P<duplicates>\d+) duplicates)?"
    r"(?:, \+(?P<errors>\d+) errors)?"
    r", (?P<loss>[\d.]+)% packet loss"
)
_RTT = re.compile(r"rtt min/avg/max/mdev = ([\d.]+)/([\d.]+)/([\d.]+)/([\d.]+) ms")

# What ping prints on stderr when it cannot start pinging, and who must act on it.
_FAILURES = (
    ("Name or service not known", "not_found"),
    ("No address associated with hostname", "not_found"),
    ("Temporary failure in name resolution", "unavailable"),
    ("Network is unreachable", "unreachable"),
    ("No route to host", "unreachable"),
    ("Operation not permitted", "permission_denied"),
)


@dataclass(frozen=True)
class PingSummary:
    """The numbers in ping's closing lines."""

    address: str | None
    transmitted: int
    received: int
    duplicates: int
    errors: int
    loss_percent: float
    rtt_ms: tuple[float, float, float, float] | None  # min, avg, max, mdev


PING_COMMAND = program(
    "ping", install="install the iputils-ping package (apt install iputils-ping)"
)


async def ping(args: PingArgs) -> PingResult:
    """Ping ``args.host`` and summarise the replies; an unanswered ping is data, not an error."""
    executable = shutil.which("ping")
    if executable is None:  # removed after the registry found it
        raise ToolFailed(
            "unavailable",
            "the ping command is no longer on PATH; install the iputils-ping package",
            {"package": "iputils-ping"},
        )
    stdout, stderr = await _run(_argv(executable, args), _deadline_s(args))
    summary = parse_summary(stdout)
    if summary is None:
        raise _failure(args.host, (stderr or stdout).replace(f"{executable}: ", ""))
    return _result(args.host, summary)


def _result(host: str, summary: PingSummary) -> PingResult:
    rtt = summary.rtt_ms or (None, None, None, None)
    return PingResult(
        host=host,
        address=summary.address,
        is_reachable=summary.received > 0,
        transmitted=summary.transmitted,
        received=summary.received,
        loss_percent=summary.loss_percent,
        duplicates=summary.duplicates,
        errors=summary.errors,
        rtt_min_ms=rtt[0],
        rtt_avg_ms=rtt[1],
        rtt_max_ms=rtt[2],
        rtt_mdev_ms=rtt[3],
    )


def _argv(executable: str, args: PingArgs) -> list[str]:
    argv = [executable, "-n", "-c", str(args.count), "-W", f"{args.timeout_s:g}"]
    argv += ["-i", f"{args.interval_s:g}"]
    version = ip_version(args.host.partition("%")[0])
    if version == 6 or args.family == "ipv6":
        argv.append("-6")
    elif version == 4 or args.family == "ipv4":
        argv.append("-4")
    return [*argv, args.host]  # checked_host: never an option, so no "--" is needed


def _deadline_s(args: PingArgs) -> float:
    return (args.count - 1) * args.interval_s + args.timeout_s + DEADLINE_SLACK_S


async def _run(argv: list[str], deadline_s: float) -> tuple[str, str]:
    process = await asyncio.create_subprocess_exec(
        *argv,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={"LC_ALL": "C"},  # English, '.' decimals: what parse_summary reads
    )
    try:
        async with asyncio.timeout(deadline_s):
            stdout, stderr = await process.communicate()
    except TimeoutError as exc:
        raise ToolFailed(
            "timeout", f"ping did not finish within {deadline_s:g} s", {"deadline_s": deadline_s}
        ) from exc
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    return stdout.decode(errors="replace"), stderr.decode(errors="replace")


def parse_summary(output: str) -> PingSummary | None:
    """The statistics of ping's output, or None when it has none (ping never started)."""
    packets = _PACKETS.search(output)
    if packets is None:
        return None
    header = _HEADER.search(output)
    rtt = _RTT.search(output)
    return PingSummary(
        address=header.group(2) if header else None,
        transmitted=int(packets["transmitted"]),
        received=int(packets["received"]),
        duplicates=int(packets["duplicates"] or 0),
        errors=int(packets["errors"] or 0),
        loss_percent=float(packets["loss"]),
        rtt_ms=((float(rtt[1]), float(rtt[2]), float(rtt[3]), float(rtt[4])) if rtt else None),
    )


def _failure(host: str, output: str) -> ToolFailed:
    message = " ".join(output.split())[:MAX_ERROR_CHARS] or "ping failed and printed nothing"
    code = next((code for text, code in _FAILURES if text in output), "failed")
    hint = {
        "not_found": "; check the name (net.resolve looks it up)",
        "unavailable": "; the DNS server did not answer, try again or use an IP address",
    }.get(code, "")
    return ToolFailed(code, f"cannot ping {host}: {message}{hint}", {"host": host})
