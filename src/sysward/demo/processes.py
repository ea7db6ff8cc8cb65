"""The demo's two child processes: the scripted demo model and `syswardd`.

Each is a real subprocess with its output in a file of the work dir; every
wait on one is bounded, and a child that dies early fails the wait with the
tail of its log.
"""

from __future__ import annotations

import http.client
import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

from sysward.control.client import ControlClient, ControlError
from sysward.demo.errors import DemoError
from sysward.demo.model import STATS_PATH, ModelStats

START_TIMEOUT_S = 20.0
STOP_TIMEOUT_S = 15.0
POLL_INTERVAL_S = 0.05
LOG_TAIL_CHARS = 2000


def _tail(path: Path) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return "(no log)"
    return text[-LOG_TAIL_CHARS:].strip() or "(empty log)"


def _child_env() -> dict[str, str]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    # A `make demo` run from a systemd unit must not have its children talk to that unit.
    env.pop("NOTIFY_SOCKET", None)
    return env


def _stop(process: subprocess.Popen[bytes], signum: int) -> int:
    """Signal a child and reap it; SIGKILL if it outlives STOP_TIMEOUT_S."""
    if process.poll() is None:
        process.send_signal(signum)
    try:
        return process.wait(timeout=STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        process.kill()
        return process.wait(timeout=STOP_TIMEOUT_S)


class ModelProcess:
    """`python -m sysward.demo.model` in its own process."""

    def __init__(self, work_dir: Path, *, hold_step: int | None) -> None:
        self.log_path = work_dir / "demo-model.log"
        command = [sys.executable, "-m", "sysward.demo.model"]
        if hold_step is not None:
            command += ["--hold-step", str(hold_step)]
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                command,
                stdout=subprocess.PIPE,
                stderr=log,
                stdin=subprocess.DEVNULL,
                env=_child_env(),
            )
        self.base_url = self._read_base_url()

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def port(self) -> int:
        return urlsplit(self.base_url).port or 0

    def _read_base_url(self) -> str:
        stdout = self.process.stdout
        assert stdout is not None
        ready, _, _ = select.select([stdout], [], [], START_TIMEOUT_S)
        line = stdout.readline().decode().strip() if ready else ""
        if not line.startswith("http://"):
            self.stop()
            raise DemoError(
                f"the scripted demo model did not start within {START_TIMEOUT_S} s:\n"
                + _tail(self.log_path)
            )
        return line

    def stats(self) -> ModelStats:
        """The model's counters, over plain HTTP on loopback."""
        address = urlsplit(self.base_url)
        connection = http.client.HTTPConnection(address.hostname or "", address.port, timeout=5)
        try:
            connection.request("GET", STATS_PATH)
            body = connection.getresponse().read()
        except OSError as exc:
            raise DemoError(f"the scripted demo model does not answer: {exc}") from None
        finally:
            connection.close()
        return ModelStats.model_validate_json(body)

    def wait_until_holding(self, timeout_s: float) -> ModelStats:
        """Return once the model holds a request; DemoError after `timeout_s`."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            stats = self.stats()
            if stats.is_holding:
                return stats
            time.sleep(POLL_INTERVAL_S)
        raise DemoError(f"the daemon did not ask the model for the next step within {timeout_s} s")

    def stop(self) -> None:
        _stop(self.process, signal.SIGTERM)
        if self.process.stdout is not None:
            self.process.stdout.close()


class DaemonProcess:
    """`syswardd --config FILE --state-dir DIR`, unprivileged, in dev mode."""

    def __init__(self, config_path: Path, state_dir: Path, log_path: Path) -> None:
        self.state_dir = state_dir
        self.socket_path = state_dir / "sysward.sock"
        self.log_path = log_path
        command = [
            sys.executable,
            "-m",
            "sysward.daemon",
            "--config",
            str(config_path),
            "--state-dir",
            str(state_dir),
        ]
        self.started = time.monotonic()
        with log_path.open("wb") as log:
            self.process = subprocess.Popen(
                command,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=_child_env(),
            )

    @property
    def pid(self) -> int:
        return self.process.pid

    def client(self, timeout_s: float = 10.0) -> ControlClient:
        return ControlClient(str(self.socket_path), timeout_s=timeout_s)

    def wait_until_serving(self) -> float:
        """Seconds until `GET /v1/health` answered; DemoError if it never does."""
        client = self.client(timeout_s=2.0)
        deadline = self.started + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise DemoError(
                    f"syswardd exited with status {self.process.returncode} while starting "
                    f"(log {self.log_path}):\n{_tail(self.log_path)}"
                )
            try:
                client.get("/v1/health")
                return time.monotonic() - self.started
            except ControlError:
                time.sleep(POLL_INTERVAL_S)
        raise DemoError(
            f"syswardd did not answer on {self.socket_path} within {START_TIMEOUT_S} s "
            f"(log {self.log_path}):\n{_tail(self.log_path)}"
        )

    def kill(self) -> None:
        """SIGKILL: no drain, no goodbye; whatever was not durable is lost."""
        _stop(self.process, signal.SIGKILL)

    def terminate(self) -> int:
        """SIGTERM: the daemon drains and exits 0."""
        return _stop(self.process, signal.SIGTERM)

    @property
    def is_running(self) -> bool:
        return self.process.poll() is None
