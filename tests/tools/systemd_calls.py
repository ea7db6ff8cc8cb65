"""How the systemd tests reach the tool: registries on the isolated manager, call helpers."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from sysward.tools import ToolErr, ToolOk, ToolRegistry
from sysward.tools.dbus import BusAddresses
from sysward.tools.systemd import SystemdTool

from .user_systemd import UserManager

WAIT_S = 10.0


def tool_for(manager: UserManager, *, journal_path: Path | None = None) -> SystemdTool:
    """A tool on ``manager``'s user bus; its system bus cannot exist, so no test touches
    a real host manager."""
    addresses = BusAddresses(
        system=f"unix:path={manager.runtime_dir}/no-system-bus", user=manager.address
    )
    return SystemdTool(addresses, journal_path=journal_path)


def offline_registry(tmp_path: Path) -> ToolRegistry:
    """A tool whose buses and journal do not exist: a call that passes validation fails
    with ``unavailable``, so ``invalid_args`` proves the arguments were refused first."""
    nowhere = f"unix:path={tmp_path}/nothing-here"
    return ToolRegistry([SystemdTool(BusAddresses(nowhere, nowhere), journal_path=tmp_path)])


async def call(registry: ToolRegistry, action: str, **args: object) -> dict[str, Any]:
    """The output of a call on the user bus that must succeed."""
    result = await registry.invoke("systemd", action, {"bus": "user", **args})
    assert isinstance(result, ToolOk), result
    assert isinstance(result.output, dict)
    return result.output


async def fail(registry: ToolRegistry, action: str, **args: object) -> ToolErr:
    """The error of a call on the user bus that must fail."""
    result = await registry.invoke("systemd", action, {"bus": "user", **args})
    assert isinstance(result, ToolErr), result
    return result


async def wait_until(check: Callable[[], Awaitable[bool]], what: str) -> None:
    """Poll ``check`` until it holds, for at most WAIT_S.

    Polling because journald offers no "stored" notification a test could await.
    """
    try:
        async with asyncio.timeout(WAIT_S):
            while not await check():  # noqa: ASYNC110
                await asyncio.sleep(0.01)
    except TimeoutError:
        pytest.fail(f"no {what} within {WAIT_S} s")
