"""Why the daemon refuses to start: each message says what to do about it."""

from sysward.errors import SyswardError


class StartupError(SyswardError):
    """The daemon cannot start (socket in use, state directory locked, bad socket)."""
