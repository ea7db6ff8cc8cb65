"""A real, isolated ``systemd --user`` (optionally with its own journald) for the systemd tests.

The recipe of /work/shared/notes/real-systemd-for-tests.md: the launcher first
moves itself into a cgroup2 directory of its own, then starts systemd in a
cgroup namespace with a private cgroup2 mount and a tmpfs on /run/systemd, so
it can never take over the machine's processes. With ``with_journal`` a
journald runs in the same mount namespace with tmpfs on /run/log and
/var/log/journal (volatile storage, no kmsg, audit, syslog or wall), in a
sibling cgroup, so it tags the manager's units with ``_SYSTEMD_USER_UNIT``;
the test reads its files through ``/proc/<journald pid>/root``.

Ready when the manager sends READY=1 on a notify socket; teardown SIGTERMs the
manager, kills what is left with ``cgroup.kill`` and removes the cgroup
directories bottom-up, whatever the test did.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

SYSTEMD = Path("/lib/systemd/systemd")
JOURNALD = Path("/lib/systemd/systemd-journald")
START_TIMEOUT_S = 10.0
STOP_TIMEOUT_S = 10.0
USER_CGROUP = "user.slice/user-0.slice/user@0.service"
CGROUP_PREFIX = "sysward-test-systemd-"  # ours alone: only these are ever swept

UNITS = {
    "sleeper.service": """[Unit]
Description=Sleeps until stopped
[Service]
ExecStart=/bin/sleep infinity
ExecReload=/bin/true
[Install]
WantedBy=default.target
""",
    "failing.service": """[Unit]
Description=Always fails
[Service]
Type=oneshot
ExecStart=/bin/false
""",
    "slow.service": """[Unit]
Description=A oneshot that takes longer than the tests wait
[Service]
Type=oneshot
ExecStart=/bin/sleep 60
""",
    # The loggers write with shell builtins and stay alive: journald reads the
    # unit of each writer from /proc/<pid>/cgroup and loses it for a writer that
    # already exited (a short-lived child such as `seq` would race it).
    "talker.service": """[Unit]
Description=Logs two lines and an error
[Service]
ExecStart=/bin/sh -c 'echo first line; echo second line; echo "<3>an error line"; \\
  exec sleep infinity'
""",
    "chatty.service": """[Unit]
Description=Logs 300 numbered lines
[Service]
ExecStart=/bin/sh -c 'i=1; while [ $$i -le 300 ]; do echo "line $$i"; i=$$((i + 1)); done; \\
  exec sleep infinity'
""",
    "longline.service": """[Unit]
Description=Logs one line of 5000 characters
[Service]
ExecStart=/bin/sh -c 'printf "%%05000d\\n" 0; exec sleep infinity'
""",
}

_LAUNCHER = """set -eu
echo $$ > "$CGROUP/cgroup.procs"
exec unshare --cgroup --mount --propagation private sh -eu -c '
mount -t cgroup2 cgroup2 /sys/fs/cgroup
mount -t tmpfs tmpfs /run/systemd
mkdir /run/systemd/system
if [ "$WITH_JOURNAL" = 1 ]; then
  mount -t tmpfs tmpfs /run/log
  mount -t tmpfs tmpfs /var/log/journal
  mkdir /run/systemd/journald.conf.d
  printf "[Journal]\\nStorage=volatile\\nReadKMsg=no\\nAudit=no\\nForwardToSyslog=no\\n\\
ForwardToKMsg=no\\nForwardToConsole=no\\nForwardToWall=no\\n" \\
    > /run/systemd/journald.conf.d/test.conf
  mkdir /sys/fs/cgroup/journald.scope
  procs=/sys/fs/cgroup/journald.scope/cgroup.procs
  sh -c "echo \\$\\$ > $procs; exec env -u NOTIFY_SOCKET $JOURNALD" \\
    </dev/null >"$RT/journald.log" 2>&1 &
  echo $! > "$RT/journald.pid"
  i=0  # journald creates its sockets within milliseconds; bounded wait for them
  while [ ! -S /run/systemd/journal/stdout ] && [ $i -lt 500 ]; do sleep 0.01; i=$((i+1)); done
fi
mkdir -p /sys/fs/cgroup/$USER_CGROUP
echo $$ > /sys/fs/cgroup/$USER_CGROUP/cgroup.procs
exec unshare --cgroup --mount --propagation private sh -eu -c "
umount -l /sys/fs/cgroup
mount -t cgroup2 cgroup2 /sys/fs/cgroup
exec $SYSTEMD --user"'
"""


@dataclass
class UserManager:
    """A running isolated ``systemd --user`` and where to reach it."""

    runtime_dir: Path
    cgroup: Path
    process: subprocess.Popen[bytes]
    has_journal: bool

    @property
    def address(self) -> str:
        """Its session bus (socket-activated by the manager itself)."""
        return f"unix:path={self.runtime_dir}/bus"

    @property
    def unit_dir(self) -> Path:
        return self.runtime_dir / "config" / "systemd" / "user"

    @property
    def journal_dir(self) -> Path:
        """The journald's /run/log/journal, seen from outside its mount namespace."""
        pid = (self.runtime_dir / "journald.pid").read_text().strip()
        return Path(f"/proc/{pid}/root/run/log/journal")

    @property
    def journal_socket(self) -> Path:
        """The journald's native-protocol socket, seen from outside its mount namespace."""
        return self.journal_dir.parents[1] / "systemd" / "journal" / "socket"

    def stop(self) -> None:
        """SIGTERM the manager, kill the rest of the cgroup, remove the cgroup dirs."""
        with contextlib.suppress(ProcessLookupError):
            self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=STOP_TIMEOUT_S)
        remove_cgroup(self.cgroup)


