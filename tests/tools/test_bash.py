"""The bash tool, called through the registry as a model would call it, on real processes."""

import asyncio
import os
import signal
from collections.abc import Iterator
from contextlib import suppress
from pathlib import Path

import psutil
import pytest
from pydantic import JsonValue

from sysward.tools import TOOL_RESULT, ToolErr, ToolOk, ToolRegistry
from sysward.tools.bash import BashTool
from sysward.tools.bash.environment import SAFE_PATH

WAIT_S = 10.0


@pytest.fixture
def registry() -> ToolRegistry:
    return ToolRegistry([BashTool(denied_env=["OPENAI_API_KEY"], kill_grace_s=0.3)])


@pytest.fixture
def started_pids() -> Iterator[list[int]]:
    """Pids a test learns of; any still running at teardown is SIGKILLed (even on failure)."""
    pids: list[int] = []
    yield pids
    for pid in pids:
        if is_running(pid):
            with suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


async def run(registry: ToolRegistry, **args: object) -> dict[str, JsonValue]:
    result = await registry.invoke("bash", "exec", args)
    assert isinstance(result, ToolOk), result
    assert isinstance(result.output, dict)
    return result.output


async def fail(registry: ToolRegistry, **args: object) -> ToolErr:
    result = await registry.invoke("bash", "exec", args)
    assert isinstance(result, ToolErr), result
    return result


