"""Fixtures every test folder may use."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from sysward.events.log import EventLog


@pytest.fixture
async def log(tmp_path: Path) -> AsyncIterator[EventLog]:
    """A real event log in a temp dir, closed after the test."""
    opened = await EventLog.open(tmp_path / "events")
    try:
        yield opened
    finally:
        await opened.close()
