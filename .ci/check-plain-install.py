"""Start a plain install's syswardd until READY and read its tool list (stdlib only).

Run by the clean venv's python: check-plain-install.py VENV STATE_DIR. Twice: with
PATH reduced to the venv (no journalctl, no ping: a host without them), where the
journal must be listed unavailable with the reason; then with the host's PATH, where
journalctl, when the host has it, makes the journal available without systemd-python.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

READY_TIMEOUT_S = 30.0
EXIT_TIMEOUT_S = 30.0


class CheckFailed(Exception):
    """The plain install does not behave as a newcomer needs."""


def main(venv: Path, state_dir: Path) -> None:
    if importlib.util.find_spec("systemd") is not None:
        raise CheckFailed("systemd-python is importable: this venv is not a plain install")
    bare_path = str(venv / "bin")
    journal = run_daemon(venv, state_dir, bare_path)
    if journal["available"] or "python3-systemd" not in (journal["unavailable_reason"] or ""):
        raise CheckFailed(f"without systemd-python and journalctl, the journal says {journal}")
    print(f"fresh-install: journal unavailable as expected: {journal['unavailable_reason']}")
    if shutil.which("journalctl"):
        journal = run_daemon(venv, state_dir, os.environ["PATH"])
        if not journal["available"]:
            raise CheckFailed(f"journalctl is installed but the journal says {journal}")
        print("fresh-install: with journalctl on PATH the journal is available")


def run_daemon(venv: Path, state_dir: Path, path: str) -> dict[str, object]:
    """Start syswardd, wait for READY=1, print `sysward tools`, stop it; the journal action."""
    with tempfile.TemporaryDirectory() as scratch:
        notify_path = Path(scratch) / "notify"
        notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        notify.bind(str(notify_path))
        env = {**os.environ, "PATH": path, "NOTIFY_SOCKET": str(notify_path)}
        daemon = subprocess.Popen(
            [str(venv / "bin" / "syswardd"), "--state-dir", str(state_dir)], env=env
        )
        try:
            wait_ready(notify, daemon)
            sysward = [str(venv / "bin" / "sysward"), "--socket", str(state_dir / "sysward.sock")]
            shown = subprocess.run([*sysward, "tools"], env=env, capture_output=True, text=True)
            print(shown.stdout, end="")
            if shown.returncode != 0:
                raise CheckFailed(f"sysward tools exited {shown.returncode}: {shown.stderr}")
            listed = subprocess.run(
                [*sysward, "tools", "systemd", "--json"],
                env=env,
                capture_output=True,
                text=True,
                check=True,
            )
            tool = json.loads(listed.stdout)
            return next(a for a in tool["actions"] if a["name"] == "journal")
        finally:
            stop(daemon)
            notify.close()


def wait_ready(notify: socket.socket, daemon: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    notify.settimeout(0.5)
    while time.monotonic() < deadline:
        if daemon.poll() is not None:
            raise CheckFailed(f"syswardd exited with {daemon.returncode} before READY")
        try:
            if "READY=1" in notify.recv(65536).decode().split("\n"):
                return
        except TimeoutError:
            continue
    raise CheckFailed(f"syswardd sent no READY=1 within {READY_TIMEOUT_S} s")


def stop(daemon: subprocess.Popen[bytes]) -> None:
    if daemon.poll() is None:
        daemon.send_signal(signal.SIGTERM)
    try:
        code = daemon.wait(EXIT_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        daemon.kill()
        daemon.wait()
        raise CheckFailed(f"syswardd did not stop within {EXIT_TIMEOUT_S} s of SIGTERM") from None
    if code != 0:
        raise CheckFailed(f"syswardd exited with {code} after SIGTERM")


if __name__ == "__main__":
    try:
        main(Path(sys.argv[1]), Path(sys.argv[2]))
    except CheckFailed as exc:
        print(f"fresh-install: FAILED: {exc}", file=sys.stderr)
        sys.exit(1)
