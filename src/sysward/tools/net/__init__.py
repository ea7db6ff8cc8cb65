"""The net tool (``NetTool``); see ``sysward.tools.net.actions``."""

from sysward.tools.net.actions import NetTool

__all__ = ["NetTool"]
