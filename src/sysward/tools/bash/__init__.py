"""The bash tool (``BashTool``); see ``sysward.tools.bash.actions``."""

from sysward.tools.bash.actions import BashTool

__all__ = ["BashTool"]
