"""Fixtures every test folder may use."""

from __future__ import annotations

import signal
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from foreign_uid import ForeignUidPython, ForeignUser, foreign_uid_python
from sysward.events.log import EventLog


def pytest_configure(config: pytest.Config) -> None:
    # `make test &` from a non-interactive shell starts pytest with SIGINT ignored, and
    # an ignored signal stays ignored across exec: the Ctrl-C tests' CLIs would never see
    # it. A handled signal is reset to the default at exec, so the children get Ctrl-C.
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


@pytest.fixture
async def log(tmp_path: Path) -> AsyncIterator[EventLog]:
    """A real event log in a temp dir, closed after the test."""
    opened = await EventLog.open(tmp_path / "events")
    try:
        yield opened
    finally:
        await opened.close()


@pytest.fixture(scope="session")
def nobody_python() -> Iterator[ForeignUidPython]:
    """Our code, runnable as `nobody` wherever the checkout lies; built once, on first use."""
    with foreign_uid_python(ForeignUser.named("nobody")) as python:
        yield python
