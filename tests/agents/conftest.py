"""Fixtures for the agent tests: a scripted LLM server and an agent rig over a temp log."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from sysward.llm.scripted import ScriptedLlmServer

from .rig import AgentRig


@pytest.fixture
async def llm_server() -> AsyncIterator[ScriptedLlmServer]:
    """A scripted server; the test fails if it saw unscripted calls or left responses unused."""
    async with ScriptedLlmServer() as server:
        yield server
    server.verify()


@pytest.fixture
async def rig(tmp_path: Path, llm_server: ScriptedLlmServer) -> AsyncIterator[AgentRig]:
    """An agent rig over a fresh log; everything it started is stopped at teardown."""
    started = AgentRig(tmp_path, llm_server)
    try:
        yield started
    finally:
        await started.stop()
