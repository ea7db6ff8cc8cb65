"""The daemon's tool set: one instance of every tool family, built from a few options."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from sysward.tools.bash import BashTool
from sysward.tools.crypto import CryptoTool
from sysward.tools.dbus import DbusTool
from sysward.tools.file import FileTool
from sysward.tools.inotify import InotifyTool
from sysward.tools.inotify.router import EventCallback
from sysward.tools.net import NetTool
from sysward.tools.proc import ProcTool
from sysward.tools.systemd import SystemdTool
from sysward.tools.tool import Tool
from sysward.tools.udev import UdevTool


@dataclass(frozen=True, slots=True)
class ToolOptions:
    """What the tool families need from the daemon."""

    # Where crypto.generate_keypair writes private keys. Deliberately not the
    # daemon's own key directory: a model must never be able to sign checkpoints.
    key_dir: Path
    file_roots: tuple[Path, ...] | None = None
    denied_env: tuple[str, ...] = ()
    protected_pids: tuple[int, ...] = ()
    on_inotify_event: EventCallback | None = field(default=None, compare=False)


def build_tools(options: ToolOptions) -> list[Tool]:
    """Every tool family, in the order `GET /v1/tools` lists them."""
    return [
        BashTool(denied_env=options.denied_env),
        FileTool(roots=list(options.file_roots) if options.file_roots is not None else None),
        NetTool(),
        ProcTool(protected_pids=options.protected_pids),
        SystemdTool(),
        DbusTool(),
        UdevTool(),
        CryptoTool(options.key_dir),
        InotifyTool(on_event=options.on_inotify_event),
    ]
