"""The systemd tool against a real, isolated systemd --user: status, jobs, unit files, list."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from sysward.tools import TOOL_RESULT, ToolErr, ToolRegistry
from sysward.tools.dbus import BusAddresses
from sysward.tools.systemd import SystemdTool

from .systemd_calls import call, fail, offline_registry, tool_for
from .user_systemd import UserManager


@pytest.fixture
async def registry(user_manager: UserManager) -> AsyncIterator[ToolRegistry]:
    registry = ToolRegistry([tool_for(user_manager)])
    try:
        yield registry
    finally:
        await registry.aclose()


@pytest.fixture
def offline(tmp_path: Path) -> ToolRegistry:
    return offline_registry(tmp_path)


def status_of(output: dict[str, Any]) -> dict[str, Any]:
    status = output["status"]
    assert isinstance(status, dict)
    return status


def cgroup_of(pid: object) -> str:
    return Path(f"/proc/{pid}/cgroup").read_text()


def is_alive(pid: object) -> bool:
    return Path(f"/proc/{pid}").exists()


# --- catalogue ---------------------------------------------------------------------------


def test_systemd_offers_the_spec_actions_with_their_effects() -> None:
    effects = {spec.action: spec.effect.value for spec in ToolRegistry([SystemdTool()]).actions()}
    writes = {"start", "stop", "restart", "reload", "enable", "disable"}
    assert effects == {
        **dict.fromkeys(("status", "list", "journal"), "read"),
        **dict.fromkeys(writes, "write"),
    }


# --- status ------------------------------------------------------------------------------


async def test_status_of_a_loaded_inactive_unit(registry: ToolRegistry) -> None:
    output = await call(registry, "status", unit="sleeper.service")
    assert output["unit"] == "sleeper.service"
    assert output["description"] == "Sleeps until stopped"
    assert (output["load_state"], output["active_state"], output["sub_state"]) == (
        "loaded",
        "inactive",
        "dead",
    )
    assert output["unit_file_state"] == "disabled"
    assert output["main_pid"] is None
    assert str(output["fragment_path"]).endswith("/systemd/user/sleeper.service")


async def test_status_of_a_running_service_has_its_main_pid_and_start_time(
    registry: ToolRegistry,
) -> None:
    await call(registry, "start", unit="sleeper.service")
    output = await call(registry, "status", unit="sleeper.service")
    assert output["active_state"] == "active" and output["sub_state"] == "running"
    assert isinstance(output["main_pid"], int)
    assert cgroup_of(output["main_pid"]).rstrip().endswith("/app.slice/sleeper.service")
    assert str(output["active_enter_ts"]).endswith("Z")
    assert output["n_restarts"] == 0


async def test_status_of_a_target_has_no_service_fields(registry: ToolRegistry) -> None:
    output = await call(registry, "status", unit="basic.target")
    assert output["active_state"] == "active"
    assert output["main_pid"] is None and output["n_restarts"] is None


async def test_status_of_an_unknown_unit_is_not_found(registry: ToolRegistry) -> None:
    result = await fail(registry, "status", unit="no-such-thing.service")
    assert result.error.code == "not_found"
    assert result.error.details == {"unit": "no-such-thing.service", "bus": "user"}


@pytest.mark.parametrize(
    "unit",
    [
        "-evil.service",
        "--help.service",
        "nginx",
        "nginx.exe",
        "a.service; rm -rf /",
        "../x.service",
        "x/y.service",
        "sp ace.service",
        "x.service\x00",
        "",
        "a" * 300 + ".service",
        5,
        None,
    ],
)
async def test_status_refuses_bad_unit_names(offline: ToolRegistry, unit: object) -> None:
    assert (await fail(offline, "status", unit=unit)).error.code == "invalid_args"


@pytest.mark.parametrize(
    "args",
    [
        {"bus": "user"},
        {"bus": "session", "unit": "x.service"},
        {"bus": "user", "unit": "x.service", "extra": 1},
    ],
)
async def test_status_refuses_missing_or_unknown_fields(
    offline: ToolRegistry, args: dict[str, object]
) -> None:
    result = await offline.invoke("systemd", "status", args)
    assert isinstance(result, ToolErr) and result.error.code == "invalid_args"


# --- jobs --------------------------------------------------------------------------------


async def test_start_waits_for_the_job_and_reports_the_running_unit(
    registry: ToolRegistry,
) -> None:
    output = await call(registry, "start", unit="sleeper.service")
    assert output["operation"] == "start"
    assert output["result"] == "done" and output["is_finished"] is True
    assert isinstance(output["job_id"], int)
    assert status_of(output)["sub_state"] == "running"


async def test_stop_reports_the_unit_inactive(registry: ToolRegistry) -> None:
    started = await call(registry, "start", unit="sleeper.service")
    pid = status_of(started)["main_pid"]
    output = await call(registry, "stop", unit="sleeper.service")
    assert output["result"] == "done"
    assert status_of(output)["active_state"] == "inactive"
    assert not is_alive(pid)


async def test_restart_replaces_the_main_process(registry: ToolRegistry) -> None:
    first = status_of(await call(registry, "start", unit="sleeper.service"))["main_pid"]
    output = await call(registry, "restart", unit="sleeper.service")
    assert output["result"] == "done"
    assert status_of(output)["main_pid"] not in (None, first)


async def test_reload_runs_the_units_exec_reload(registry: ToolRegistry) -> None:
    await call(registry, "start", unit="sleeper.service")
    output = await call(registry, "reload", unit="sleeper.service")
    assert output["result"] == "done"
    assert status_of(output)["sub_state"] == "running"


async def test_reload_of_a_unit_without_exec_reload_is_not_applicable(
    registry: ToolRegistry,
) -> None:
    result = await fail(registry, "reload", unit="failing.service")
    assert result.error.code == "not_applicable"
    assert result.error.details["dbus_error"] == "org.freedesktop.systemd1.JobTypeNotApplicable"


async def test_a_failed_start_is_a_result_with_the_failed_status(
    registry: ToolRegistry,
) -> None:
    output = await call(registry, "start", unit="failing.service")
    assert output["result"] == "failed" and output["is_finished"] is True
    status = status_of(output)
    assert (status["active_state"], status["result"]) == ("failed", "exit-code")


async def test_a_job_outlasting_timeout_s_is_reported_still_running(
    registry: ToolRegistry,
) -> None:
    output = await call(registry, "start", unit="slow.service", timeout_s=0.2)
    assert output["result"] == "still_running" and output["is_finished"] is False
    assert status_of(output)["active_state"] == "activating"


async def test_start_of_an_unknown_unit_is_not_found(registry: ToolRegistry) -> None:
    result = await fail(registry, "start", unit="no-such-thing.service")
    assert result.error.code == "not_found"
    assert result.error.details["dbus_error"] == "org.freedesktop.systemd1.NoSuchUnit"


async def test_stopping_a_unit_whose_file_is_gone_reports_it_not_found_not_an_error(
    registry: ToolRegistry, user_manager: UserManager
) -> None:
    unit_file = user_manager.unit_dir / "ephemeral.service"
    unit_file.write_text("[Service]\nExecStart=/bin/sleep infinity\n")
    await call(registry, "start", unit="ephemeral.service")
    unit_file.unlink()
    output = await call(registry, "stop", unit="ephemeral.service")
    assert output["result"] == "done"
    assert status_of(output)["load_state"] == "not-found"


async def test_concurrent_jobs_each_get_their_own_result(registry: ToolRegistry) -> None:
    started, failed = await asyncio.gather(
        call(registry, "start", unit="sleeper.service"),
        call(registry, "start", unit="failing.service"),
    )
    assert (started["unit"], started["result"]) == ("sleeper.service", "done")
    assert (failed["unit"], failed["result"]) == ("failing.service", "failed")


@pytest.mark.parametrize("timeout_s", [0, -1, 601, "soon"])
async def test_job_timeout_is_bounded(offline: ToolRegistry, timeout_s: object) -> None:
    result = await fail(offline, "start", unit="sleeper.service", timeout_s=timeout_s)
    assert result.error.code == "invalid_args"


# --- enable / disable --------------------------------------------------------------------


async def test_enable_links_the_unit_and_reports_enabled(
    registry: ToolRegistry, user_manager: UserManager
) -> None:
    output = await call(registry, "enable", unit="sleeper.service")
    link = user_manager.unit_dir / "default.target.wants" / "sleeper.service"
    assert output["changes"] == [
        {
            "type": "symlink",
            "file": str(link),
            "destination": str(user_manager.unit_dir / "sleeper.service"),
        }
    ]
    assert output["carries_install_info"] is True
    assert output["unit_file_state"] == "enabled"
    assert link.is_symlink()


async def test_enable_twice_changes_nothing_the_second_time(registry: ToolRegistry) -> None:
    await call(registry, "enable", unit="sleeper.service")
    output = await call(registry, "enable", unit="sleeper.service")
    assert output["changes"] == [] and output["unit_file_state"] == "enabled"


async def test_disable_removes_the_link(registry: ToolRegistry, user_manager: UserManager) -> None:
    await call(registry, "enable", unit="sleeper.service")
    output = await call(registry, "disable", unit="sleeper.service")
    link = user_manager.unit_dir / "default.target.wants" / "sleeper.service"
    assert output["changes"] == [{"type": "unlink", "file": str(link), "destination": None}]
    assert output["unit_file_state"] == "disabled"
    assert not link.exists()


async def test_enable_without_an_install_section_says_so(registry: ToolRegistry) -> None:
    output = await call(registry, "enable", unit="failing.service")
    assert output["changes"] == []
    assert output["carries_install_info"] is False
    assert output["unit_file_state"] == "static"


async def test_enable_of_an_unknown_unit_is_not_found(registry: ToolRegistry) -> None:
    assert (await fail(registry, "enable", unit="nope.service")).error.code == "not_found"
    assert (await fail(registry, "disable", unit="-nope.service")).error.code == "invalid_args"


# --- list --------------------------------------------------------------------------------


async def test_list_filters_by_type(registry: ToolRegistry) -> None:
    output = await call(registry, "list", type="socket")
    names = [unit["unit"] for unit in output["units"]]
    assert "dbus.socket" in names
    assert all(str(name).endswith(".socket") for name in names)
    assert names == sorted(names)


async def test_list_filters_by_state_and_pattern(registry: ToolRegistry) -> None:
    await call(registry, "start", unit="sleeper.service")
    await call(registry, "start", unit="failing.service")
    running = await call(registry, "list", state="running", pattern="*er.service")
    failed = await call(registry, "list", state="failed")
    assert [u["unit"] for u in running["units"]] == ["sleeper.service"]
    assert [u["unit"] for u in failed["units"]] == ["failing.service"]
    assert failed["units"][0]["active_state"] == "failed"


async def test_list_limit_truncates_and_counts_all(registry: ToolRegistry) -> None:
    everything = await call(registry, "list")
    output = await call(registry, "list", limit=2)
    assert len(output["units"]) == 2
    assert output["total"] == everything["total"] and output["truncated"] is True


@pytest.mark.parametrize(
    "args",
    [{"pattern": "-x*"}, {"pattern": "a b"}, {"state": "Running"}, {"type": "exe"}, {"limit": 0}],
)
async def test_list_refuses_bad_filters(offline: ToolRegistry, args: dict[str, object]) -> None:
    assert (await fail(offline, "list", **args)).error.code == "invalid_args"


# --- buses -------------------------------------------------------------------------------


async def test_absent_system_manager_is_unavailable_with_a_clear_message() -> None:
    if os.path.exists("/run/dbus/system_bus_socket"):  # noqa: ASYNC240, PTH110 (one stat)
        pytest.skip("this host has a system bus")
    registry = ToolRegistry([SystemdTool(BusAddresses.from_environment({}))])
    result = await registry.invoke("systemd", "status", {"unit": "ssh.service"})
    assert isinstance(result, ToolErr) and result.error.code == "unavailable"
    assert "is this host running systemd?" in result.error.message
    assert len(TOOL_RESULT.dump_json(result)) < 1000


async def test_a_stopped_user_manager_is_unavailable(user_manager: UserManager) -> None:
    registry = ToolRegistry([tool_for(user_manager)])
    try:
        await call(registry, "status", unit="sleeper.service")
        user_manager.stop()
        result = await registry.invoke(
            "systemd", "status", {"bus": "user", "unit": "sleeper.service"}
        )
        assert isinstance(result, ToolErr) and result.error.code == "unavailable"
    finally:
        await registry.aclose()


async def test_valid_arguments_on_an_unreachable_bus_are_unavailable(
    offline: ToolRegistry,
) -> None:
    result = await fail(offline, "status", unit="sleeper.service")
    assert result.error.code == "unavailable"
    assert "user bus" in result.error.message
