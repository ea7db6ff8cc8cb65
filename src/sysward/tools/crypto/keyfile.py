"""Private key files in the crypto tool's key directory.

A key file is born complete and private: it is written to a temporary file
created with ``O_CREAT | O_EXCL`` and mode 0600 (so it is never readable by
anyone else, not even for an instant), synced, then hard-linked to its final
name, which fails rather than replace an existing key. A crash leaves at worst
a stray ``.*.tmp`` file, never a truncated key under a real name.

Keys are read only from inside the directory: the requested path is resolved
(``..`` and symlinks included) and refused unless it lands inside it. The
directory is root-owned, so the remaining check-then-open window needs root.
These functions block; call them with ``asyncio.to_thread``.
"""

from __future__ import annotations

import os
import secrets
import stat
from pathlib import Path

from sysward.tools.tool import ToolFailed

MAX_KEY_FILE_BYTES = 64 * 1024
KEY_FILE_MODE = 0o600


def write_private_key(key_dir: Path, file_name: str, pem: bytes) -> Path:
    """Create ``key_dir/file_name`` holding ``pem`` with mode 0600; never replaces a file."""
    key_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    final = key_dir / file_name
    temporary = key_dir / f".{file_name}.{secrets.token_hex(8)}.tmp"
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
    fd = os.open(temporary, flags, KEY_FILE_MODE)
    try:
        try:
            os.fchmod(fd, KEY_FILE_MODE)  # the umask may have narrowed it to unreadable
            os.write(fd, pem)
            os.fsync(fd)
        finally:
            os.close(fd)
        final.hardlink_to(temporary)
    except FileExistsError as exc:
        raise ToolFailed(
            "already_exists",
            f"{final} already exists; choose another name (an existing key is never replaced)",
            {"path": str(final)},
        ) from exc
    finally:
        temporary.unlink(missing_ok=True)
    _sync_directory(key_dir)
    return final


def _sync_directory(directory: Path) -> None:
    # The new name is durable only once the directory entry is synced.
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def resolve_key_path(key_dir: Path, key_path: str) -> Path:
    """The real path of ``key_path`` (relative to ``key_dir`` or absolute), inside ``key_dir``."""
    try:
        base = key_dir.resolve()
        resolved = (base / key_path).resolve()
    except (OSError, RuntimeError) as exc:  # a symlink loop is a RuntimeError before 3.13
        raise ToolFailed(
            "invalid_input", f"cannot resolve key_path: {exc}", {"key_dir": str(key_dir)}
        ) from exc
    if resolved == base or not resolved.is_relative_to(base):
        raise ToolFailed(
            "permission_denied",
            f"key_path must name a file inside the key directory {base}; "
            f"{key_path[:256]!r} resolves to {str(resolved)[:256]!r}",
            {"key_dir": str(base)},
        )
    return resolved


def read_private_key(key_dir: Path, key_path: str) -> bytes:
    """The bytes of a key file inside ``key_dir``; refuses anything outside it."""
    path = resolve_key_path(key_dir, key_path)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except (FileNotFoundError, NotADirectoryError) as exc:
        raise ToolFailed(
            "not_found",
            f"no key file {path}; create one with crypto.generate_keypair",
            {"path": str(path)},
        ) from exc
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_KEY_FILE_BYTES:
            raise ToolFailed(
                "invalid_input",
                f"{path} is not a key file (not a regular file of at most "
                f"{MAX_KEY_FILE_BYTES} bytes)",
                {"path": str(path)},
            )
        return os.read(fd, MAX_KEY_FILE_BYTES + 1)
    finally:
        os.close(fd)
