"""Fixtures every test folder may use."""

from __future__ import annotations

import signal
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from foreign_uid import ForeignUidPython, ForeignUser, foreign_uid_python
from sysward.events.log import EventLog
from sysward.policy.redaction import ExitGuard


def pytest_configure(config: pytest.Config) -> None:
    # `make test &` from a non-interactive shell starts pytest with SIGINT ignored, and
    # an ignored signal stays ignored across exec: the Ctrl-C tests' CLIs would never see
    # it. A handled signal is reset to the default at exec, so the children get Ctrl-C.
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    # The exit guard firing means some path skipped the structural redactor. Tests
    # that make it fire on purpose restore the counter; any other hit fails the run.
    if ExitGuard.refusals:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        reporter.write_line(
            f"FAILED: the exit guard replaced {ExitGuard.refusals} known secret value(s) "
            "that the redactor missed (see the ERROR log lines of sysward.policy.redaction)",
            red=True,
        )
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


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
