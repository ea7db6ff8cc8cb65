"""Fixtures: a fake daemon on a temp Unix socket, and the CLI run in-process against it."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from sysward.cli.main import main

from .fake_daemon import FakeDaemon


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "script(responses): what the scripted LLM answers, in order (real daemon)"
    )


@dataclass
class CliResult:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)

    def json_lines(self) -> list[Any]:
        return [json.loads(line) for line in self.out.splitlines()]


@pytest.fixture
def short_tmp() -> Iterator[Path]:
    """A short directory: a Unix socket path must fit in 108 bytes."""
    with tempfile.TemporaryDirectory(prefix="sw-") as path:
        yield Path(path)


@pytest.fixture
def daemon(short_tmp: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeDaemon]:
    """A fake daemon; $SYSWARD_SOCKET points the CLI at it."""
    fake = FakeDaemon(short_tmp / "sysward.sock").start()
    monkeypatch.setenv("SYSWARD_SOCKET", str(fake.socket_path))
    try:
        yield fake
    finally:
        fake.stop()


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Any:
    """Run `sysward ARGS...` in this process; argparse's SystemExit becomes the code."""

    def run(*argv: str) -> CliResult:
        try:
            code = main(list(argv))
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        captured = capsys.readouterr()
        return CliResult(code, captured.out, captured.err)

    return run
