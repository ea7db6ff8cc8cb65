"""sd_notify messages (with systemd-python and with the built-in fallback) and the
watchdog interval; socket activation's environment handling."""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from sysward.daemon import service_manager
from sysward.daemon.service_manager import ServiceNotifier, activation_fds


@pytest.fixture
def notify_socket(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[socket.socket]:
    path = tmp_path / "notify"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind(str(path))
        sock.settimeout(5)
        monkeypatch.setenv("NOTIFY_SOCKET", str(path))
        yield sock


@pytest.fixture(params=["systemd-python", "plain socket"])
def backend(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Each notification test runs through systemd-python and through the plain-socket path."""
    if request.param == "plain socket":
        monkeypatch.setattr(service_manager, "sd_daemon", None)
    elif service_manager.sd_daemon is None:
        pytest.skip("systemd-python is not installed")
    return str(request.param)


@pytest.mark.usefixtures("backend")
def test_ready_and_stopping_reach_the_notify_socket(notify_socket: socket.socket) -> None:
    notifier = ServiceNotifier()
    notifier.ready("serving")
    notifier.stopping("bye")
    assert notify_socket.recv(4096) == b"READY=1\nSTATUS=serving"
    assert notify_socket.recv(4096) == b"STOPPING=1\nSTATUS=bye"


def test_without_notify_socket_nothing_is_sent(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    notifier = ServiceNotifier()
    assert not notifier.is_enabled
    notifier.ready("nobody listens")


def test_a_vanished_notify_socket_is_logged_not_raised(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("NOTIFY_SOCKET", str(tmp_path / "gone"))
    monkeypatch.setattr(service_manager, "sd_daemon", None)
    ServiceNotifier().status("hello")
    assert "sd_notify" in caplog.text


@pytest.mark.parametrize(
    ("usec", "pid", "expected"),
    [
        ("", "", None),
        ("0", "", None),
        ("2000000", "", 1.0),
        ("2000000", "self", 1.0),
        ("2000000", "1", None),
        ("x", "", None),
    ],
)
def test_the_watchdog_interval_is_half_of_watchdog_usec(
    monkeypatch: pytest.MonkeyPatch, usec: str, pid: str, expected: float | None
) -> None:
    monkeypatch.setenv("WATCHDOG_USEC", usec)
    monkeypatch.setenv("WATCHDOG_PID", str(os.getpid()) if pid == "self" else pid)
    assert ServiceNotifier().watchdog_interval_s() == expected


def test_activation_for_another_pid_is_ignored_and_cleared(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(service_manager, "sd_daemon", None)
    monkeypatch.setenv("LISTEN_PID", "1")
    monkeypatch.setenv("LISTEN_FDS", "1")
    assert activation_fds() == []
    assert "LISTEN_FDS" not in os.environ


def test_no_activation_without_the_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LISTEN_PID", raising=False)
    monkeypatch.delenv("LISTEN_FDS", raising=False)
    assert activation_fds() == []


@pytest.mark.usefixtures("backend")
def test_reloading_carries_the_monotonic_time_it_started(notify_socket: socket.socket) -> None:
    before = time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
    ServiceNotifier().reloading("reloading")
    after = time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
    reloading, stamp, status = notify_socket.recv(4096).decode().split("\n")
    assert (reloading, status) == ("RELOADING=1", "STATUS=reloading")
    name, _, usec = stamp.partition("=")
    assert name == "MONOTONIC_USEC"
    assert before <= int(usec) <= after
