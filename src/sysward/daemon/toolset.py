"""The tools this daemon offers: the catalog's families, configured from settings."""

from __future__ import annotations

import os

from sysward.config import Settings
from sysward.tools import Tool
from sysward.tools.catalog import ToolOptions, build_tools
from sysward.tools.inotify.router import EventCallback

TOOL_KEYS_DIR_NAME = "tool-keys"


def tool_options(settings: Settings, on_inotify_event: EventCallback | None = None) -> ToolOptions:
    allowed = settings.policy.allowed_paths
    return ToolOptions(
        # Not the daemon's own key directory: a model must never sign checkpoints.
        key_dir=settings.daemon.state_dir / TOOL_KEYS_DIR_NAME,
        # No allowed_paths means no confinement, not "nowhere".
        file_roots=tuple(allowed) if allowed else None,
        denied_env=tuple(settings.policy.redact_env),
        # A model must not be able to signal the daemon itself.
        protected_pids=(os.getpid(),),
        on_inotify_event=on_inotify_event,
    )


def daemon_tools(settings: Settings, on_inotify_event: EventCallback | None = None) -> list[Tool]:
    return build_tools(tool_options(settings, on_inotify_event))
