"""`sysward status` against a live control socket."""

from __future__ import annotations

from typing import Any

from .fake_daemon import FakeDaemon


def test_status_shows_health_and_socket(daemon: FakeDaemon, cli: Any) -> None:
    result = cli("status")
    assert result.code == 0, result.err
    assert "ok" in result.out
    assert "0.1.0" in result.out
    assert "3 h 14 m" in result.out
    assert str(daemon.socket_path) in result.out
    assert [request.path for request in daemon.requests] == ["/v1/health"]


def test_status_json_is_the_health_document(daemon: FakeDaemon, cli: Any) -> None:
    result = cli("status", "--json")
    assert result.code == 0
    assert result.json() == {
        "status": "ok",
        "version": "0.1.0",
        "uptime_s": 11655.2,
        "last_seq": 3,
        "agents": 2,
    }


def test_json_flag_is_accepted_before_the_command(daemon: FakeDaemon, cli: Any) -> None:
    assert cli("--json", "status").json()["status"] == "ok"


def test_socket_option_wins_over_the_environment(daemon: FakeDaemon, cli: Any) -> None:
    result = cli("--socket", str(daemon.socket_path.with_name("other.sock")), "status")
    assert result.code == 3
    assert "other.sock" in result.err
