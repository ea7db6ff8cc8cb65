"""A real `syswardd` child process, its sd_notify channel, and clients of its socket.

Readiness is the daemon's own READY=1 on a test NOTIFY_SOCKET (the systemd
way), confirmed by GET /v1/health; every wait is bounded, and a daemon that
exits early fails the wait with its stderr.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import sys
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from sysward.policy.redaction import ExitGuard

# What sysward.policy.redaction.guard logs when a known secret got past the redactor.
GUARD_FIRED = "unredacted and were replaced by [REDACTED:unverified]"
READY_TIMEOUT_S = 20.0
EXIT_TIMEOUT_S = 30.0
DAEMON_MODULE = ("-m", "sysward.daemon")


class NotifyListener:
    """A datagram socket standing in for systemd's NOTIFY_SOCKET; records every message."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(str(path))
        path.chmod(0o666)  # a daemon run as another user (setpriv) must reach it too
        self.sock.setblocking(False)
        self.messages: list[str] = []

    @property
    def lines(self) -> list[str]:
        """Every line received so far, including datagrams still queued on the socket."""
        while True:
            try:
                self.messages.append(self.sock.recv(65536).decode())
            except BlockingIOError:
                break
        return [line for message in self.messages for line in message.split("\n")]

    async def wait_for(self, line: str, *, timeout_s: float = READY_TIMEOUT_S) -> None:
        """Return once a message with exactly this line arrived."""
        loop = asyncio.get_running_loop()
        async with asyncio.timeout(timeout_s):
            while line not in self.lines:
                data = await loop.sock_recv(self.sock, 65536)
                self.messages.append(data.decode())

    def close(self) -> None:
        self.sock.close()


@dataclass
class DaemonProcess:
    """A running syswardd: its socket, stderr file and notify channel."""

    process: asyncio.subprocess.Process
    socket_path: Path
    stderr_path: Path
    notify: NotifyListener
    config_path: Path | None = None

    @property
    def stderr(self) -> str:
        return self.stderr_path.read_text(errors="replace")

    def client(self, **kwargs: Any) -> httpx.AsyncClient:
        transport = httpx.AsyncHTTPTransport(uds=str(self.socket_path))
        return httpx.AsyncClient(
            transport=transport, base_url="http://sysward", timeout=10.0, **kwargs
        )

    async def wait_ready(self, timeout_s: float = READY_TIMEOUT_S) -> None:
        ready = asyncio.create_task(self.notify.wait_for("READY=1", timeout_s=timeout_s))
        exited = asyncio.create_task(self.process.wait())
        await asyncio.wait({ready, exited}, return_when=asyncio.FIRST_COMPLETED)
        if not ready.done() or ready.exception() is not None:
            ready.cancel()
            with contextlib.suppress(asyncio.CancelledError, TimeoutError):
                await ready
            if exited.done():
                raise AssertionError(
                    f"syswardd exited ({self.process.returncode}) before READY:\n{self.stderr}"
                )
            raise AssertionError(f"syswardd not ready after {timeout_s}s:\n{self.stderr}")
        exited.cancel()
        async with self.client() as client:
            response = await client.get("/v1/health")
        assert response.status_code == 200, response.text

    def signal(self, signum: int) -> None:
        self.process.send_signal(signum)

    async def wait_exit(self, timeout_s: float = EXIT_TIMEOUT_S) -> int:
        async with asyncio.timeout(timeout_s):
            return await self.process.wait()

    async def terminate(self, timeout_s: float = EXIT_TIMEOUT_S) -> int:
        if self.process.returncode is None:
            self.signal(signal.SIGTERM)
        return await self.wait_exit(timeout_s)

    async def kill(self) -> None:
        if self.process.returncode is None:
            self.process.kill()
        await self.process.wait()


