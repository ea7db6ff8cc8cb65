"""One daemon per state directory: an exclusive flock on `state_dir/syswardd.lock`.

Two writers on one event log would corrupt its seq numbering; the lock makes
the second daemon refuse to start instead, naming the pid that holds it.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path

from sysward.daemon.errors import StartupError

LOCK_FILE_NAME = "syswardd.lock"


class StateLock:
    """Held for the daemon's lifetime; released by `release()` or by process exit."""

    def __init__(self, fd: int, path: Path) -> None:
        self._fd: int | None = fd
        self.path = path

    @classmethod
    def acquire(cls, state_dir: Path) -> StateLock:
        path = state_dir / LOCK_FILE_NAME
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "unknown"
            os.close(fd)
            raise StartupError(
                f"{state_dir} is in use by another syswardd (pid {holder}); "
                "stop it first, or give this one another --state-dir"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        return cls(fd, path)

    def release(self) -> None:
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        with contextlib.suppress(OSError):
            os.ftruncate(fd, 0)
        os.close(fd)
