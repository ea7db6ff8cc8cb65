"""The root of sysward's exceptions, sorted by who must act on them."""


class SyswardError(Exception):
    """Base class: an error whose message an operator can act on."""


class ConfigError(SyswardError):
    """The config file (or a role file) is invalid."""
