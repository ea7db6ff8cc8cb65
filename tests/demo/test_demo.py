"""`python -m sysward.demo` end to end: the real daemon is killed mid-turn and resumes.

Each test runs the demo as a child process, as `make demo` does, and reads its
`--json` summary rather than its prose.
"""

from __future__ import annotations

import json
import os
import select
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NamedTuple

import psutil
import pytest

from sysward.llm.scripted import error_reply

DEMO_TIMEOUT_S = 90
START_TIMEOUT_S = 20
DEMO_ENV_KEYS = ("SYSWARD_DEMO_BASE_URL", "SYSWARD_DEMO_MODEL", "SYSWARD_DEMO_API_KEY")


class DemoRun(NamedTuple):
    summary: dict[str, Any]
    story: str
    work_dir: Path


@contextmanager
def short_work_dir() -> Iterator[Path]:
    """A short path: the daemon's Unix socket lives under it (107-byte limit)."""
    path = Path(tempfile.mkdtemp(prefix="swdemo", dir="/tmp"))
    try:
        yield path
    finally:
        kill_leftovers(path)
        shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def work_dir() -> Iterator[Path]:
    with short_work_dir() as path:
        yield path


@pytest.fixture(scope="module")
def demo() -> Iterator[DemoRun]:
    """One successful demo run (about 6 s), shared by the tests that read it."""
    with short_work_dir() as path:
        done = run_demo(path)
        assert done.returncode == 0, done.stderr + done.stdout
        yield DemoRun(json.loads(done.stdout), done.stderr, path)


@contextmanager
def scripted_llm(script: list[Any], directory: Path) -> Iterator[str]:
    """`python -m sysward.llm.scripted` with a script; yields its base_url."""
    script_path = directory / "llm-script.json"
    script_path.write_text(json.dumps(script))
    command = [sys.executable, "-m", "sysward.llm.scripted", "--script", str(script_path)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert process.stdout is not None
    try:
        ready, _, _ = select.select([process.stdout], [], [], START_TIMEOUT_S)
        assert ready, "the scripted LLM server printed no base_url"
        yield process.stdout.readline().strip()
    finally:
        process.terminate()
        process.communicate(timeout=START_TIMEOUT_S)


def run_demo(work_dir: Path, **env: str) -> subprocess.CompletedProcess[str]:
    child_env = {k: v for k, v in os.environ.items() if k not in DEMO_ENV_KEYS} | env
    return subprocess.run(
        [sys.executable, "-m", "sysward.demo", "--json", "--dir", str(work_dir / "run")],
        capture_output=True,
        text=True,
        timeout=DEMO_TIMEOUT_S,
        env=child_env,
        check=False,
    )


def processes_using(path: Path) -> list[psutil.Process]:
    """Live processes whose command line names `path` (the demo's daemons and model)."""
    found = []
    for process in psutil.process_iter(["cmdline"]):
        cmdline = process.info["cmdline"] or []
        if process.pid != os.getpid() and any(str(path) in arg for arg in cmdline):
            found.append(process)
    return found


def kill_leftovers(path: Path) -> None:
    for process in processes_using(path):
        process.kill()


def test_the_turn_resumes_after_kill_9_with_nothing_done_twice(demo: DemoRun) -> None:
    summary = demo.summary
    assert summary["is_ok"], summary["problems"]
    assert summary["status"] == "completed"
    llm, tools = summary["llm_calls"], summary["tool_calls"]
    assert llm["before_crash"] == 2 and llm["after_restart"] == 3
    assert llm["before_crash"] + llm["after_restart"] == summary["steps"] == 5
    assert llm["repeated"] == 0
    assert (tools["before_crash"], tools["after_restart"], tools["repeated"]) == (2, 2, 0)


def test_the_models_own_counter_agrees_with_the_log(demo: DemoRun) -> None:
    counts = demo.summary["model_counts"]
    assert counts == {
        "answered_before_crash": 2,
        "answered_total": 5,
        "cut_off_by_crash": 1,
        "repeated_answers": 0,
    }


def test_the_story_shows_the_kill_the_log_on_disk_and_the_resume(demo: DemoRun) -> None:
    summary, story = demo.summary, demo.story
    assert "scripted demo model (no LLM)" in story
    assert "kill -9 the daemon" in story
    assert "read straight from LMDB" in story
    assert f"It resumes turn {summary['turn']}" in story
    assert "log intact" in story
    assert f"--socket {summary['socket']} chat ops" in story
    assert "Traceback" not in story


def test_the_answer_reports_real_facts_of_this_host(demo: DemoRun) -> None:
    answer = demo.summary["answer"]
    os_release = Path("/etc/os-release").read_text()
    pretty = next(line for line in os_release.splitlines() if line.startswith("PRETTY_NAME="))
    assert pretty.partition("=")[2].strip('"') in answer
    assert "lo (127.0.0.1" in answer
    assert "Processes:" in answer and "busiest:" in answer


def test_no_process_is_left_behind_and_the_state_is_kept(demo: DemoRun) -> None:
    summary = demo.summary
    assert len(summary["pids"]) == 3  # the model and two lives of the daemon
    assert not [pid for pid in summary["pids"] if psutil.pid_exists(pid)]
    assert not processes_using(demo.work_dir)
    assert (Path(summary["state_dir"]) / "events").is_dir()
    assert summary["log_verified"]


def test_a_model_that_fails_the_turn_stops_the_demo_with_a_clear_message(
    work_dir: Path,
) -> None:
    script = [error_reply(401, "invalid API key").model_dump(mode="json")]
    with scripted_llm(script, work_dir) as base_url:
        done = run_demo(
            work_dir,
            SYSWARD_DEMO_BASE_URL=base_url,
            SYSWARD_DEMO_MODEL="some-model",
            SYSWARD_DEMO_API_KEY="sk-demo-secret",
        )
    assert done.returncode == 1
    assert "The demo FAILED" in done.stderr
    assert "ended the turn before 2 tool results" in done.stderr
    assert "Traceback" not in done.stderr
    assert not processes_using(work_dir)
    config = (work_dir / "run" / "sysward.toml").read_text()
    assert 'api_key_env = "SYSWARD_DEMO_API_KEY"' in config
    assert "sk-demo-secret" not in config


def test_a_real_endpoint_from_the_environment_is_used_and_named(work_dir: Path) -> None:
    model = subprocess.Popen(
        [sys.executable, "-m", "sysward.demo.model"], stdout=subprocess.PIPE, text=True
    )
    assert model.stdout is not None
    try:
        ready, _, _ = select.select([model.stdout], [], [], START_TIMEOUT_S)
        assert ready, "the demo model printed no base_url"
        base_url = model.stdout.readline().strip()
        done = run_demo(work_dir, SYSWARD_DEMO_BASE_URL=base_url, SYSWARD_DEMO_MODEL="m-1")
    finally:
        model.terminate()
        model.communicate(timeout=START_TIMEOUT_S)
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert not summary["is_scripted_model"]
    assert summary["model"] == f"real model m-1 at {base_url}"
    assert summary["model_counts"] is None  # a real endpoint's counter is not visible
    assert summary["llm_calls"]["repeated"] == summary["tool_calls"]["repeated"] == 0
    assert summary["llm_calls"]["after_restart"] >= 1
    assert f"Using the real model m-1 at {base_url}" in done.stderr


def test_a_work_dir_with_state_already_is_refused(work_dir: Path) -> None:
    (work_dir / "run" / "state").mkdir(parents=True)
    done = run_demo(work_dir)
    assert done.returncode == 2
    assert "already holds a demo's state" in done.stderr
    assert not processes_using(work_dir)
