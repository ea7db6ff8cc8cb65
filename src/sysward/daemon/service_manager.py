"""Talking to systemd: readiness, status and watchdog (sd_notify), and socket activation.

Uses systemd-python (`systemd.daemon`) when installed; it is an optional
dependency, so the same few lines of the protocol are implemented here as a
fallback. Everything is a no-op outside systemd (no NOTIFY_SOCKET, no LISTEN_FDS).
"""

from __future__ import annotations

import asyncio
import importlib
import logging
import os
import socket
import time
from types import ModuleType

_log = logging.getLogger(__name__)
LISTEN_FDS_START = 3

sd_daemon: ModuleType | None
try:
    sd_daemon = importlib.import_module("systemd.daemon")
except ImportError:  # systemd-python is optional
    sd_daemon = None


def activation_fds() -> list[int]:
    """The sockets systemd passed us (LISTEN_FDS/LISTEN_PID), and unset those variables."""
    if sd_daemon is not None:
        return list(sd_daemon.listen_fds(True))
    pid, count = os.environ.pop("LISTEN_PID", ""), os.environ.pop("LISTEN_FDS", "")
    os.environ.pop("LISTEN_FDNAMES", None)
    if not (pid.isdigit() and count.isdigit()) or int(pid) != os.getpid():
        return []
    return list(range(LISTEN_FDS_START, LISTEN_FDS_START + int(count)))


def _send_datagram(message: str) -> None:
    address = os.environ.get("NOTIFY_SOCKET", "")
    if address.startswith("@"):
        address = "\0" + address[1:]
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
        sock.connect(address)
        sock.sendall(message.encode())


def monotonic_usec() -> int:
    """CLOCK_MONOTONIC in microseconds, the clock systemd compares MONOTONIC_USEC with."""
    return time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000


class ServiceNotifier:
    """sd_notify(3): READY=1, RELOADING=1, STATUS=…, STOPPING=1, WATCHDOG=1."""

    def __init__(self) -> None:
        self.is_enabled = bool(os.environ.get("NOTIFY_SOCKET"))

    def send(self, *lines: str) -> None:
        if not self.is_enabled:
            return
        message = "\n".join(lines)
        try:
            if sd_daemon is not None:
                sd_daemon.notify(message)
            else:
                _send_datagram(message)
        except OSError as exc:
            _log.warning("sd_notify %r failed: %s", message, exc)

    def ready(self, status: str) -> None:
        self.send("READY=1", f"STATUS={status}")

    def status(self, status: str) -> None:
        self.send(f"STATUS={status}")

    def reloading(self, status: str) -> None:
        """RELOADING=1; send ready() when done. sd_notify(3) wants the reload's start time."""
        self.send("RELOADING=1", f"MONOTONIC_USEC={monotonic_usec()}", f"STATUS={status}")

    def stopping(self, status: str) -> None:
        self.send("STOPPING=1", f"STATUS={status}")

    def watchdog_interval_s(self) -> float | None:
        """Half of WatchdogSec when systemd asks this process for pings, else None."""
        usec, pid = os.environ.get("WATCHDOG_USEC", ""), os.environ.get("WATCHDOG_PID", "")
        if not usec.isdigit() or int(usec) == 0:
            return None
        if pid and (not pid.isdigit() or int(pid) != os.getpid()):
            return None
        return int(usec) / 2_000_000

    async def keep_watchdog_fed(self, interval_s: float) -> None:
        """Ping the watchdog forever (the caller cancels this task)."""
        while True:
            self.send("WATCHDOG=1")
            await asyncio.sleep(interval_s)
