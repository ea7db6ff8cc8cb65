"""The systemd units and snippets in systemd/: valid for systemd, and true to the daemon.

`systemd-analyze verify` runs offline on unit files (it never talks to a
running manager); sysusers and tmpfiles are applied to a temporary --root.
"""

from __future__ import annotations

import configparser
import os
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

from sysward.config import DEFAULT_SOCKET, DaemonSettings
from sysward.daemon.lifecycle import DEFAULT_STOP_TIMEOUT_S
from sysward.daemon.listener import SOCKET_MODE
from sysward.daemon.service_manager import ServiceNotifier

REPO = Path(__file__).resolve().parents[2]
UNITS = REPO / "systemd"
INSTALLED_DAEMON = "/usr/bin/syswardd"

pytestmark = pytest.mark.skipif(
    shutil.which("systemd-analyze") is None, reason="systemd is not installed (make deps-system)"
)


def read_unit(name: str) -> configparser.RawConfigParser:
    parser = configparser.RawConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read(UNITS / name)
    return parser


def seconds(value: str) -> float:
    assert value.endswith("s") and value[:-1].isdigit(), f"expected N s, got {value!r}"
    return float(value[:-1])


def verify(tmp_path: Path, extra: str = "") -> subprocess.CompletedProcess[str]:
    """`systemd-analyze verify` on copies whose ExecStart names a real executable."""
    daemon = tmp_path / "syswardd"
    daemon.write_text("#!/bin/sh\nexit 0\n")
    daemon.chmod(0o755)
    copies = []
    for name in ("sysward.service", "sysward.socket"):
        text = (UNITS / name).read_text().replace(INSTALLED_DAEMON, str(daemon))
        copy = tmp_path / name
        copy.write_text(text + extra if name.endswith(".service") else text)
        copies.append(str(copy))
    # --man=no: the man pages exist only once the .deb is installed (test_deb checks them).
    command = ["systemd-analyze", "verify", "--man=no", *copies]
    return subprocess.run(command, capture_output=True, text=True, timeout=60)


def test_units_verify_without_any_warning(tmp_path: Path) -> None:
    result = verify(tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stderr == "" and result.stdout == "", result.stderr + result.stdout


def test_verify_reports_a_directive_systemd_does_not_know(tmp_path: Path) -> None:
    # verify exits 0 on such warnings: the check above must look at its output.
    result = verify(tmp_path, extra="ProtectEverything=yes\n")
    assert "Unknown key 'ProtectEverything'" in result.stderr


def test_service_is_notify_with_the_daemon_reloading_on_hup() -> None:
    service = read_unit("sysward.service")["Service"]
    assert service["Type"] == "notify"
    assert service["NotifyAccess"] == "main"
    assert service["ExecStart"] == f"{INSTALLED_DAEMON} --config /etc/sysward/sysward.toml"
    assert service["ExecReload"] == "kill -HUP $MAINPID"
    assert service["Restart"] == "on-failure"
    assert "StartLimitBurst" in read_unit("sysward.service")["Unit"]


def test_watchdog_is_fed_twice_per_period(monkeypatch: pytest.MonkeyPatch) -> None:
    watchdog_s = seconds(read_unit("sysward.service")["Service"]["WatchdogSec"])
    monkeypatch.setenv("WATCHDOG_USEC", str(int(watchdog_s * 1_000_000)))
    monkeypatch.delenv("WATCHDOG_PID", raising=False)
    assert ServiceNotifier().watchdog_interval_s() == watchdog_s / 2


def test_stop_timeout_leaves_room_for_the_daemon_drain() -> None:
    service = read_unit("sysward.service")["Service"]
    # The drain is bounded by --stop-timeout; closing the log and server follows it.
    assert seconds(service["TimeoutStopSec"]) >= DEFAULT_STOP_TIMEOUT_S * 2
    # SIGTERM to the daemon alone, so running tool commands can finish during the drain.
    assert service["KillMode"] == "mixed"


def test_service_keeps_the_runtime_dir_for_socket_activation() -> None:
    service = read_unit("sysward.service")["Service"]
    assert service["RuntimeDirectory"] == "sysward"
    assert service["RuntimeDirectoryPreserve"] == "yes"
    assert service["StateDirectory"] == "sysward"
    assert service["StateDirectoryMode"] == "0700"


def test_hardening_leaves_the_sysadmin_able_to_edit_etc_and_run_apt() -> None:
    service = read_unit("sysward.service")["Service"]
    for directive in ("ProtectSystem", "ProtectHome", "PrivateTmp", "NoNewPrivileges"):
        assert directive not in service, f"{directive} would stop the sysadmin agent"
    text = (UNITS / "sysward.service").read_text()
    assert "ProtectSystem=strict/full/yes" in text, "the reasons for what is not used are gone"


def test_socket_unit_matches_what_the_daemon_expects() -> None:
    socket_unit = read_unit("sysward.socket")["Socket"]
    assert socket_unit["ListenStream"] == str(DEFAULT_SOCKET)
    assert socket_unit["SocketMode"] == f"0{SOCKET_MODE:o}"
    assert socket_unit["SocketGroup"] == DaemonSettings().allowed_groups[0]
    assert socket_unit["Service"] == "sysward.service"


def test_sysusers_creates_the_sysward_group(tmp_path: Path) -> None:
    (tmp_path / "etc").mkdir()
    conf = UNITS / "sysusers.d" / "sysward.conf"
    command = ["systemd-sysusers", f"--root={tmp_path}", str(conf)]
    subprocess.run(command, check=True, capture_output=True, timeout=60)
    groups = (tmp_path / "etc" / "group").read_text().splitlines()
    assert any(line.startswith("sysward:x:") for line in groups), groups


@pytest.mark.root
@pytest.mark.skipif(
    os.geteuid() != 0, reason="systemd-tmpfiles chowns the dirs to root:sysward, which needs root"
)
def test_tmpfiles_makes_the_state_and_credentials_dirs_private(tmp_path: Path) -> None:
    conf = UNITS / "tmpfiles.d" / "sysward.conf"
    command = ["systemd-tmpfiles", f"--root={tmp_path}", "--create", str(conf)]
    subprocess.run(command, check=True, capture_output=True, timeout=60)
    modes = {
        path: stat.S_IMODE((tmp_path / path).stat().st_mode)
        for path in ("var/lib/sysward", "etc/sysward", "etc/sysward/credentials")
    }
    assert modes == {
        "var/lib/sysward": 0o700,
        "etc/sysward": 0o755,
        "etc/sysward/credentials": 0o700,
    }


def test_sysusers_group_is_the_one_the_daemon_gives_its_socket() -> None:
    conf = (UNITS / "sysusers.d" / "sysward.conf").read_text().splitlines()
    entries = [line.split() for line in conf if line and not line.startswith("#")]
    assert entries == [["g", DaemonSettings().allowed_groups[0], "-", "-"]]
