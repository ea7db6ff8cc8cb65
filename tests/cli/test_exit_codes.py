"""Exit codes, for every command: 0 ok, 1 the daemon said no, 2 usage, 3 unreachable, 4 denied."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from foreign_uid import ForeignUidPython

from .fake_daemon import FakeDaemon

EVERY_COMMAND = [
    ["status"],
    ["agents"],
    ["agent", "create", "web", "--role", "default"],
    ["agent", "start", "ops"],
    ["agent", "stop", "ops"],
    ["agent", "rm", "audit"],
    ["ask", "ops", "hello"],
    ["ask", "ops", "hello", "--no-wait"],
    ["history", "ops"],
    ["turn", "t_01JD"],
    ["events"],
    ["events", "--follow", "--count", "1"],
    ["approvals"],
    ["approve", "ap_1"],
    ["deny", "ap_1", "--reason", "no"],
    ["tools"],
    ["tools", "bash"],
    ["log", "verify"],
]
IDS = [" ".join(argv[:2]) for argv in EVERY_COMMAND]
SYSWARD = str(Path(sys.executable).with_name("sysward"))


@pytest.mark.parametrize("argv", EVERY_COMMAND, ids=IDS)
def test_daemon_down_exits_3_naming_the_socket_and_how_to_start_it(
    short_tmp: Path, monkeypatch: pytest.MonkeyPatch, cli: Any, argv: list[str]
) -> None:
    socket_path = str(short_tmp / "down.sock")
    monkeypatch.setenv("SYSWARD_SOCKET", socket_path)
    result = cli(*argv)
    assert result.code == 3
    assert socket_path in result.err
    assert "systemctl start sysward" in result.err
    assert "syswardd --state-dir" in result.err


@pytest.mark.parametrize("argv", EVERY_COMMAND, ids=IDS)
def test_forbidden_exits_4_with_the_daemons_reason(
    daemon: FakeDaemon, cli: Any, argv: list[str]
) -> None:
    daemon.is_forbidden = True
    result = cli(*argv)
    assert result.code == 4
    assert "forbidden: uid 1000 is neither root nor in an allowed group" in result.err


@pytest.mark.parametrize("argv", EVERY_COMMAND, ids=IDS)
def test_json_errors_are_one_document_on_stdout(
    daemon: FakeDaemon, cli: Any, argv: list[str]
) -> None:
    daemon.is_forbidden = True
    result = cli(*argv, "--json")
    assert result.code == 4
    assert result.json()["error"]["code"] == "forbidden"
    assert result.err == ""


def test_daemon_down_in_json_names_the_socket(short_tmp: Path, cli: Any) -> None:
    socket_path = str(short_tmp / "down.sock")
    result = cli("--socket", socket_path, "status", "--json")
    assert result.code == 3
    assert result.json()["error"]["details"]["socket"] == socket_path


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["frobnicate"],
        ["agents", "--bogus"],
        ["agent"],
        ["agent", "start"],
        ["ask", "ops"],
        ["events", "--limit", "many"],
        ["deny"],
    ],
    ids=lambda argv: " ".join(argv) or "(nothing)",
)
def test_usage_errors_exit_2_without_asking_the_daemon(
    daemon: FakeDaemon, cli: Any, argv: list[str]
) -> None:
    result = cli(*argv)
    assert result.code == 2
    assert "usage: sysward" in result.err
    assert daemon.requests == []


def test_the_console_script_exits_3_when_the_daemon_is_down(short_tmp: Path) -> None:
    env = os.environ | {"SYSWARD_SOCKET": str(short_tmp / "down.sock")}
    result = subprocess.run([SYSWARD, "status"], capture_output=True, text=True, env=env)
    assert result.returncode == 3
    assert result.stderr.startswith(f"sysward: cannot reach the sysward daemon at {short_tmp}")
    assert "Traceback" not in result.stderr


def test_the_console_script_exits_0_and_2(daemon: FakeDaemon) -> None:
    assert subprocess.run([SYSWARD, "status"], capture_output=True).returncode == 0
    assert subprocess.run([SYSWARD, "nosuch"], capture_output=True).returncode == 2


def test_version(cli: Any) -> None:
    result = cli("--version")
    assert (result.code, result.out.strip()) == (0, "sysward 0.1.0")


@pytest.mark.root
@pytest.mark.skipif(
    os.geteuid() != 0 or not shutil.which("setpriv"), reason="needs root and setpriv"
)
def test_a_socket_the_user_may_not_open_exits_4(
    daemon: FakeDaemon, nobody_python: ForeignUidPython
) -> None:
    command = nobody_python.module("sysward.cli.main", "status")
    result = subprocess.run(command, capture_output=True, text=True, env=nobody_python.environ())
    assert result.returncode == 4, result.stderr
    assert f"no permission to open {daemon.socket_path}" in result.stderr
