"""Fixtures for the event log tests: a fresh log in tmp_path, and child processes."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import pytest

from sysward.events.bus import EventBus
from sysward.events.log import EventLog

from .processes import ScriptProcess, SpawnScript, start_script


@pytest.fixture
def log_path(tmp_path: Path) -> Path:
    return tmp_path / "events"


@pytest.fixture
async def log(log_path: Path) -> AsyncIterator[EventLog]:
    opened = await EventLog.open(log_path)
    try:
        yield opened
    finally:
        await opened.close()


@pytest.fixture
async def bus(log: EventLog) -> AsyncIterator[EventBus]:
    created = EventBus(log)
    try:
        yield created
    finally:
        created.close()


@pytest.fixture
async def spawn_script(tmp_path: Path) -> AsyncIterator[SpawnScript]:
    """Start helper scripts; every one still running is SIGKILLed at teardown."""
    started: list[ScriptProcess] = []

    async def spawn(name: str, *args: str, prefix: Sequence[str] = ()) -> ScriptProcess:
        stderr_path = tmp_path / f"{name}.{len(started)}.stderr"
        script = await start_script(name, args, stderr_path=stderr_path, prefix=prefix)
        started.append(script)
        return script

    try:
        yield spawn
    finally:
        for script in started:
            await script.kill()
