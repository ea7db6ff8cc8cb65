"""docs/tools.md is generated from the tools and must match them."""

from __future__ import annotations

from pathlib import Path

from sysward.tools import ToolRegistry
from sysward.tools.reference import reference_tools, render

DOC = Path(__file__).resolve().parents[2] / "docs" / "tools.md"


def test_docs_tools_md_matches_the_tool_classes() -> None:
    rendered = render(reference_tools())
    assert DOC.read_text(encoding="utf-8") == rendered, (
        "docs/tools.md is stale: run `python -m sysward.tools.reference > docs/tools.md`"
    )


def test_reference_lists_every_action_of_the_registry() -> None:
    text = DOC.read_text(encoding="utf-8")
    registry = ToolRegistry(reference_tools())
    for spec in registry.actions():
        assert f"### {spec.tool}.{spec.action} ({spec.effect.value})" in text


def test_spec_minimum_actions_are_all_present() -> None:
    minimum = {
        "bash": {"exec"},
        "file": {"read", "write", "append", "delete", "stat", "list"},
        "net": {"interfaces", "ping", "resolve", "connections", "port_check"},
        "proc": {"list", "info", "tree", "signal"},
        "systemd": {
            "status",
            "start",
            "stop",
            "restart",
            "reload",
            "enable",
            "disable",
            "list",
            "journal",
        },
        "dbus": {"list", "introspect", "call", "get_property"},
        "udev": {"list", "info", "usb", "pci", "block"},
        "crypto": {
            "sha256",
            "hmac",
            "generate_key",
            "generate_keypair",
            "sign",
            "verify",
            "encode",
            "decode",
        },
        "inotify": {"watch", "poll", "stop", "list"},
    }
    registry = ToolRegistry(reference_tools())
    offered: dict[str, set[str]] = {}
    for spec in registry.actions():
        offered.setdefault(spec.tool, set()).add(spec.action)
    for tool, actions in minimum.items():
        assert actions <= offered.get(tool, set()), (
            f"{tool} lacks {actions - offered.get(tool, set())}"
        )
