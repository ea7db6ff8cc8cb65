"""Changing files: atomic whole-file writes, appends and deletes, each synced to disk.

``write_file`` never leaves a half-written file under the real name: the
content goes to a temporary file in the same directory, which gets the old
file's owner, mode and extended attributes (ACLs, security labels), is synced
and then renamed over the target; the directory is synced so the rename
survives a crash. If anything fails the temporary file is removed and the
original is untouched. A file with several hard links gets a new inode: its
other names keep the old content. Blocking: call these off the event loop.
"""

from __future__ import annotations

import errno
import hashlib
import os
import secrets
import stat
from pathlib import Path

from sysward.tools.file.confinement import Confinement
from sysward.tools.file.failures import require_regular
from sysward.tools.file.models import (
    AppendArgs,
    AppendOutput,
    DeleteOutput,
    PathArgs,
    WriteArgs,
    WriteOutput,
    file_type,
    octal_mode,
    shown,
)
from sysward.tools.tool import ToolFailed

NEW_FILE_MODE = 0o644
_CREATE_PRIVATE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
# O_NONBLOCK: opening a FIFO for writing must fail (ENXIO), not wait for a reader.
_APPEND = os.O_WRONLY | os.O_APPEND | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
# Attributes the kernel may refuse to copy (unsupported, or needing a privilege).
_UNCOPYABLE_XATTR = {errno.ENOTSUP, errno.EOPNOTSUPP, errno.EPERM, errno.EACCES}


def write_file(confinement: Confinement, args: WriteArgs) -> WriteOutput:
    """Replace (or create) a file with ``args``' content, atomically."""
    real = confinement.resolve(args.path)
    existing = _lstat_or_none(real)
    if existing is not None:
        require_regular(existing, args.path)
    else:
        _ensure_directory(real.parent, create=args.create_parents, path=args.path)
    data = args.data()
    new_mode = int(args.mode, 8) if args.mode is not None else NEW_FILE_MODE
    mode = _replace_with(real, data, existing, new_mode)
    sync_directory(real.parent)
    return WriteOutput(
        path=shown(real),
        bytes_written=len(data),
        created=existing is None,
        mode=octal_mode(mode),
        sha256=hashlib.sha256(data).hexdigest(),
    )


def _replace_with(real: Path, data: bytes, existing: os.stat_result | None, new_mode: int) -> int:
    """Put ``data`` at ``real`` through a synced temporary file; returns the mode it got."""
    temporary = real.parent / f".sysward.{secrets.token_hex(8)}.tmp"
    fd = os.open(temporary, _CREATE_PRIVATE, 0o600)
    try:
        try:
            _write_all(fd, data)
            mode = _take_attributes(fd, real, existing, new_mode)
            os.fsync(fd)
        finally:
            os.close(fd)
        temporary.replace(real)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return mode


def append_file(confinement: Confinement, args: AppendArgs) -> AppendOutput:
    """Add ``args``' content at the end of a regular file, creating it only if asked."""
    real = confinement.resolve(args.path)
    existing = _lstat_or_none(real)
    if existing is None and not args.create:
        raise ToolFailed(
            "not_found",
            f"{shown(args.path)} does not exist; pass create: true to create it",
            {"path": shown(args.path)},
        )
    if existing is not None:
        require_regular(existing, args.path)
    data = args.data()
    fd = os.open(real, _APPEND | (os.O_CREAT if existing is None else 0), NEW_FILE_MODE)
    try:
        require_regular(os.fstat(fd), args.path)
        if existing is None:
            os.fchmod(fd, NEW_FILE_MODE)  # the umask may have narrowed it
        _write_all(fd, data)
        os.fsync(fd)
        size = os.fstat(fd).st_size
    finally:
        os.close(fd)
    if existing is None:
        sync_directory(real.parent)
    return AppendOutput(
        path=shown(real), bytes_appended=len(data), size=size, created=existing is None
    )


def delete_file(confinement: Confinement, args: PathArgs) -> DeleteOutput:
    """Remove a file or a symlink (never what it points to); directories are refused."""
    real = confinement.resolve(args.path, follow_last=False)
    info = real.lstat()
    kind = file_type(info.st_mode)
    if kind == "dir":
        raise ToolFailed(
            "is_a_directory",
            f"{shown(args.path)} is a directory; file.delete removes files and symlinks only",
            {"path": shown(args.path)},
        )
    if kind not in ("file", "symlink"):
        raise ToolFailed(
            "not_a_regular_file",
            f"{shown(args.path)} is a {kind}; file.delete removes files and symlinks only",
            {"path": shown(args.path), "type": kind},
        )
    real.unlink()
    sync_directory(real.parent)
    return DeleteOutput(path=shown(real), type=kind)


def sync_directory(directory: Path) -> None:
    """Make the directory's entries (a rename, a new or removed name) durable."""
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _lstat_or_none(path: Path) -> os.stat_result | None:
    try:
        return path.lstat()
    except FileNotFoundError:
        return None


def _ensure_directory(directory: Path, *, create: bool, path: str) -> None:
    if directory.is_dir():
        return
    if directory.exists() or directory.is_symlink():
        raise ToolFailed(
            "not_a_directory",
            f"{shown(directory)} is not a directory, so {shown(path)} cannot be created in it",
            {"path": shown(path)},
        )
    if not create:
        raise ToolFailed(
            "not_found",
            f"directory {shown(directory)} does not exist; pass create_parents: true to create it",
            {"path": shown(path)},
        )
    directory.mkdir(parents=True)
    sync_directory(directory.parent)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _take_attributes(fd: int, real: Path, existing: os.stat_result | None, new_mode: int) -> int:
    """Give the temporary file the old file's owner, mode and xattrs; returns the mode set."""
    if existing is None:
        os.fchmod(fd, new_mode)  # explicit: the umask must not narrow what was asked
        return new_mode
    own = os.fstat(fd)
    if (own.st_uid, own.st_gid) != (existing.st_uid, existing.st_gid):
        try:
            os.fchown(fd, existing.st_uid, existing.st_gid)
        except PermissionError as exc:
            raise ToolFailed(
                "permission_denied",
                f"{shown(real)} belongs to uid {existing.st_uid}, gid {existing.st_gid}; "
                "replacing it would change its owner, which this process may not keep",
                {"path": shown(real)},
            ) from exc
    # After fchown, which clears setuid/setgid bits.
    os.fchmod(fd, stat.S_IMODE(existing.st_mode))
    _copy_xattrs(real, fd)
    return existing.st_mode


def _copy_xattrs(source: Path, fd: int) -> None:
    try:
        names = os.listxattr(source, follow_symlinks=False)
    except OSError as exc:
        if exc.errno in _UNCOPYABLE_XATTR:
            return
        raise
    for name in names:
        try:
            os.setxattr(fd, name, os.getxattr(source, name, follow_symlinks=False))
        except OSError as exc:
            if exc.errno not in _UNCOPYABLE_XATTR:
                raise