@dataclass
class DaemonLauncher:
    """Starts daemons in one directory; `cleanup()` kills every one still running."""

    root: Path
    started: list[DaemonProcess] = field(default_factory=list)

    async def launch(
        self,
        args: Sequence[str],
        *,
        socket_path: Path,
        env: Mapping[str, str] | None = None,
        wait: bool = True,
        prefix: Sequence[str] = (),
        python: Sequence[str] = (sys.executable,),
        pass_fds: Sequence[int] = (),
    ) -> DaemonProcess:
        """`prefix python -m sysward.daemon args`; `python` is the interpreter and its flags."""
        index = len(self.started)
        notify = NotifyListener(self.root / f"notify-{index}")
        stderr_path = self.root / f"syswardd-{index}.stderr"
        child_env = {**os.environ, "NOTIFY_SOCKET": str(notify.path), **(env or {})}
        with stderr_path.open("wb") as stderr:
            process = await asyncio.create_subprocess_exec(
                *prefix,
                *python,
                *DAEMON_MODULE,
                *args,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=stderr,
                stderr=stderr,
                env=child_env,
                pass_fds=pass_fds,
            )
        daemon = DaemonProcess(process, socket_path, stderr_path, notify)
        self.started.append(daemon)
        if wait:
            await daemon.wait_ready()
        return daemon

    async def launch_configured(
        self,
        llm_url: str,
        *,
        name: str = "d",
        agents: Mapping[str, str] | None = None,
        args: Sequence[str] = (),
        env: Mapping[str, str] | None = None,
        wait: bool = True,
        extra: str = "",
    ) -> DaemonProcess:
        """A daemon with its own config file, state dir and socket under `root/name`;
        `extra` is appended to the config (policy rules, settings)."""
        directory = self.root / name
        directory.mkdir(exist_ok=True)
        socket_path = directory / "sysward.sock"
        config = write_config(
            directory / "sysward.toml",
            state_dir=directory / "state",
            socket_path=socket_path,
            llm_url=llm_url,
            agents=agents,
            extra=extra,
        )
        daemon = await self.launch(
            ["--config", str(config), *args], socket_path=socket_path, env=env, wait=wait
        )
        daemon.config_path = config
        return daemon

    async def cleanup(self) -> None:
        for daemon in self.started:
            await daemon.kill()
            daemon.notify.close()
        # A daemon's exit guard counts in its own process: its log line is the signal.
        for daemon in self.started:
            if GUARD_FIRED in daemon.stderr:
                ExitGuard.refusals += daemon.stderr.count(GUARD_FIRED)


def write_config(
    path: Path,
    *,
    state_dir: Path,
    llm_url: str,
    socket_path: Path | None = None,
    agents: Mapping[str, str] | None = None,
    allowed_groups: Sequence[str] = ("sysward-e2e-nobody",),
    extra: str = "",
) -> Path:
    """A sysward.toml for a test daemon: one scripted LLM endpoint, agents by role."""
    lines = [
        "[daemon]",
        f'state_dir = "{state_dir}"',
        f"allowed_groups = {json.dumps(list(allowed_groups))}",
    ]
    if socket_path is not None:
        lines.append(f'socket = "{socket_path}"')
    lines += [
        "",
        "[llm.default]",
        f'base_url = "{llm_url}"',
        'model = "scripted-model"',
        "max_retries = 0",
        "timeout_s = 30",
    ]
    for name, role in (agents or {}).items():
        lines += ["", f"[agents.{name}]", f'role = "{role}"']
    path.write_text("\n".join(lines) + "\n" + extra)
    return path


@dataclass(frozen=True)
class SseMessage:
    event: str | None
    id: str | None
    data: str

    def json(self) -> Any:
        return json.loads(self.data)


async def read_sse(
    source: httpx.Response | AsyncIterator[str],
    *,
    until: Callable[[SseMessage], bool] = lambda message: False,
    comments: list[str] | None = None,
) -> list[SseMessage]:
    """Messages from an SSE response until `until` holds for one (or the stream ends).

    To read one stream in several steps, pass the same `response.aiter_lines()` each time.
    """
    lines = source.aiter_lines() if isinstance(source, httpx.Response) else source
    messages: list[SseMessage] = []
    fields: dict[str, list[str]] = {}
    async for line in lines:
        if line.startswith(":"):
            if comments is not None:
                comments.append(line)
            continue
        if line:
            name, _, value = line.partition(":")
            fields.setdefault(name, []).append(value.removeprefix(" "))
            continue
        if not fields:
            continue
        message = SseMessage(
            event=fields.get("event", [None])[-1],
            id=fields.get("id", [None])[-1],
            data="\n".join(fields.get("data", [])),
        )
        fields = {}
        messages.append(message)
        if until(message):
            break
    return messages


@dataclass(frozen=True)
class CurlResult:
    exit_code: int
    status: int
    body: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.body)


async def curl(
    socket_path: Path, method: str, path: str, *args: str, prefix: Sequence[str] = ()
) -> CurlResult:
    """`curl --unix-socket` as a child process; the status code rides on the last line."""
    command = [
        *prefix,
        "curl",
        "-sS",
        "--max-time",
        "20",
        "--unix-socket",
        str(socket_path),
        "-X",
        method,
        "-w",
        "\n%{http_code}",
        *args,
        f"http://sysward{path}",
    ]
    process = await asyncio.create_subprocess_exec(
        *command, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    async with asyncio.timeout(30):
        stdout, stderr = await process.communicate()
    body, _, status = stdout.decode().rpartition("\n")
    return CurlResult(
        exit_code=process.returncode or 0,
        status=int(status or 0),
        body=body,
        stderr=stderr.decode(),
    )
