"""A real `syswardd --state-dir DIR` with the scripted LLM server, for the CLI to drive."""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sysward.control.client import ControlClient, ControlError

START_S = 20.0
STOP_S = 20.0
DAEMON = [
    sys.executable,
    "-c",
    "import sys; from sysward.daemon.main import main; sys.exit(main())",
]
SYSWARD = [sys.executable, "-m", "sysward.cli.main"]
DEFAULT_AGENTS = '[agents.ops]\nrole = "default"\n'


@dataclass
class RealDaemon:
    state_dir: Path
    socket_path: Path
    process: subprocess.Popen[bytes]
    log_path: Path

    def sysward(self, *argv: str, input: str | None = None) -> subprocess.CompletedProcess[str]:
        """Run the real CLI against this daemon."""
        command = [*SYSWARD, "--socket", str(self.socket_path), *argv]
        return subprocess.run(command, capture_output=True, text=True, input=input, timeout=60)

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=STOP_S)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


@contextmanager
def scripted_llm(script: Sequence[Any], directory: Path) -> Iterator[str]:
    """The scripted LLM server; yields its base_url; fails if the script was not followed."""
    script_path = directory / "llm-script.json"
    script_path.write_text(json.dumps(list(script)))
    command = [sys.executable, "-m", "sysward.llm.scripted", "--port", "0", "--script"]
    process = subprocess.Popen(
        [*command, str(script_path)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    assert process.stdout is not None and process.stderr is not None
    try:
        ready, _, _ = select.select([process.stdout], [], [], START_S)
        assert ready, "the scripted LLM server printed no base_url"
        yield process.stdout.readline().strip()
    finally:
        process.send_signal(signal.SIGTERM)
        code = process.wait(timeout=STOP_S)
        report = process.stderr.read()
    assert code == 0, f"the scripted LLM was not called as scripted: {report}"


def write_config(directory: Path, base_url: str, rest: str = DEFAULT_AGENTS) -> Path:
    config = directory / "sysward.toml"
    config.write_text(
        f'[llm.default]\nbase_url = "{base_url}"\nmodel = "scripted-model"\n'
        'tool_calls = "native"\ntimeout_s = 10\nmax_retries = 0\n\n' + rest
    )
    return config


@contextmanager
def real_daemon(
    directory: Path, script: Sequence[Any], *, config: str = DEFAULT_AGENTS
) -> Iterator[RealDaemon]:
    """The daemon in dev mode (everything under `directory/state`), up and answering.

    `config` follows the `[llm.default]` section that points at the scripted
    LLM server: agents, policy, whatever else the test needs.
    """
    with scripted_llm(script, directory) as base_url:
        config_path = write_config(directory, base_url, config)
        state_dir = directory / "state"
        log_path = directory / "syswardd.log"
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                [*DAEMON, "--config", str(config_path), "--state-dir", str(state_dir)],
                stdout=log,
                stderr=subprocess.STDOUT,
                env=os.environ | {"PYTHONUNBUFFERED": "1"},
            )
        daemon = RealDaemon(state_dir, state_dir / "sysward.sock", process, log_path)
        try:
            wait_until_serving(daemon)
            yield daemon
        finally:
            daemon.stop()


def wait_until_serving(daemon: RealDaemon) -> None:
    client = ControlClient(str(daemon.socket_path), timeout_s=2)
    deadline = time.monotonic() + START_S
    while time.monotonic() < deadline:
        if daemon.process.poll() is not None:
            raise AssertionError(f"syswardd exited {daemon.process.returncode}:\n{daemon.log()}")
        try:
            client.get("/v1/health")
            return
        except ControlError:
            time.sleep(0.05)
    raise AssertionError(f"syswardd did not serve within {START_S} s:\n{daemon.log()}")
