"""The helper scripts in scripts/ run as real child processes, read line by line."""

from __future__ import annotations

import asyncio
import json
import signal
import sys
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

SCRIPTS_DIR = Path(__file__).parent / "scripts"
LINE_TIMEOUT_S = 20.0


class ScriptProcess:
    """A running script: its stdout is a stream of lines; stderr goes to a file."""

    def __init__(self, process: asyncio.subprocess.Process, stderr_path: Path) -> None:
        self.process = process
        self.stderr_path = stderr_path

    @property
    def stderr(self) -> str:
        return self.stderr_path.read_text(errors="replace")

    async def read_line(self, timeout_s: float = LINE_TIMEOUT_S) -> str:
        """The next stdout line; fails with the script's stderr if it ended instead."""
        assert self.process.stdout is not None
        async with asyncio.timeout(timeout_s):
            line = await self.process.stdout.readline()
        if not line:
            returncode = await self.wait()
            raise AssertionError(f"script exited ({returncode}) early; stderr:\n{self.stderr}")
        return line.decode().rstrip("\n")

    async def read_json(self, timeout_s: float = LINE_TIMEOUT_S) -> Any:
        return json.loads(await self.read_line(timeout_s))

    async def wait(self, timeout_s: float = LINE_TIMEOUT_S) -> int:
        async with asyncio.timeout(timeout_s):
            return await self.process.wait()

    async def kill(self) -> None:
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGKILL)
        await self.wait()


async def start_script(
    name: str, args: Sequence[str], *, stderr_path: Path, prefix: Sequence[str] = ()
) -> ScriptProcess:
    """Start `scripts/<name>` with this interpreter, optionally under a wrapper command."""
    command = [*prefix, sys.executable, str(SCRIPTS_DIR / name), *args]
    with stderr_path.open("wb") as stderr:
        process = await asyncio.create_subprocess_exec(
            *command,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=stderr,
        )
    return ScriptProcess(process, stderr_path)


SpawnScript = Callable[..., Awaitable[ScriptProcess]]
"""The `spawn_script` fixture: `await spawn_script(name, *args, prefix=...)`."""
