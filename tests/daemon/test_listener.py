"""Binding the control socket by path: stale files, live daemons, other files, mode, group."""

from __future__ import annotations

import grp
import os
import socket
import stat
from pathlib import Path

import pytest

from sysward.daemon.errors import StartupError
from sysward.daemon.listener import open_listener

NOBODY = 65534


def test_binds_a_listening_socket_with_mode_0660(short_tmp: Path) -> None:
    path = short_tmp / "run" / "sysward.sock"
    listener = open_listener(path, ["sysward-test-nosuchgroup"])
    try:
        assert stat.S_IMODE(path.stat().st_mode) == 0o660
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as client:
            client.connect(str(path))
    finally:
        listener.sock.close()
        listener.remove_file()
    assert not path.exists()


@pytest.mark.skipif(os.geteuid() != 0, reason="chown to another group needs root")
def test_the_socket_belongs_to_the_first_allowed_group(short_tmp: Path) -> None:
    path = short_tmp / "sysward.sock"
    listener = open_listener(path, [grp.getgrgid(NOBODY).gr_name, "other"])
    try:
        assert path.stat().st_gid == NOBODY
    finally:
        listener.sock.close()


def test_a_stale_socket_file_is_replaced(short_tmp: Path) -> None:
    path = short_tmp / "sysward.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as dead:
        dead.bind(str(path))
    listener = open_listener(path, [])
    listener.sock.close()


def test_a_live_socket_is_refused(short_tmp: Path) -> None:
    path = short_tmp / "sysward.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as live:
        live.bind(str(path))
        live.listen()
        with pytest.raises(StartupError, match="another syswardd is serving"):
            open_listener(path, [])
        assert path.exists()


def test_a_regular_file_is_refused_and_kept(short_tmp: Path) -> None:
    path = short_tmp / "sysward.sock"
    path.write_text("keep me")
    with pytest.raises(StartupError, match="exists and is not a socket"):
        open_listener(path, [])
    assert path.read_text() == "keep me"


def test_a_path_too_long_for_a_unix_socket_is_a_clear_error(short_tmp: Path) -> None:
    path = short_tmp / ("x" * 120) / "sysward.sock"
    with pytest.raises(StartupError, match="cannot serve the control socket"):
        open_listener(path, [])


def test_a_socket_replaced_by_someone_else_is_not_removed(short_tmp: Path) -> None:
    path = short_tmp / "sysward.sock"
    listener = open_listener(path, [])
    listener.sock.close()
    path.unlink()
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as successor:
        successor.bind(str(path))
        listener.remove_file()
        assert path.exists()
