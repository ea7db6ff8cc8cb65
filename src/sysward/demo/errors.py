"""Why the demo stopped: one error type whose message says what to look at."""

from sysward.errors import SyswardError


class DemoError(SyswardError):
    """A step of the demo failed; the message names the step and where its logs are."""
