"""OS errors of file operations, translated once into failures a model can act on."""

from __future__ import annotations

import errno
import os
import stat

from sysward.tools.file.models import file_type, shown
from sysward.tools.tool import ToolFailed

# errno → (code, what to tell the model)
_FAILURES: dict[int, tuple[str, str]] = {
    errno.ENOENT: ("not_found", "no such file or directory; check the path (file.list helps)"),
    errno.EACCES: ("permission_denied", "permission denied"),
    errno.EPERM: ("permission_denied", "operation not permitted (immutable file or policy)"),
    errno.EISDIR: ("is_a_directory", "is a directory; name a file"),
    errno.ENOTDIR: ("not_a_directory", "a component of the path is not a directory"),
    errno.EEXIST: ("already_exists", "already exists"),
    errno.ENOSPC: ("no_space", "no space left on the filesystem; nothing was changed"),
    errno.EDQUOT: ("no_space", "disk quota exceeded; nothing was changed"),
    errno.EFBIG: ("no_space", "file too large for the filesystem or the process limit"),
    errno.EROFS: ("read_only_filesystem", "the filesystem is mounted read-only"),
    errno.ELOOP: ("symlink_loop", "too many levels of symlinks, or a symlink where none may be"),
    errno.ENAMETOOLONG: ("name_too_long", "a path component or the path is too long"),
    errno.EBUSY: ("busy", "the file is busy"),
    errno.ETXTBSY: ("busy", "the file is a running executable"),
}


def os_failure(exc: OSError, path: str) -> ToolFailed:
    """The ``ToolFailed`` for ``exc`` raised while acting on ``path``."""
    number = exc.errno or 0
    code, hint = _FAILURES.get(number, ("io_error", exc.strerror or type(exc).__name__))
    return ToolFailed(
        code,
        f"{shown(path)}: {hint}",
        {"path": shown(path), "errno": errno.errorcode.get(number, str(number))},
    )


def require_regular(info: os.stat_result, path: str) -> None:
    """Refuse anything but a regular file: directories, devices, FIFOs and sockets."""
    if stat.S_ISREG(info.st_mode):
        return
    kind = file_type(info.st_mode)
    if kind == "dir":
        raise ToolFailed(
            "is_a_directory",
            f"{shown(path)} is a directory; use file.list to see its entries",
            {"path": shown(path)},
        )
    raise ToolFailed(
        "not_a_regular_file",
        f"{shown(path)} is a {kind}, not a regular file; this action only handles regular files",
        {"path": shown(path), "type": kind},
    )
