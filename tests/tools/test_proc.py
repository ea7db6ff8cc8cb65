"""The proc tool, called through the registry as a model would call it, on real processes."""

import asyncio
import os
import select
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import psutil
import pytest
from pydantic import JsonValue

from sysward.tools import TOOL_RESULT, ToolErr, ToolOk, ToolRegistry
from sysward.tools.proc import ProcTool
from sysward.tools.proc.listing import MAX_OUTPUT_BYTES
from sysward.tools.proc.signals import daemon_lineage

WAIT_S = 10.0

# A parent with two `sleep` children: prints their pids, then on stdin EOF kills and reaps them.
FAMILY = """
import subprocess, sys
kids = [subprocess.Popen(["sleep", "300"]) for _ in range(2)]
print(*[kid.pid for kid in kids], flush=True)
sys.stdin.read()
for kid in kids:
    kid.kill()
    kid.wait()
"""

# Ignores SIGTERM, so a TERM leaves it alive.
STUBBORN = """
import signal, sys
signal.signal(signal.SIGTERM, signal.SIG_IGN)
print("ready", flush=True)
sys.stdin.read()
"""

BUSY = "while True: pass"

# What refusal tests send: should a guard ever fail, CONT to a running process does nothing.
HARMLESS = "CONT"


@pytest.fixture
def registry() -> ToolRegistry:
    return ToolRegistry([ProcTool()])


def stop(process: subprocess.Popen[str]) -> None:
    """Kill and reap a process a fixture started (it may already be gone); close its pipes."""
    process.kill()
    process.wait(timeout=WAIT_S)
    for pipe in (process.stdin, process.stdout):
        if pipe is not None:
            pipe.close()


def read_line(process: subprocess.Popen[str]) -> str:
    """The child's first line of output, within WAIT_S."""
    assert process.stdout is not None
    ready, _, _ = select.select([process.stdout], [], [], WAIT_S)
    assert ready, "child printed nothing in time"
    return process.stdout.readline()


@pytest.fixture
def sleeper() -> Iterator[subprocess.Popen[str]]:
    process = subprocess.Popen(["sleep", "300"], text=True)
    try:
        yield process
    finally:
        stop(process)


@pytest.fixture
def dead_pid() -> int:
    """The pid of a process that has exited and been reaped."""
    gone = subprocess.Popen(["true"])
    gone.wait(timeout=WAIT_S)
    return gone.pid


@pytest.fixture
def zombie() -> Iterator[int]:
    """The pid of a child that has exited and is not reaped yet."""
    process = subprocess.Popen(["true"])
    try:
        os.waitid(os.P_PID, process.pid, os.WEXITED | os.WNOWAIT)  # exited, left unreaped
        yield process.pid
    finally:
        process.wait(timeout=WAIT_S)


@pytest.fixture
def busy() -> Iterator[subprocess.Popen[str]]:
    """A python spinning on one CPU."""
    process = subprocess.Popen([sys.executable, "-c", BUSY], text=True)
    try:
        yield process
    finally:
        stop(process)


