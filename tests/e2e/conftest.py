"""Fixtures for whole-daemon tests: short temp dirs (Unix socket paths are short),
a scripted LLM server on 127.0.0.1, and a launcher that always kills its daemons."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import pytest_asyncio

from sysward.llm.scripted import ScriptedLlmServer

from .daemon import DaemonLauncher, DaemonProcess, write_config


@pytest.fixture
def short_tmp() -> Iterator[Path]:
    """A temp dir with a short path: AF_UNIX socket paths are limited to 107 bytes."""
    path = Path(tempfile.mkdtemp(prefix="sw", dir="/tmp"))
    path.chmod(0o755)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
async def llm() -> AsyncIterator[ScriptedLlmServer]:
    async with ScriptedLlmServer() as server:
        yield server


@pytest.fixture
async def launcher(short_tmp: Path) -> AsyncIterator[DaemonLauncher]:
    launcher = DaemonLauncher(short_tmp)
    try:
        yield launcher
    finally:
        await launcher.cleanup()


# -- one daemon shared by a module's tests (modules opt in with loop_scope="module") --


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def module_llm() -> AsyncIterator[ScriptedLlmServer]:
    async with ScriptedLlmServer() as server:
        yield server


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def module_daemon(module_llm: ScriptedLlmServer) -> AsyncIterator[DaemonProcess]:
    """A daemon with config agent `ops` (role default) and a 0.2 s SSE heartbeat."""
    root = Path(tempfile.mkdtemp(prefix="sw", dir="/tmp"))
    launcher = DaemonLauncher(root)
    socket_path = root / "sysward.sock"
    config = write_config(
        root / "sysward.toml",
        state_dir=root / "state",
        socket_path=socket_path,
        llm_url=module_llm.base_url,
        agents={"ops": "sysadmin"},
    )
    try:
        yield await launcher.launch(
            ["--config", str(config), "--heartbeat", "0.2"], socket_path=socket_path
        )
    finally:
        await launcher.cleanup()
        shutil.rmtree(root, ignore_errors=True)
