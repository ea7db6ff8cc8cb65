"""The proc tool (``ProcTool``); see ``sysward.tools.proc.actions``."""

from sysward.tools.proc.actions import ProcTool

__all__ = ["ProcTool"]
