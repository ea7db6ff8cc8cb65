"""Fixtures for whole-daemon tests: short temp dirs (Unix socket paths are short),
a scripted LLM server on 127.0.0.1, and a launcher that always kills its daemons."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import httpx
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


LaunchWithConfig = Callable[[str], Awaitable[DaemonProcess]]
# Write actions (bash exec, inotify watch) otherwise wait for an operator's approval.
ALLOW_EVERYTHING = '\n[[policy.rules]]\ntool = "*"\ndecision = "allow"\n'


async def launch_in(
    launcher: DaemonLauncher, directory: Path, llm_url: str, *args: str, extra: str = ""
) -> DaemonProcess:
    """A daemon (agent `ops`, role sysadmin) with config, state and socket in `directory`."""
    socket_path = directory / "sysward.sock"
    config = write_config(
        directory / "sysward.toml",
        state_dir=directory / "state",
        socket_path=socket_path,
        llm_url=llm_url,
        agents={"ops": "sysadmin"},
        extra=extra,
    )
    daemon = await launcher.launch(["--config", str(config), *args], socket_path=socket_path)
    daemon.config_path = config
    return daemon


@pytest.fixture
def launch_with_config(launcher: DaemonLauncher, llm: ScriptedLlmServer) -> LaunchWithConfig:
    """Start a daemon (agent `ops`, role sysadmin) whose sysward.toml ends with `extra`."""

    async def launch(extra: str) -> DaemonProcess:
        directory = launcher.root / f"cfg{len(launcher.started)}"
        directory.mkdir()
        return await launch_in(launcher, directory, llm.base_url, extra=extra)

    return launch


# -- one daemon shared by a module's tests (modules opt in with loop_scope="module") --


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def module_llm() -> AsyncIterator[ScriptedLlmServer]:
    async with ScriptedLlmServer() as server:
        yield server


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def module_daemon(module_llm: ScriptedLlmServer) -> AsyncIterator[DaemonProcess]:
    """A daemon with config agent `ops` (role sysadmin) and a 0.2 s SSE heartbeat."""
    root = Path(tempfile.mkdtemp(prefix="sw", dir="/tmp"))
    launcher = DaemonLauncher(root)
    try:
        yield await launch_in(launcher, root, module_llm.base_url, "--heartbeat", "0.2")
    finally:
        await launcher.cleanup()
        shutil.rmtree(root, ignore_errors=True)


@pytest_asyncio.fixture(loop_scope="module")
async def client(module_daemon: DaemonProcess) -> AsyncIterator[httpx.AsyncClient]:
    """An API client of the module's shared daemon."""
    async with module_daemon.client() as client:
        yield client


@pytest_asyncio.fixture(loop_scope="module")
async def scripted_llm(module_llm: ScriptedLlmServer) -> AsyncIterator[ScriptedLlmServer]:
    """The module daemon's scripted server; each test must use every reply it scripts."""
    yield module_llm
    module_llm.verify()
