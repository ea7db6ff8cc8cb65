"""The inotify tool (``InotifyTool``) and the event it reports; see ``.actions``."""

from sysward.tools.inotify.actions import InotifyTool
from sysward.tools.inotify.models import InotifyEventOut

__all__ = ["InotifyEventOut", "InotifyTool"]
