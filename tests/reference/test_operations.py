"""The procedures of docs/operations.md, run as written against a real daemon."""

from __future__ import annotations

import re
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from cli.real_daemon import DAEMON, SYSWARD, RealDaemon, wait_until_serving

from .conftest import DOCS

DOC = DOCS / "operations.md"


@contextmanager
def dev_daemon(directory: Path) -> Iterator[RealDaemon]:
    """`syswardd --state-dir DIR/state` (no config file), stopped with SIGTERM."""
    state_dir = directory / "state"
    log_path = directory / f"syswardd-{len(list(directory.glob('syswardd-*')))}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [*DAEMON, "--state-dir", str(state_dir)], stdout=log, stderr=subprocess.STDOUT
        )
    daemon = RealDaemon(state_dir, state_dir / "sysward.sock", process, log_path)
    try:
        wait_until_serving(daemon)
        yield daemon
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)


def verify_offline(state_dir: Path) -> subprocess.CompletedProcess[str]:
    command = [*SYSWARD, "log", "verify", "--state-dir", str(state_dir)]
    return subprocess.run(command, capture_output=True, text=True, timeout=60)


def documented_python_copy() -> str:
    """The py-lmdb one-liner exactly as the backup section gives it."""
    match = re.search(r"python -c '([^']+)'", DOC.read_text(encoding="utf-8"))
    assert match, "docs/operations.md lost its py-lmdb backup command"
    return match.group(1)


def test_the_python_hot_copy_of_a_live_log_verifies(short_tmp: Path) -> None:
    backup = short_tmp / "backup"
    with dev_daemon(short_tmp) as daemon:
        assert daemon.sysward("status").returncode == 0
        (backup / "events").mkdir(parents=True)
        copy = [sys.executable, "-c", documented_python_copy()]
        copy += [str(daemon.state_dir / "events"), str(backup / "events")]
        subprocess.run(copy, check=True, timeout=60)
        shutil.copytree(daemon.state_dir / "keys", backup / "keys")
    result = verify_offline(backup)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("log intact")


@pytest.mark.skipif(shutil.which("mdb_copy") is None, reason="lmdb-utils is not installed")
def test_mdb_copy_of_a_live_log_verifies(short_tmp: Path) -> None:
    assert "mdb_copy -c /var/lib/sysward/events /backup/sysward/events" in DOC.read_text()
    backup = short_tmp / "backup"
    with dev_daemon(short_tmp) as daemon:
        (backup / "events").mkdir(parents=True)
        command = ["mdb_copy", "-c", str(daemon.state_dir / "events"), str(backup / "events")]
        subprocess.run(command, check=True, timeout=60)
        shutil.copytree(daemon.state_dir / "keys", backup / "keys")
    result = verify_offline(backup)
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_damaged_copy_does_not_verify(short_tmp: Path) -> None:
    backup = short_tmp / "backup"
    with dev_daemon(short_tmp) as daemon:
        (backup / "events").mkdir(parents=True)
        copy = [sys.executable, "-c", documented_python_copy()]
        copy += [str(daemon.state_dir / "events"), str(backup / "events")]
        subprocess.run(copy, check=True, timeout=60)
    data = backup / "events" / "data.mdb"
    raw = data.read_bytes()
    assert b'"topic":"daemon.started"' in raw
    data.write_bytes(raw.replace(b'"topic":"daemon.started"', b'"topic":"daemon.stArted"'))
    result = verify_offline(backup)
    assert result.returncode == 1, result.stdout + result.stderr


def test_rotating_the_signing_key_keeps_old_checkpoints_verifiable(short_tmp: Path) -> None:
    with dev_daemon(short_tmp) as daemon:
        keys = daemon.state_dir / "keys"
    (keys / "log-signing.key").rename(short_tmp / "retired-signing.key")
    with dev_daemon(short_tmp) as daemon:
        retired = list((keys / "retired").glob("*.pub"))
        online = daemon.sysward("log", "verify")
    assert len(retired) == 1
    assert (keys / "log-signing.key").is_file()
    assert online.returncode == 0, online.stdout + online.stderr
    offline = verify_offline(daemon.state_dir)
    assert offline.returncode == 0, offline.stdout + offline.stderr
    assert "checkpoints verify" in offline.stdout
