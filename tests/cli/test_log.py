"""`sysward log verify`: exit 1 naming the first bad seq when the chain is broken."""

from __future__ import annotations

from typing import Any

from .fake_daemon import FakeDaemon


def test_an_intact_chain_exits_0(daemon: FakeDaemon, cli: Any) -> None:
    result = cli("log", "verify")
    assert result.code == 0
    assert result.out.startswith("log intact: 3 events checked, last seq 3, head ")


def test_a_broken_chain_exits_1_naming_the_seq_and_why(daemon: FakeDaemon, cli: Any) -> None:
    daemon.is_chain_intact = False
    result = cli("log", "verify")
    assert result.code == 1
    assert result.out.strip() == (
        "log BROKEN at seq 42: prev does not match the hash of record 41 "
        "(41 events before it are intact)"
    )


def test_a_broken_chain_in_json_still_exits_1(daemon: FakeDaemon, cli: Any) -> None:
    daemon.is_chain_intact = False
    result = cli("log", "verify", "--json")
    assert result.code == 1
    assert result.json()["first_bad_seq"] == 42


def test_log_without_a_subcommand_is_a_usage_error(daemon: FakeDaemon, cli: Any) -> None:
    assert cli("log").code == 2
