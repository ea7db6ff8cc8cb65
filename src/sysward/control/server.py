"""The control server: uvicorn serving the control app on an already-listening socket.

The daemon owns the socket (bound by path or inherited from systemd) and the
signals; this module owns uvicorn's lifecycle: start (returns once serving),
stop (ends SSE streams, closes connections, bounded).
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Generator

import uvicorn

from sysward.control.access import AccessGate, AuthAudit, daemon_uid
from sysward.control.app import create_app
from sysward.control.metrics import Metrics
from sysward.control.peer import PeerH11Protocol
from sysward.control.state import DEFAULT_HEARTBEAT_S, ControlState, DaemonView

START_TIMEOUT_S = 10.0
GRACEFUL_SHUTDOWN_S = 5


class _Uvicorn(uvicorn.Server):
    """uvicorn without its signal handlers (the daemon has its own), telling when it serves."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.serving = asyncio.Event()

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        self.serving.set()


class ControlServer:
    """Serves the control API for one runtime on one listening socket."""

    def __init__(self, runtime: DaemonView, *, heartbeat_s: float = DEFAULT_HEARTBEAT_S) -> None:
        self.metrics = Metrics()
        self.state = ControlState(
            runtime=runtime,
            metrics=self.metrics,
            audit=AuthAudit(runtime.log),
            gate=AccessGate(owner_uid=daemon_uid()),
            heartbeat_s=heartbeat_s,
        )
        self._unlisten = runtime.log.add_listener(self.metrics.observe)
        config = uvicorn.Config(
            create_app(self.state),
            http=PeerH11Protocol,
            ws="none",
            lifespan="off",
            log_config=None,
            access_log=False,
            server_header=False,
            timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_S,
        )
        self._server = _Uvicorn(config)
        self._task: asyncio.Task[None] | None = None

    async def start(self, sock: socket.socket) -> None:
        """Serve on `sock` (listening); returns once connections are accepted."""
        self._task = asyncio.create_task(self._server.serve(sockets=[sock]), name="control")
        serving = asyncio.create_task(self._server.serving.wait())
        try:
            async with asyncio.timeout(START_TIMEOUT_S):
                await asyncio.wait({self._task, serving}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            serving.cancel()
        if not self._server.serving.is_set():
            await self._task  # raises why uvicorn could not start
            raise RuntimeError("the control server stopped while starting")

    @property
    def has_failed(self) -> bool:
        """uvicorn ended on its own (it only ends when told to, otherwise)."""
        return self._task is not None and self._task.done() and not self._server.should_exit

    async def wait_failed(self) -> None:
        """Return if uvicorn ends without being stopped (the daemon must not linger)."""
        if self._task is not None:
            await asyncio.wait({self._task})

    async def stop(self) -> None:
        """End live streams, stop accepting, wait (bounded) for requests to finish."""
        self.state.closing.set()
        self._server.should_exit = True
        if self._task is not None:
            await self._task
        self._unlisten()