def is_running(pid: int) -> bool:
    """True while ``pid`` is a live process (a zombie has finished running)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_bytes()
    except FileNotFoundError:
        return False
    return stat.rpartition(b")")[2].split()[0] not in (b"Z", b"X")


def pids_in(text: JsonValue) -> list[int]:
    assert isinstance(text, str)
    return [int(line) for line in text.split()]


def read_pids(path: Path) -> list[int]:
    return [int(word) for word in path.read_text().split()] if path.exists() else []


async def wait_for_pids(path: Path, count: int) -> list[int]:
    """The pids written to ``path`` once it holds ``count`` of them (bounded)."""
    async with asyncio.timeout(WAIT_S):
        while True:
            lines = await asyncio.to_thread(read_pids, path)
            if len(lines) >= count:
                return lines
            await asyncio.sleep(0.01)


# --- catalogue ---------------------------------------------------------------------------


def test_exec_is_a_write_action(registry: ToolRegistry) -> None:
    assert [(spec.action, spec.effect.value) for spec in registry.actions()] == [("exec", "write")]


# --- outcomes ----------------------------------------------------------------------------


async def test_exit_code_and_both_streams_are_reported_separately(registry: ToolRegistry) -> None:
    output = await run(registry, command="echo out; echo err >&2; exit 3")
    assert output["exit_code"] == 3
    assert output["signal"] is None
    assert output["timed_out"] is False
    assert (output["stdout"], output["stderr"]) == ("out\n", "err\n")
    assert (output["stdout_bytes"], output["stderr_bytes"]) == (4, 4)
    assert output["stdout_truncated"] is False and output["stderr_truncated"] is False
    assert isinstance(output["duration_ms"], int)


async def test_a_shell_killed_by_a_signal_reports_the_signal(registry: ToolRegistry) -> None:
    output = await run(registry, command="kill -KILL $$")
    assert output["exit_code"] is None
    assert output["signal"] == "SIGKILL"


async def test_stdin_is_empty(registry: ToolRegistry) -> None:
    output = await run(registry, command="cat; echo done", timeout_s=5)
    assert output["stdout"] == "done\n"


async def test_the_command_leads_its_own_session(registry: ToolRegistry) -> None:
    output = await run(registry, command="cut -d' ' -f6 /proc/$$/stat; echo $$")
    session, shell = pids_in(output["stdout"])
    assert session == shell


@pytest.mark.parametrize("command", ["--version", "-i", "--rcfile=/etc/passwd"])
async def test_a_command_starting_with_a_dash_is_a_command_not_bash_options(
    registry: ToolRegistry, command: str
) -> None:
    output = await run(registry, command=command)
    assert output["exit_code"] == 127
    assert f"{command}: " in str(output["stderr"])


async def test_invalid_utf8_output_is_replaced_not_an_error(registry: ToolRegistry) -> None:
    output = await run(registry, command=r"printf '\377\376ok'")
    assert output["stdout"] == "\ufffd\ufffdok"


# --- environment -------------------------------------------------------------------------


async def test_the_daemon_environment_never_reaches_the_command(
    registry: ToolRegistry, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SYSWARD_TEST_SECRET", "s3cret-value")
    output = await run(registry, command="env")
    variables = dict(line.split("=", 1) for line in str(output["stdout"]).splitlines())
    assert "s3cret-value" not in str(output["stdout"])
    assert variables["PATH"] == SAFE_PATH
    assert variables["LANG"] == variables["LC_ALL"] == "C.UTF-8"
    assert variables["TERM"] == "dumb"
    assert variables["HOME"]
    assert set(variables) <= {"PATH", "HOME", "LANG", "LC_ALL", "TERM", "PWD", "SHLVL", "_"}


async def test_extra_env_is_passed_to_the_command(registry: ToolRegistry) -> None:
    output = await run(
        registry, command='printf %s "$GREETING"', env={"GREETING": "hello -rf $(world)"}
    )
    assert output["stdout"] == "hello -rf $(world)"


@pytest.mark.parametrize(
    "name", ["LD_PRELOAD", "LD_LIBRARY_PATH", "BASH_ENV", "PATH", "IFS", "PS4", "OPENAI_API_KEY"]
)
async def test_env_that_changes_what_runs_or_is_reserved_is_refused_before_running(
    registry: ToolRegistry, tmp_path: Path, name: str
) -> None:
    marker = tmp_path / "ran"
    failure = await fail(registry, command=f"touch {marker}", env={name: "x"})
    assert failure.error.code == "permission_denied"
    assert name in failure.error.message
    assert not marker.exists()


@pytest.mark.parametrize("name", ["1X", "A-B", "A=B", "", "A B", "-rf", "Ä"])
async def test_env_names_must_be_shell_identifiers(registry: ToolRegistry, name: str) -> None:
    failure = await fail(registry, command="true", env={name: "x"})
    assert failure.error.code == "invalid_args"


@pytest.mark.parametrize(
    "env",
    [
        {f"V{index}": "x" for index in range(65)},
        {"BIG": "x" * (32 * 1024 + 1)},
        {f"V{index}": "x" * 30_000 for index in range(3)},
        {"NUL": "a\x00b"},
        {"SURROGATE": "\ud800"},
    ],
    ids=["too-many", "value-too-long", "total-too-big", "nul", "lone-surrogate"],
)
async def test_env_is_bounded_and_clean(registry: ToolRegistry, env: dict[str, str]) -> None:
    failure = await fail(registry, command="true", env=env)
    assert failure.error.code == "invalid_args"
    assert len(TOOL_RESULT.dump_json(failure)) < 2000


# --- argument validation -----------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        {},
        {"command": 123},
        {"command": ""},
        {"command": "x" * (64 * 1024 + 1)},
        {"command": "€" * 30_000},  # 90,000 bytes of UTF-8 in 30,000 characters
        {"command": "echo a\x00b"},
        {"command": "true", "timeout_s": 0},
        {"command": "true", "timeout_s": -1},
        {"command": "true", "timeout_s": 3601},
        {"command": "true", "timeout_s": "soon"},
        {"command": "true", "cwd": "tmp"},
        {"command": "true", "cwd": "-rf"},
        {"command": "true", "max_output_bytes": 10},
        {"command": "true", "shell": "/bin/sh"},
    ],
    ids=lambda args: ",".join(f"{key}={str(value)[:12]}" for key, value in args.items()),
)
async def test_invalid_arguments_are_refused(
    registry: ToolRegistry, args: dict[str, object]
) -> None:
    result = await registry.invoke("bash", "exec", args)
    assert isinstance(result, ToolErr) and result.error.code == "invalid_args"
    assert len(TOOL_RESULT.dump_json(result)) < 2000


async def test_runs_in_the_requested_directory(registry: ToolRegistry, tmp_path: Path) -> None:
    output = await run(registry, command="pwd", cwd=str(tmp_path))
    assert output["stdout"] == f"{tmp_path}\n"


@pytest.mark.parametrize("kind", ["missing", "file"])
async def test_cwd_must_be_an_existing_directory(
    registry: ToolRegistry, tmp_path: Path, kind: str
) -> None:
    cwd = tmp_path / "nope"
    if kind == "file":
        cwd.write_text("")
    failure = await fail(registry, command="true", cwd=str(cwd))
    assert failure.error.code == "not_found"


# --- timeouts and cleanup ----------------------------------------------------------------


async def test_timeout_returns_the_output_so_far(registry: ToolRegistry) -> None:
    output = await run(registry, command="echo before; echo oops >&2; sleep 30", timeout_s=0.3)
    assert output["timed_out"] is True
    assert output["exit_code"] is None and output["signal"] == "SIGTERM"
    assert (output["stdout"], output["stderr"]) == ("before\n", "oops\n")


async def test_timeout_kills_background_jobs_and_grandchildren(
    registry: ToolRegistry, started_pids: list[int]
) -> None:
    command = "sleep 30 & echo $!; sleep 30 & echo $!; (sleep 30 & echo $!; wait) & wait"
    output = await run(registry, command=command, timeout_s=0.5)
    started_pids.extend(pids_in(output["stdout"]))
    assert output["timed_out"] is True
    assert len(started_pids) == 3
    assert [pid for pid in started_pids if is_running(pid)] == []
    assert output["processes_left"] == 0


async def test_timeout_kills_jobs_that_left_the_process_group(
    registry: ToolRegistry, started_pids: list[int]
) -> None:
    # With job control on, bash puts each background job in a process group of its own.
    output = await run(registry, command="set -m; sleep 30 & echo $!; wait", timeout_s=0.5)
    started_pids.extend(pids_in(output["stdout"]))
    assert started_pids and not any(is_running(pid) for pid in started_pids)


async def test_timeout_kills_jobs_that_left_the_session(
    registry: ToolRegistry, started_pids: list[int]
) -> None:
    # setsid moves the job out of the command's session; its parent is still the shell.
    command = "setsid sleep 30 >/dev/null 2>&1 < /dev/null & echo $!; wait"
    output = await run(registry, command=command, timeout_s=0.5)
    started_pids.extend(pids_in(output["stdout"]))
    assert output["timed_out"] is True
    assert started_pids and not any(is_running(pid) for pid in started_pids)


async def test_processes_ignoring_sigterm_are_killed_after_the_grace(
    registry: ToolRegistry, started_pids: list[int]
) -> None:
    output = await run(
        registry, command="trap '' TERM; sleep 30 & echo $!; wait; sleep 30", timeout_s=0.3
    )
    started_pids.extend(pids_in(output["stdout"]))
    assert output["signal"] == "SIGKILL"
    assert not any(is_running(pid) for pid in started_pids)


async def test_a_detached_background_job_outlives_a_command_that_exits(
    registry: ToolRegistry, started_pids: list[int]
) -> None:
    # Only a timeout or a cancellation kills the session; a job that let go of
    # the output pipes was started on purpose (the fixture stops it).
    output = await run(registry, command="sleep 30 >/dev/null 2>&1 & echo $!", timeout_s=10)
    started_pids.extend(pids_in(output["stdout"]))
    assert output["exit_code"] == 0 and output["timed_out"] is False
    assert all(is_running(pid) for pid in started_pids)


async def test_cancelling_the_call_kills_every_process_before_it_ends(
    registry: ToolRegistry, tmp_path: Path, started_pids: list[int]
) -> None:
    pid_file = tmp_path / "pids"
    command = f"echo $$ > {pid_file}; sleep 30 & echo $! >> {pid_file}; wait"
    call = asyncio.create_task(registry.invoke("bash", "exec", {"command": command}))
    try:
        started_pids.extend(await wait_for_pids(pid_file, 2))
        assert all(is_running(pid) for pid in started_pids)
    finally:
        call.cancel()
    with pytest.raises(asyncio.CancelledError):
        await call
    assert not any(is_running(pid) for pid in started_pids)


async def test_the_registry_deadline_kills_the_command(
    registry: ToolRegistry, tmp_path: Path, started_pids: list[int]
) -> None:
    pid_file = tmp_path / "pids"
    command = f"echo $$ > {pid_file}; sleep 30 & echo $! >> {pid_file}; wait"
    result = await registry.invoke("bash", "exec", {"command": command}, timeout_s=0.5)
    started_pids.extend(await asyncio.to_thread(read_pids, pid_file))
    assert isinstance(result, ToolErr) and result.error.code == "timeout"
    assert len(started_pids) == 2 and not any(is_running(pid) for pid in started_pids)


async def test_a_running_command_does_not_block_the_event_loop(registry: ToolRegistry) -> None:
    ticks = 0

    async def tick() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    async with asyncio.TaskGroup() as group:
        ticker = group.create_task(tick())
        output = await run(registry, command="sleep 0.5")
        ticker.cancel()
    assert output["exit_code"] == 0
    assert ticks >= 10


# --- output caps -------------------------------------------------------------------------


async def test_huge_output_is_counted_but_only_head_and_tail_kept(registry: ToolRegistry) -> None:
    output = await run(registry, command="yes | head -c 50000000")
    assert output["exit_code"] == 0
    assert output["stdout_bytes"] == 50_000_000
    assert output["stdout_truncated"] is True
    stdout = str(output["stdout"])
    assert stdout.startswith("y\ny\n") and stdout.endswith("y\ny\n")
    assert "output truncated: 50000000 bytes" in stdout
    assert len(stdout) <= 16 * 1024 + 200


async def test_head_and_tail_are_the_start_and_end_of_the_output(registry: ToolRegistry) -> None:
    output = await run(registry, command="seq 1 100000", max_output_bytes=1024)
    stdout = str(output["stdout"])
    assert stdout.startswith("1\n2\n3\n")
    assert stdout.endswith("99999\n100000\n")
    assert output["stdout_bytes"] == len("\n".join(map(str, range(1, 100001)))) + 1


async def test_endless_output_keeps_memory_flat_until_the_timeout(registry: ToolRegistry) -> None:
    process = psutil.Process()
    baseline = process.memory_info().rss
    peak = baseline

    async def sample() -> None:
        nonlocal peak
        while True:
            peak = max(peak, process.memory_info().rss)
            await asyncio.sleep(0.02)

    async with asyncio.TaskGroup() as group:
        sampler = group.create_task(sample())
        output = await run(registry, command="yes", timeout_s=1)
        sampler.cancel()
    assert output["timed_out"] is True
    produced = output["stdout_bytes"]
    assert isinstance(produced, int) and produced > 50_000_000
    assert peak - baseline < produced // 4


async def test_binary_output_stays_under_the_registry_cap(registry: ToolRegistry) -> None:
    # Control characters cost six bytes each in JSON; 16 KiB of them would be 96 KiB.
    result = await registry.invoke(
        "bash", "exec", {"command": "head -c 100000 /dev/zero | tr '\\0' '\\1' | tee /dev/stderr"}
    )
    assert isinstance(result, ToolOk), result
    assert len(TOOL_RESULT.dump_json(result)) < registry.max_output_bytes