def cgroup2_root() -> Path | None:
    """Where a cgroup2 hierarchy is mounted: the hybrid /sys/fs/cgroup/unified or the root."""
    for path in (Path("/sys/fs/cgroup/unified"), Path("/sys/fs/cgroup")):
        if (path / "cgroup.controllers").exists():  # only cgroup2 has this file
            return path
    return None


def remove_cgroup(cgroup: Path) -> None:
    """Kill every process in ``cgroup`` and remove it and its children, deepest first."""
    if not cgroup.exists():
        return
    (cgroup / "cgroup.kill").write_text("1")
    deadline = time.monotonic() + STOP_TIMEOUT_S
    # cgroup.kill is asynchronous: the directories can go once "populated 0" shows.
    while "populated 1" in (cgroup / "cgroup.events").read_text():
        if time.monotonic() > deadline:
            raise RuntimeError(f"processes in {cgroup} survived cgroup.kill")
        time.sleep(0.005)
    for directory in sorted((p for p, _, _ in os.walk(cgroup)), key=len, reverse=True):
        Path(directory).rmdir()


def remove_stale_cgroups(cgroup_root: Path) -> None:
    """Remove what a killed test run (its pid is in the name) could not clean up."""
    for cgroup in cgroup_root.glob(f"{CGROUP_PREFIX}*"):
        creator = int(cgroup.name.removeprefix(CGROUP_PREFIX).split("-")[0])
        try:
            os.kill(creator, 0)
        except ProcessLookupError:
            remove_cgroup(cgroup)


def start_user_manager(root: Path, *, with_journal: bool) -> UserManager:
    """Start the isolated manager under ``root``; returns once it reported READY=1."""
    skip_unless_possible(with_journal)
    cgroup_root = cgroup2_root()
    assert cgroup_root is not None
    runtime_dir = root / "rt"
    unit_dir = runtime_dir / "config" / "systemd" / "user"
    unit_dir.mkdir(parents=True)
    runtime_dir.chmod(0o700)
    for name, text in UNITS.items():
        (unit_dir / name).write_text(text)
    remove_stale_cgroups(cgroup_root)
    cgroup = cgroup_root / f"{CGROUP_PREFIX}{os.getpid()}-{time.monotonic_ns()}"
    cgroup.mkdir()
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as notify:
        notify.bind(str(runtime_dir / "notify"))
        try:
            process = _launch(runtime_dir, cgroup, with_journal)
        except BaseException:
            remove_cgroup(cgroup)
            raise
        manager = UserManager(runtime_dir, cgroup, process, with_journal)
        try:
            _await_ready(notify, process)
        except BaseException:
            manager.stop()
            raise
    return manager


def skip_unless_possible(with_journal: bool) -> None:
    """Skip the test, saying why, where an isolated manager cannot run."""
    if os.geteuid() != 0:
        pytest.skip("needs root: mounts and cgroups for an isolated systemd --user")
    if cgroup2_root() is None:
        pytest.skip("no cgroup2 hierarchy at /sys/fs/cgroup/unified or /sys/fs/cgroup")
    needed = [SYSTEMD, JOURNALD] if with_journal else [SYSTEMD]
    if missing := [str(path) for path in needed if not path.exists()] + [
        tool for tool in ("unshare",) if shutil.which(tool) is None
    ]:
        pytest.skip(f"missing {', '.join(missing)} (make deps-system installs systemd)")


def _launch(runtime_dir: Path, cgroup: Path, with_journal: bool) -> subprocess.Popen[bytes]:
    env = {
        "PATH": os.environ.get("PATH", "/usr/sbin:/usr/bin:/sbin:/bin"),
        "HOME": str(runtime_dir),
        "XDG_RUNTIME_DIR": str(runtime_dir),
        "XDG_CONFIG_HOME": str(runtime_dir / "config"),
        "DBUS_SESSION_BUS_ADDRESS": f"unix:path={runtime_dir}/bus",
        "NOTIFY_SOCKET": str(runtime_dir / "notify"),
        "CGROUP": str(cgroup),
        "RT": str(runtime_dir),
        "WITH_JOURNAL": "1" if with_journal else "0",
        "JOURNALD": str(JOURNALD),
        "SYSTEMD": str(SYSTEMD),
        "USER_CGROUP": USER_CGROUP,
    }
    with (runtime_dir / "manager.log").open("wb") as log:
        return subprocess.Popen(
            ["sh", "-c", _LAUNCHER],
            env=env,
            start_new_session=True,  # signals to the test's process group never reach it
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )


def _await_ready(notify: socket.socket, process: subprocess.Popen[bytes]) -> None:
    notify.settimeout(START_TIMEOUT_S)
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        try:
            message = notify.recv(4096)
        except TimeoutError:
            break
        if b"READY=1" in message.split(b"\n"):
            return
    log = (Path(notify.getsockname()).parent / "manager.log").read_text(errors="replace")
    raise RuntimeError(
        f"systemd --user (exit code {process.poll()}) sent no READY=1 within "
        f"{START_TIMEOUT_S} s; its log:\n{log[-2000:]}"
    )


@pytest.fixture
def user_manager(tmp_path: Path) -> Iterator[UserManager]:
    """An isolated systemd --user with the test units of ``UNITS``; no journal."""
    manager = start_user_manager(tmp_path, with_journal=False)
    try:
        yield manager
    finally:
        manager.stop()


@pytest.fixture
def journaled_user_manager(tmp_path: Path) -> Iterator[UserManager]:
    """Like ``user_manager``, with a private journald collecting the units' output."""
    manager = start_user_manager(tmp_path, with_journal=True)
    try:
        yield manager
    finally:
        manager.stop()
