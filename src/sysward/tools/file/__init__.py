"""The file tool (``FileTool``); see ``sysward.tools.file.actions``."""

from sysward.tools.file.actions import FileTool

__all__ = ["FileTool"]
