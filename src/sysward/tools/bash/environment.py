"""The environment a command runs in: a minimal known set plus the caller's checked extras.

The daemon's own environment (API keys, credentials, ``NOTIFY_SOCKET``) never
reaches a command. Policy rules match the command text, so the ``env``
argument must not change what that text runs: variables that inject code or
change how bash or the loader resolve it are always refused there (a caller
who needs one writes it into the command, where policy sees it):

- ``LD_*`` (``LD_PRELOAD``, ``LD_LIBRARY_PATH``, ``LD_AUDIT``…) and glibc's
  ``GCONV_PATH`` / ``LOCPATH`` / ``NLSPATH`` load code into every program run;
- ``BASH_ENV`` / ``ENV`` name a script bash runs before the command;
  ``SHELLOPTS`` / ``BASHOPTS`` / ``PS4`` (``xtrace`` expands it) / ``IFS`` /
  ``GLOBIGNORE`` / ``CDPATH`` / ``PROMPT_COMMAND`` / ``BASH_XTRACEFD`` change
  how bash parses and runs it;
- ``PATH`` picks which program a name such as ``ls`` runs.

The operator may deny more names (``BashTool(denied_env=...)``).
"""

from __future__ import annotations

import os
import pwd
from collections.abc import Collection, Mapping

from sysward.tools.tool import ToolFailed

SAFE_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

ALWAYS_DENIED = frozenset(
    {
        "PATH",
        "BASH_ENV",
        "ENV",
        "SHELLOPTS",
        "BASHOPTS",
        "PS4",
        "IFS",
        "GLOBIGNORE",
        "CDPATH",
        "PROMPT_COMMAND",
        "BASH_XTRACEFD",
        "GCONV_PATH",
        "LOCPATH",
        "NLSPATH",
    }
)
DENIED_PREFIXES = ("LD_",)


def home_directory() -> str:
    """HOME of the user the daemon runs as (``/`` when it has no passwd entry)."""
    try:
        return pwd.getpwuid(os.getuid()).pw_dir or "/"
    except KeyError:
        return "/"


def base_environment(home: str) -> dict[str, str]:
    """The variables every command starts with."""
    return {
        "PATH": SAFE_PATH,
        "HOME": home,
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "TERM": "dumb",
    }


def is_denied(name: str, denied: Collection[str]) -> bool:
    """True when ``name`` may not be set through the ``env`` argument."""
    return name in ALWAYS_DENIED or name.startswith(DENIED_PREFIXES) or name in denied


def command_environment(
    home: str, extra: Mapping[str, str] | None, denied: Collection[str]
) -> dict[str, str]:
    """The full environment of one command; raises ``ToolFailed`` naming refused variables."""
    refused = sorted(name for name in extra or {} if is_denied(name, denied))
    if refused:
        raise ToolFailed(
            "permission_denied",
            f"env may not set {', '.join(refused)}: these change what the command runs or are "
            "reserved by the operator; set them inside the command itself if policy allows",
            {"refused": list(refused)},
        )
    return {**base_environment(home), **(extra or {})}