@pytest.fixture
def stubborn() -> Iterator[subprocess.Popen[str]]:
    """A python that ignores SIGTERM, past the point where it installed that."""
    process = subprocess.Popen(
        [sys.executable, "-c", STUBBORN], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        read_line(process)
        yield process
    finally:
        stop(process)


@pytest.fixture
def family() -> Iterator[tuple[subprocess.Popen[str], list[int]]]:
    """A python parent and the pids of its two sleeping children."""
    process = subprocess.Popen(
        [sys.executable, "-c", FAMILY], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        yield process, sorted(int(pid) for pid in read_line(process).split())
    finally:
        assert process.stdin is not None
        process.stdin.close()  # the parent kills and reaps its children on EOF
        try:
            process.wait(timeout=WAIT_S)
        finally:
            stop(process)


async def call(registry: ToolRegistry, action: str, **args: object) -> dict[str, JsonValue]:
    result = await registry.invoke("proc", action, args)
    assert isinstance(result, ToolOk), result
    assert isinstance(result.output, dict)
    return result.output


async def fail(registry: ToolRegistry, action: str, **args: object) -> ToolErr:
    result = await registry.invoke("proc", action, args)
    assert isinstance(result, ToolErr), result
    return result


def entries(output: dict[str, JsonValue]) -> list[dict[str, JsonValue]]:
    processes = output["processes"]
    assert isinstance(processes, list)
    return [entry for entry in processes if isinstance(entry, dict)]


def by_pid(output: dict[str, JsonValue], pid: int) -> dict[str, JsonValue]:
    return next(entry for entry in entries(output) if entry["pid"] == pid)


async def wait_for_child(pid: int, event: int) -> None:
    """Return once our child ``pid`` has stopped/continued (``event``) or exited; bounded.

    WNOWAIT leaves the child's state for its Popen to reap at teardown.
    """
    async with asyncio.timeout(WAIT_S):
        await asyncio.to_thread(os.waitid, os.P_PID, pid, event | os.WEXITED | os.WNOWAIT)


# --- catalogue ---------------------------------------------------------------------------


def test_proc_offers_the_spec_actions_with_their_effects(registry: ToolRegistry) -> None:
    effects = {spec.action: spec.effect.value for spec in registry.actions()}
    assert effects == {"list": "read", "info": "read", "tree": "read", "signal": "write"}


# --- list --------------------------------------------------------------------------------


async def test_list_finds_a_process_by_name_with_its_fields(
    registry: ToolRegistry, sleeper: subprocess.Popen[str]
) -> None:
    output = await call(registry, "list", name="sleep", limit=500)
    entry = by_pid(output, sleeper.pid)
    assert entry["name"] == "sleep"
    assert entry["ppid"] == os.getpid()
    assert entry["user"] == psutil.Process().username()
    assert entry["cmdline"] == "sleep 300"
    assert isinstance(entry["rss_bytes"], int) and entry["rss_bytes"] > 0
    assert isinstance(entry["cpu_percent"], float)
    assert isinstance(entry["create_time"], str)
    assert datetime.fromisoformat(entry["create_time"]).tzinfo is not None
    assert output["cpu_sample_s"] == 0.15
    assert all("sleep" in str(item["name"]).lower() for item in entries(output))


async def test_list_name_filter_takes_a_glob(
    registry: ToolRegistry, sleeper: subprocess.Popen[str]
) -> None:
    output = await call(registry, "list", name="SLE?P", limit=500)
    assert sleeper.pid in [entry["pid"] for entry in entries(output)]
    assert all(entry["name"] == "sleep" for entry in entries(output))


async def test_list_with_no_match_is_empty_not_an_error(registry: ToolRegistry) -> None:
    output = await call(registry, "list", name="no-such-process-*-here")
    assert output["processes"] == [] and output["total"] == 0
    assert output["truncated"] is False


async def test_list_user_filter_keeps_only_that_user(
    registry: ToolRegistry, sleeper: subprocess.Popen[str]
) -> None:
    me = psutil.Process().username()
    mine = await call(registry, "list", user=me, sort_by="pid", limit=500)
    assert sleeper.pid in [entry["pid"] for entry in entries(mine)]
    assert {entry["user"] for entry in entries(mine)} == {me}
    others = await call(registry, "list", user="sysward-no-such-user", limit=500)
    assert others["total"] == 0


async def test_list_limit_truncates_and_reports_the_total(registry: ToolRegistry) -> None:
    output = await call(registry, "list", limit=2)
    assert len(entries(output)) == 2
    assert isinstance(output["total"], int) and output["total"] > 2
    assert output["truncated"] is True


@pytest.mark.parametrize(
    ("sort_by", "field", "descending"),
    [("pid", "pid", False), ("memory", "rss_bytes", True), ("cpu", "cpu_percent", True)],
)
async def test_list_sorts_by_the_requested_key(
    registry: ToolRegistry, sort_by: str, field: str, descending: bool
) -> None:
    output = await call(registry, "list", sort_by=sort_by, limit=500)
    values = [entry[field] for entry in entries(output) if entry[field] is not None]
    assert values == sorted(values, reverse=descending)  # type: ignore[type-var]


async def test_list_sorts_by_name_case_insensitively(registry: ToolRegistry) -> None:
    output = await call(registry, "list", sort_by="name", limit=500)
    names = [str(entry["name"]).lower() for entry in entries(output) if entry["name"]]
    assert names == sorted(names)


async def test_list_measures_cpu_of_a_busy_process(
    registry: ToolRegistry, busy: subprocess.Popen[str]
) -> None:
    output = await call(registry, "list", sort_by="pid", limit=500)
    entry = by_pid(output, busy.pid)
    assert isinstance(entry["cpu_percent"], float) and entry["cpu_percent"] > 1.0


async def test_list_of_500_stays_under_the_result_cap(registry: ToolRegistry) -> None:
    result = await registry.invoke("proc", "list", {"limit": 500})
    assert isinstance(result, ToolOk)
    assert len(TOOL_RESULT.dump_json(result)) < MAX_OUTPUT_BYTES + 1024


@pytest.mark.parametrize(
    "args",
    [
        {"limit": 0},
        {"limit": 501},
        {"limit": "many"},
        {"sort_by": "rss"},
        {"name": ""},
        {"name": "x" * 257},
        {"name": "ngi\x00nx"},
        {"user": "-rf"},
        {"user": "root root"},
        {"pid": 1},
    ],
)
async def test_list_refuses_bad_arguments(registry: ToolRegistry, args: dict[str, object]) -> None:
    assert (await fail(registry, "list", **args)).error.code == "invalid_args"


# --- info --------------------------------------------------------------------------------


async def test_info_describes_a_process(
    registry: ToolRegistry, sleeper: subprocess.Popen[str]
) -> None:
    output = await call(registry, "info", pid=sleeper.pid)
    assert output["name"] == "sleep"
    assert output["cmdline"] == ["sleep", "300"]
    assert output["ppid"] == os.getpid()
    assert output["parent_name"] == psutil.Process().name()
    assert output["children"] == []
    assert output["cwd"] == str(Path.cwd())
    assert isinstance(output["exe"], str) and output["exe"].endswith("sleep")
    memory = output["memory"]
    assert isinstance(memory, dict) and isinstance(memory["rss_bytes"], int)
    assert isinstance(output["cpu_times"], dict) and "user_s" in output["cpu_times"]
    assert isinstance(output["num_fds"], int) and output["num_fds"] >= 3
    assert output["connections_count"] == 0
    assert isinstance(output["cgroups"], list) and output["cgroups"]
    assert isinstance(output["uids"], dict) and output["uids"]["effective"] == os.geteuid()


async def test_info_never_shows_the_environment(
    registry: ToolRegistry, sleeper: subprocess.Popen[str]
) -> None:
    result = await registry.invoke("proc", "info", {"pid": sleeper.pid})
    wire = TOOL_RESULT.dump_json(result).decode()
    assert "environ" not in wire and os.environ["PATH"] not in wire


async def test_info_lists_the_children(
    registry: ToolRegistry, family: tuple[subprocess.Popen[str], list[int]]
) -> None:
    parent, kids = family
    output = await call(registry, "info", pid=parent.pid)
    assert output["children"] == kids
    assert output["children_truncated"] is False


async def test_info_of_a_dead_pid_is_not_found(registry: ToolRegistry, dead_pid: int) -> None:
    error = await fail(registry, "info", pid=dead_pid)
    assert error.error.code == "not_found"
    assert str(dead_pid) in error.error.message


async def test_info_of_a_zombie_reports_it(registry: ToolRegistry, zombie: int) -> None:
    output = await call(registry, "info", pid=zombie)
    assert output["status"] == "zombie"
    assert output["name"] == "true"


@pytest.mark.parametrize("pid", [0, -1, 4 * 1024 * 1024 + 1, 10**30, "abc", "1; ls", True, 1.5])
async def test_info_refuses_hostile_pids(registry: ToolRegistry, pid: object) -> None:
    error = await fail(registry, "info", pid=pid)
    assert error.error.code == "invalid_args"


async def test_info_requires_a_pid(registry: ToolRegistry) -> None:
    assert (await fail(registry, "info")).error.code == "invalid_args"


# --- tree --------------------------------------------------------------------------------


async def test_tree_shows_a_parent_and_its_children(
    registry: ToolRegistry, family: tuple[subprocess.Popen[str], list[int]]
) -> None:
    parent, kids = family
    output = await call(registry, "tree", pid=parent.pid)
    root = output["root"]
    assert isinstance(root, dict) and root["pid"] == parent.pid
    children = root["children"]
    assert isinstance(children, list)
    assert [child["pid"] for child in children if isinstance(child, dict)] == kids
    assert all(isinstance(c, dict) and c["name"] == "sleep" for c in children)
    assert output["nodes"] == 3 and output["truncated"] is False


async def test_tree_depth_limit_hides_grandchildren(
    registry: ToolRegistry, family: tuple[subprocess.Popen[str], list[int]]
) -> None:
    parent, _ = family
    output = await call(registry, "tree", pid=os.getpid(), max_depth=1)
    root = output["root"]
    assert isinstance(root, dict) and isinstance(root["children"], list)
    node = next(c for c in root["children"] if isinstance(c, dict) and c["pid"] == parent.pid)
    assert node["children"] == [] and node["hidden_children"] == 2
    assert output["truncated"] is True


async def test_tree_node_limit_counts_the_root(
    registry: ToolRegistry, family: tuple[subprocess.Popen[str], list[int]]
) -> None:
    parent, kids = family
    output = await call(registry, "tree", pid=parent.pid, limit=2)
    root = output["root"]
    assert isinstance(root, dict) and isinstance(root["children"], list)
    assert [c["pid"] for c in root["children"] if isinstance(c, dict)] == kids[:1]
    assert root["hidden_children"] == 1 and output["nodes"] == 2


async def test_tree_defaults_to_pid_1_and_reaches_this_process(registry: ToolRegistry) -> None:
    output = await call(registry, "tree", limit=500, max_depth=32)
    root = output["root"]
    assert isinstance(root, dict) and root["pid"] == 1
    seen: list[JsonValue] = []
    stack: list[JsonValue] = [root]
    while stack:
        node = stack.pop()
        assert isinstance(node, dict) and isinstance(node["children"], list)
        seen.append(node["pid"])
        stack.extend(node["children"])
    assert os.getpid() in seen


async def test_tree_of_a_dead_pid_is_not_found(registry: ToolRegistry, dead_pid: int) -> None:
    assert (await fail(registry, "tree", pid=dead_pid)).error.code == "not_found"


@pytest.mark.parametrize(
    "args", [{"pid": -3}, {"max_depth": 0}, {"max_depth": 33}, {"limit": 501}, {"pid": "x"}]
)
async def test_tree_refuses_bad_arguments(registry: ToolRegistry, args: dict[str, object]) -> None:
    assert (await fail(registry, "tree", **args)).error.code == "invalid_args"


# --- signal ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["TERM", "KILL", "SIGKILL", "term"])
async def test_signal_ends_a_process_and_reports_it_gone(
    registry: ToolRegistry, sleeper: subprocess.Popen[str], name: str
) -> None:
    output = await call(registry, "signal", pid=sleeper.pid, signal=name)
    assert output["signal"] == name.upper().removeprefix("SIG")
    assert output["is_alive"] is False and output["status"] is None
    assert output["name"] == "sleep"
    assert sleeper.wait(timeout=WAIT_S) < 0


async def test_signal_reports_a_process_that_ignores_term_as_alive(
    registry: ToolRegistry, stubborn: subprocess.Popen[str]
) -> None:
    output = await call(registry, "signal", pid=stubborn.pid, signal="TERM", wait_s=0.2)
    assert output["is_alive"] is True
    assert isinstance(output["waited_ms"], int) and output["waited_ms"] >= 150
    assert stubborn.poll() is None


async def test_signal_stop_and_cont_pause_and_resume(
    registry: ToolRegistry, sleeper: subprocess.Popen[str]
) -> None:
    stopped = await call(registry, "signal", pid=sleeper.pid, signal="STOP")
    assert stopped["is_alive"] is True
    await wait_for_child(sleeper.pid, os.WSTOPPED)
    assert psutil.Process(sleeper.pid).status() == psutil.STATUS_STOPPED
    resumed = await call(registry, "signal", pid=sleeper.pid, signal="CONT")
    assert resumed["is_alive"] is True
    await wait_for_child(sleeper.pid, os.WCONTINUED)
    assert psutil.Process(sleeper.pid).status() != psutil.STATUS_STOPPED


async def test_signal_of_a_dead_pid_is_not_found(registry: ToolRegistry, dead_pid: int) -> None:
    assert (await fail(registry, "signal", pid=dead_pid)).error.code == "not_found"


async def test_signal_to_a_zombie_reports_it_gone(registry: ToolRegistry, zombie: int) -> None:
    output = await call(registry, "signal", pid=zombie, signal="TERM")
    assert output["is_alive"] is False and output["waited_ms"] == 0


@pytest.mark.parametrize("pid", [1, 0, -1, -(4 * 1024 * 1024)])
async def test_signal_refuses_init_and_process_groups(registry: ToolRegistry, pid: int) -> None:
    error = await fail(registry, "signal", pid=pid, signal=HARMLESS)
    assert error.error.code == "permission_denied"


async def test_signal_refuses_the_daemon_and_its_ancestors(registry: ToolRegistry) -> None:
    for pid in sorted(daemon_lineage()):
        error = await fail(registry, "signal", pid=pid, signal=HARMLESS)
        assert error.error.code == "permission_denied", pid
    assert {os.getpid(), os.getppid()} <= daemon_lineage()


async def test_signal_refuses_a_thread_of_the_daemon(registry: ToolRegistry) -> None:
    release = threading.Event()
    thread = threading.Thread(target=release.wait)
    thread.start()
    try:
        assert thread.native_id is not None
        error = await fail(registry, "signal", pid=thread.native_id, signal=HARMLESS)
        assert error.error.code == "invalid_input"
        assert error.error.details["process"] == os.getpid()
    finally:
        release.set()
        thread.join(timeout=WAIT_S)


async def test_signal_refuses_configured_protected_pids(sleeper: subprocess.Popen[str]) -> None:
    registry = ToolRegistry([ProcTool(protected_pids=[sleeper.pid])])
    error = await fail(registry, "signal", pid=sleeper.pid, signal="KILL")
    assert error.error.code == "permission_denied"
    assert sleeper.poll() is None


@pytest.mark.parametrize(
    "args",
    [
        {"signal": 9},
        {"signal": "9"},
        {"signal": "SEGV"},
        {"signal": "TERM\x00"},
        {"wait_s": -1},
        {"wait_s": 31},
        {"pid": True},
        {"pid": "abc"},
        {"pid": 10**12},
        {"force": True},
    ],
)
async def test_signal_refuses_bad_arguments(
    registry: ToolRegistry, sleeper: subprocess.Popen[str], args: dict[str, object]
) -> None:
    error = await fail(registry, "signal", **({"pid": sleeper.pid} | args))
    assert error.error.code == "invalid_args"
    assert sleeper.poll() is None


async def test_signal_requires_a_pid(registry: ToolRegistry) -> None:
    assert (await fail(registry, "signal", signal="TERM")).error.code == "invalid_args"
