"""The systemd tool (``SystemdTool``); see ``sysward.tools.systemd.actions``."""

from sysward.tools.systemd.actions import SystemdTool

__all__ = ["SystemdTool"]
