"""The control socket: inherited from systemd (socket activation) or bound by path.

Binding by path removes a stale socket file (nobody answers on it) but refuses
to start when another daemon answers there, and never deletes a file that is
not a socket. The socket is mode 0660, group `daemon.allowed_groups[0]` when
that group exists.
"""

from __future__ import annotations

import contextlib
import grp
import logging
import os
import socket
import stat
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from sysward.daemon.errors import StartupError
from sysward.daemon.service_manager import activation_fds

SOCKET_MODE = 0o660
PROBE_TIMEOUT_S = 1.0
BACKLOG = 128

_log = logging.getLogger(__name__)


@dataclass(slots=True)
class ControlListener:
    """A listening Unix stream socket; `path` is set when we bound (and must remove) it."""

    sock: socket.socket
    path: Path | None
    description: str
    _identity: tuple[int, int] | None = None  # (inode, ctime_ns): inodes get reused

    def remove_file(self) -> None:
        """Unlink the socket file if it is still the one we bound."""
        if self.path is None:
            return
        with contextlib.suppress(FileNotFoundError):
            if _identity(self.path) == self._identity:
                self.path.unlink()


def open_listener(path: Path, allowed_groups: Sequence[str]) -> ControlListener:
    """The socket systemd passed us, else `path` bound by us. Blocking: run off the loop."""
    fds = activation_fds()
    if fds:
        if len(fds) > 1:
            _log.warning(
                "systemd passed %d sockets; serving on the first (fd %d)", len(fds), fds[0]
            )
        return _inherited(fds[0])
    return _bind(path, allowed_groups)


def _inherited(fd: int) -> ControlListener:
    sock = socket.socket(fileno=fd)
    if sock.family != socket.AF_UNIX or sock.type != socket.SOCK_STREAM:
        sock.detach()
        raise StartupError(
            f"systemd passed fd {fd}, which is not a Unix stream socket; "
            "the .socket unit needs ListenStream=/run/sysward/sysward.sock"
        )
    name = sock.getsockname()
    return ControlListener(sock, None, f"fd {fd} from systemd ({name or 'unnamed'})")


def _bind(path: Path, allowed_groups: Sequence[str]) -> ControlListener:
    if not path.parent.is_dir():
        path.parent.mkdir(parents=True, mode=0o755)
    _clear_stale(path)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM | socket.SOCK_CLOEXEC)
    try:
        sock.bind(str(path))
        # Bound under the process umask (no one else can connect yet), then opened up.
        path.chmod(SOCKET_MODE)
        _set_group(path, allowed_groups)
        sock.listen(BACKLOG)
    except OSError as exc:
        sock.close()
        raise StartupError(f"{path}: cannot serve the control socket: {exc}") from None
    return ControlListener(sock, path, str(path), _identity(path))


def _identity(path: Path) -> tuple[int, int]:
    status = path.lstat()
    return status.st_ino, status.st_ctime_ns


def _clear_stale(path: Path) -> None:
    try:
        mode = path.lstat().st_mode
    except FileNotFoundError:
        return
    if not stat.S_ISSOCK(mode):
        raise StartupError(f"{path} exists and is not a socket; move it away or set daemon.socket")
    if _is_answering(path):
        raise StartupError(
            f"another syswardd is serving {path}; stop it first "
            "(systemctl stop sysward), or give this one another socket (--state-dir, daemon.socket)"
        )
    _log.info("removing stale control socket %s (nothing answers on it)", path)
    with contextlib.suppress(FileNotFoundError):
        path.unlink()


def _is_answering(path: Path) -> bool:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM | socket.SOCK_CLOEXEC) as probe:
        probe.settimeout(PROBE_TIMEOUT_S)
        try:
            probe.connect(str(path))
        except (ConnectionRefusedError, FileNotFoundError):
            return False
        except TimeoutError:
            return True  # a live daemon with a full backlog
        except OSError as exc:
            raise StartupError(f"{path}: cannot tell whether a daemon serves it: {exc}") from None
    return True


def _set_group(path: Path, allowed_groups: Sequence[str]) -> None:
    if not allowed_groups:
        return
    try:
        gid = grp.getgrnam(allowed_groups[0]).gr_gid
    except KeyError:
        _log.info("group %s does not exist; %s keeps the daemon's group", allowed_groups[0], path)
        return
    try:
        os.chown(path, -1, gid)
    except PermissionError:
        _log.warning("cannot give %s to group %s (not a member?)", path, allowed_groups[0])
