"""Which paths are the system itself, and which are disks."""

from __future__ import annotations

import posixpath
import re
from fnmatch import fnmatchcase

# Deleting or re-permissioning one of these recursively breaks the machine.
SYSTEM_DIRS = (
    "/",
    "/bin", "/boot", "/dev", "/etc", "/home", "/lib", "/lib32", "/lib64", "/libx32",
    "/opt", "/proc", "/root", "/run", "/sbin", "/snap", "/srv", "/sys", "/usr", "/var",
    "/usr/bin", "/usr/sbin", "/usr/lib", "/usr/lib32", "/usr/lib64", "/usr/libexec",
    "/usr/local", "/usr/share", "/var/lib",
)  # fmt: skip

BLOCK_DEVICES = (
    "/dev/sd*", "/dev/hd*", "/dev/vd*", "/dev/xvd*", "/dev/nvme*", "/dev/mmcblk*",
    "/dev/dm-*", "/dev/md*", "/dev/mapper/*", "/dev/disk/*", "/dev/loop*", "/dev/nbd*",
    "/dev/zram*", "/dev/sr*", "/dev/bcache*", "/dev/rbd*", "/dev/root", "/dev/mem",
    "/dev/kmem", "/dev/port",
)  # fmt: skip

# Writing to these is how output is discarded or shown, not a change to the host.
HARMLESS_TARGETS = ("/dev/null", "/dev/stdout", "/dev/stderr", "/dev/tty", "/dev/fd/*")

HOME = "/root"  # syswardd runs as root: `~` is root's home
_MATCH_ALL = re.compile(r"[*?.]*\*[*?.]*")


def absolute(path: str, cwd: str | None) -> str | None:
    """`path` made absolute and normalised, or None when it depends on an unknown cwd."""
    if path == "~" or path.startswith("~/"):
        path = HOME + path[1:]
    if not path.startswith("/"):
        if cwd is None:
            return None
        path = posixpath.join(cwd, path)
    path = posixpath.normpath(path)
    return "/" + path.lstrip("/")


def is_system_path(path: str, cwd: str | None = None) -> bool:
    """Whether `path` is, or (as a glob) covers, a system directory or all of one."""
    resolved = absolute(path, cwd)
    if resolved is None:
        return False
    # `/etc/*` empties /etc just as `/etc` removes it.
    while resolved != "/" and _MATCH_ALL.fullmatch(posixpath.basename(resolved)):
        resolved = posixpath.dirname(resolved)
    return any(fnmatchcase(system_dir, resolved) for system_dir in SYSTEM_DIRS)


def is_block_device(path: str) -> bool:
    resolved = absolute(path, None)
    return resolved is not None and any(fnmatchcase(resolved, p) for p in BLOCK_DEVICES)


def is_harmless_target(path: str) -> bool:
    return path.startswith("&") or any(fnmatchcase(path, p) for p in HARMLESS_TARGETS)
