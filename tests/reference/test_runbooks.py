"""The runbooks in docs/runbooks: valid shell, documented, and working against a real daemon.

The end-to-end tests run a runbook script as an operator would, against a real
`syswardd` whose model is the scripted LLM server, with the real `sysward` CLI.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import pytest

from cli.real_daemon import RealDaemon, real_daemon
from sysward.llm.scripted.script import native_call, text_completion, tool_calls_completion

from .conftest import DOCS

RUNBOOKS = DOCS / "runbooks"
SCRIPTS = sorted(path for path in RUNBOOKS.glob("*.sh") if path.name != "lib.sh")
BIN = Path(sys.executable).parent
RUN_S = 90


def test_there_are_at_least_five_runbooks_each_with_its_page() -> None:
    assert len(SCRIPTS) >= 5
    for script in SCRIPTS:
        assert script.with_suffix(".md").is_file(), f"{script.name} has no page"
        assert os.access(script, os.X_OK), f"{script.name} is not executable"
        assert "set -euo pipefail" in script.read_text()
        assert f"({script.name})" in (RUNBOOKS / "README.md").read_text()


@pytest.mark.parametrize("script", [*SCRIPTS, RUNBOOKS / "lib.sh"], ids=lambda path: path.name)
def test_script_parses(script: Path) -> None:
    result = subprocess.run(["bash", "-n", str(script)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


@pytest.mark.skipif(shutil.which("shellcheck") is None, reason="shellcheck is not installed")
@pytest.mark.parametrize("script", [*SCRIPTS, RUNBOOKS / "lib.sh"], ids=lambda path: path.name)
def test_script_passes_shellcheck(script: Path) -> None:
    result = subprocess.run(
        ["shellcheck", "-x", script.name], cwd=RUNBOOKS, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda path: path.name)
def test_too_many_arguments_is_a_usage_error(script: Path) -> None:
    result = run_runbook(script.name, ["a", "b", "c"], socket_path=Path("/nonexistent.sock"))
    assert result.returncode == 2
    assert "usage:" in result.stderr


def test_an_unreachable_daemon_exits_3_and_names_the_socket(short_tmp: Path) -> None:
    missing = short_tmp / "none.sock"
    result = run_runbook("disk-filling.sh", ["/", "0"], socket_path=missing)
    assert result.returncode == 3, result.stderr
    assert str(missing) in result.stderr


def test_below_the_threshold_the_agent_is_not_asked() -> None:
    result = run_runbook("disk-filling.sh", ["/", "100"], socket_path=Path("/nonexistent.sock"))
    assert result.returncode == 0, result.stderr
    assert "nothing to do" in result.stdout


STAT_ROOT = tool_calls_completion(native_call("file_stat", {"path": "/"}, call_id="call_stat"))
DISK_ANSWER = "The root filesystem is mostly /var/log: rotate and compress the old logs."


def test_disk_filling_hands_the_problem_to_the_agent_and_prints_its_findings(
    short_tmp: Path,
) -> None:
    script = [STAT_ROOT, text_completion(DISK_ANSWER)]
    with agent_daemon(short_tmp, script) as daemon:
        result = run_runbook("disk-filling.sh", ["/", "0"], socket_path=daemon.socket_path)
        prompts = events_of(daemon, "agent.prompt")
    assert result.returncode == 0, result.stderr
    assert "completed after 2 steps" in result.stdout
    assert 'file.stat {"path":"/"} -> ok' in result.stdout
    assert result.stdout.rstrip().endswith(DISK_ANSWER)
    [prompt] = prompts
    assert "The filesystem mounted at / is" in prompt["data"]["text"]


def test_a_pending_change_is_shown_to_the_operator_and_denied(short_tmp: Path) -> None:
    answer = "I could not look at / because the operator denied it."
    script = [STAT_ROOT, text_completion(answer)]
    ask_rule = (
        '\n[[policy.rules]]\ntool = "file"\naction = "stat"\ndecision = "ask"\n'
        'reason = "runbook test: stat needs an operator"\n'
    )
    with agent_daemon(short_tmp, script, extra=ask_rule) as daemon:
        result = run_runbook(
            "disk-filling.sh",
            ["/", "0"],
            socket_path=daemon.socket_path,
            env={"RUNBOOK_DECISION": "deny"},
        )
        decided = events_of(daemon, "agent.approval_decided")
    assert result.returncode == 0, result.stderr
    assert "ops wants to run file.stat" in result.stderr
    assert '{"path":"/"}' in result.stderr
    assert "runbook test: stat needs an operator" in result.stderr
    assert "file.stat" in result.stdout and "-> error permission_denied" in result.stdout
    assert result.stdout.rstrip().endswith(answer)
    [decision] = decided
    assert decision["data"]["decision"] == "deny"
    assert "denied by runbook operator" in decision["data"]["reason"]


def run_runbook(
    name: str,
    args: Sequence[str],
    *,
    socket_path: Path,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """The runbook as an operator runs it, with no terminal (approvals are never read from one)."""
    child_env = {
        **os.environ,
        "PATH": f"{BIN}:{os.environ.get('PATH', '/usr/bin:/bin')}",
        "SYSWARD_SOCKET": str(socket_path),
        "RUNBOOK_AGENT": "ops",
        "RUNBOOK_TIMEOUT_S": "60",
        **(env or {}),
    }
    return subprocess.run(
        [str(RUNBOOKS / name), *args],
        capture_output=True,
        text=True,
        env=child_env,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
        timeout=RUN_S,
    )


def agent_daemon(
    directory: Path, script: list[Any], *, extra: str = ""
) -> AbstractContextManager[RealDaemon]:
    """A real daemon with agent `ops` (role default) whose model follows `script`."""
    return real_daemon(directory, script, config='[agents.ops]\nrole = "default"\n' + extra)


def events_of(daemon: RealDaemon, topic: str) -> list[dict[str, Any]]:
    result = daemon.sysward("events", "--topic", topic, "--json")
    assert result.returncode == 0, result.stderr
    events: list[dict[str, Any]] = json.loads(result.stdout)["events"]
    return events
