"""An in-process daemon runtime (temp state dir, crypto tool, no LLM) and its control
server on a real Unix socket, for tests that need to reach inside."""

from __future__ import annotations

import shutil
import socket
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from sysward.agents.roles import default_roles
from sysward.config import Settings
from sysward.control.server import ControlServer
from sysward.daemon.runtime import Runtime, open_runtime
from sysward.daemon.toolset import daemon_tools


@pytest.fixture
def short_tmp() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="sw", dir="/tmp"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
async def runtime(short_tmp: Path) -> AsyncIterator[Runtime]:
    settings = Settings().with_state_dir(short_tmp / "state")
    opened = await open_runtime(settings, default_roles(), tools=daemon_tools, models=lambda _: {})
    try:
        yield opened
    finally:
        await opened.close()


@pytest.fixture
async def server(runtime: Runtime, short_tmp: Path) -> AsyncIterator[ControlServer]:
    listening = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listening.bind(str(short_tmp / "control.sock"))
    listening.listen()
    served = ControlServer(runtime, heartbeat_s=0.05)
    await served.start(listening)
    try:
        yield served
    finally:
        await served.stop()


@pytest.fixture
async def client(server: ControlServer, short_tmp: Path) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.AsyncHTTPTransport(uds=str(short_tmp / "control.sock"))
    async with httpx.AsyncClient(
        transport=transport, base_url="http://sysward", timeout=10
    ) as client:
        yield client
