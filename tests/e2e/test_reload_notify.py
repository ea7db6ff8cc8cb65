"""SIGHUP tells systemd it is reloading: RELOADING=1 with MONOTONIC_USEC (sd_notify(3)),
then READY=1 once the new config is applied, or rejected; what takes a restart is said."""

from __future__ import annotations

import signal
import time
from typing import Any

from .conftest import LaunchWithConfig
from .daemon import DaemonProcess


async def reload_messages(daemon: DaemonProcess, final_status: str) -> list[list[str]]:
    """SIGHUP, then the datagrams sent from RELOADING=1 until READY=1 with `final_status`."""
    already = len(daemon.notify.lines)
    daemon.signal(signal.SIGHUP)
    await daemon.notify.wait_for(f"STATUS={final_status}")
    messages = [message.split("\n") for message in daemon.notify.messages]
    start = next(
        index
        for index, lines in enumerate(messages)
        if "RELOADING=1" in lines and sum(map(len, messages[:index])) >= already
    )
    return messages[start:]


def assert_reloading_then_ready(messages: list[list[str]], final_status: str) -> None:
    reloading, *_, ready = messages
    assert reloading[0] == "RELOADING=1"
    (stamp,) = [line for line in reloading if line.startswith("MONOTONIC_USEC=")]
    usec = int(stamp.removeprefix("MONOTONIC_USEC="))
    assert 0 < usec <= time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
    assert ready == ["READY=1", f"STATUS={final_status}"]


async def reload_with(daemon: DaemonProcess, appended: str, final_status: str) -> dict[str, Any]:
    """Append to the config, SIGHUP, check the notify bracket; the `daemon.reloaded` event."""
    assert daemon.config_path is not None
    daemon.config_path.write_text(daemon.config_path.read_text() + appended)
    assert_reloading_then_ready(await reload_messages(daemon, final_status), final_status)
    async with daemon.client() as client:
        params = {"topic": "daemon.reloaded", "limit": 10_000}
        page = (await client.get("/v1/events", params=params)).json()
    event: dict[str, Any] = page["events"][-1]
    return event


async def test_a_reload_is_bracketed_by_reloading_and_ready(
    launch_with_config: LaunchWithConfig,
) -> None:
    daemon = await launch_with_config("")
    reloaded = await reload_with(
        daemon, '\n[policy]\nallowed_paths = ["/srv"]\n', "serving; configuration reloaded"
    )
    assert reloaded["type"] == "reloaded"
    # The file tool is built once at start: new roots take a restart, and the report says so.
    assert reloaded["data"]["restart_required"] == ["policy.allowed_paths"]
    assert await daemon.terminate() == 0


async def test_a_rejected_reload_still_ends_with_ready(
    launch_with_config: LaunchWithConfig,
) -> None:
    daemon = await launch_with_config("")
    rejected = await reload_with(
        daemon,
        '\n[policy]\nallowed_paths = ["not/absolute"]\n',
        "serving; the last reload was rejected (see the log)",
    )
    assert rejected["type"] == "rejected"
    assert "policy.allowed_paths.0" in rejected["data"]["error"]
    async with daemon.client() as client:
        assert (await client.get("/v1/health")).status_code == 200
    assert await daemon.terminate() == 0
