"""The udev tool (``UdevTool``); see ``sysward.tools.udev.actions``."""

from sysward.tools.udev.actions import UdevTool

__all__ = ["UdevTool"]
