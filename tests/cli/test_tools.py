"""`sysward tools [TOOL]`: the actions and their effect; a tool's parameters."""

from __future__ import annotations

from typing import Any

from .fake_daemon import FakeDaemon


def test_tools_lists_every_action_with_its_effect(daemon: FakeDaemon, cli: Any) -> None:
    result = cli("tools")
    assert result.code == 0
    rows = [line.split()[:3] for line in result.out.splitlines()]
    assert rows == [
        ["TOOL", "ACTION", "EFFECT"],
        ["bash", "exec", "write"],
        ["systemd", "status", "read"],
        ["systemd", "restart", "write"],
    ]


def test_a_tool_shows_each_actions_parameters(daemon: FakeDaemon, cli: Any) -> None:
    result = cli("tools", "systemd")
    assert result.code == 0
    lines = result.out.splitlines()
    assert lines[0] == "systemd: Inspect and control systemd units."
    assert "systemd.restart (write)" in lines
    assert any(line.split()[:5] == ["unit", "string", "yes", "-", "Unit"] for line in lines)
    assert any(
        line.split()[:4] == ["mode", '"replace"|"fail"', "no", '"replace"'] for line in lines
    )


def test_optional_types_show_as_a_union(daemon: FakeDaemon, cli: Any) -> None:
    lines = cli("tools", "bash").out.splitlines()
    assert any(line.split()[:4] == ["cwd", "string|null", "no", "null"] for line in lines)


def test_tools_json(daemon: FakeDaemon, cli: Any) -> None:
    assert [tool["name"] for tool in cli("tools", "--json").json()] == ["bash", "systemd"]
    assert cli("tools", "bash", "--json").json()["actions"][0]["name"] == "exec"


def test_an_unknown_tool_fails_listing_the_known_ones(daemon: FakeDaemon, cli: Any) -> None:
    result = cli("tools", "nosuch")
    assert result.code == 1
    assert "no tool 'nosuch' (tools: bash, systemd)" in result.err
