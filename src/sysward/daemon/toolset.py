"""The tools this daemon offers: the catalog's families, configured from settings."""

from __future__ import annotations

import os

from sysward.config import Settings
from sysward.tools import Tool
from sysward.tools.catalog import ToolOptions, build_tools

TOOL_KEYS_DIR_NAME = "tool-keys"


def tool_options(settings: Settings) -> ToolOptions:
    return ToolOptions(
        # Not the daemon's own key directory: a model must never sign checkpoints.
        key_dir=settings.daemon.state_dir / TOOL_KEYS_DIR_NAME,
        denied_env=tuple(settings.policy.redact_env),
        # A model must not be able to signal the daemon itself.
        protected_pids=(os.getpid(),),
    )


def daemon_tools(settings: Settings) -> list[Tool]:
    return build_tools(tool_options(settings))
