"""The daemon's lifecycle: start → serve (reloading on SIGHUP) → drain → stop.

Start takes the state directory's lock, the control socket (inherited or
bound), opens the runtime and serves; READY=1 once the socket serves.
SIGTERM/SIGINT: refuse new work (503), let in-flight steps become durable
(bounded), cancel the rest, emit `daemon.stopping`, close everything, exit 0.
SIGHUP: RELOADING=1, reload, READY=1. While serving, inotify watches' changes
are logged (`watch_events.py`) and orphans of commands are reaped (`orphans.py`).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
import signal
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

from pydantic import JsonValue

from sysward.agents.roles import Role
from sysward.config import Settings
from sysward.control.server import ControlServer
from sysward.control.state import DEFAULT_HEARTBEAT_S
from sysward.daemon.drain import drain_agents
from sysward.daemon.listener import ControlListener, open_listener
from sysward.daemon.orphans import OrphanReaper, become_subreaper
from sysward.daemon.reload import ConfigSource, describe_reload, keep_location
from sysward.daemon.runtime import ModelFactory, Runtime, open_runtime, real_models, state_dir_ready
from sysward.daemon.service_manager import ServiceNotifier
from sysward.daemon.statelock import StateLock
from sysward.daemon.toolset import daemon_tools
from sysward.daemon.watch_events import WatchEventRecorder
from sysward.errors import ConfigError
from sysward.events import topics

DEFAULT_STOP_TIMEOUT_S = 10.0
EXIT_OK, EXIT_FAILED = 0, 1
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)

_log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class DaemonOptions:
    source: ConfigSource
    stop_timeout_s: float = DEFAULT_STOP_TIMEOUT_S
    heartbeat_s: float = DEFAULT_HEARTBEAT_S


class Daemon:
    """One run of syswardd, from a loaded configuration to exit."""

    def __init__(
        self,
        options: DaemonOptions,
        config: tuple[Settings, dict[str, Role]],
        *,
        models: ModelFactory = real_models,
    ) -> None:
        self.options = options
        self.settings, self.roles = config
        self._models = models
        self._notifier = ServiceNotifier()
        self._signals: asyncio.Queue[str] = asyncio.Queue()

    async def run(self) -> int:
        """Serve until SIGTERM/SIGINT; StartupError when it cannot start."""
        daemon = self.settings.daemon
        # Installed first: a SIGTERM during start-up is served once the socket is up.
        with self._signal_handlers():
            state_dir_ready(daemon.state_dir)
            lock = StateLock.acquire(daemon.state_dir)
            try:
                listener = await asyncio.to_thread(
                    open_listener, daemon.socket_path, daemon.allowed_groups
                )
                try:
                    async with self._orphans_reaped():
                        exit_code = await self._run_runtime(listener)
                finally:
                    listener.sock.close()
                    listener.remove_file()
            finally:
                lock.release()
        self._notifier.status("stopped")
        return exit_code

    async def _run_runtime(self, listener: ControlListener) -> int:
        self._notifier.status("opening the event log and starting agents")
        recorder = WatchEventRecorder()
        tools = functools.partial(daemon_tools, on_inotify_event=recorder.record)
        runtime = await open_runtime(self.settings, self.roles, tools=tools, models=self._models)
        try:
            async with recorder.running(runtime.log):
                server = ControlServer(runtime, heartbeat_s=self.options.heartbeat_s)
                await server.start(listener.sock)
                try:
                    return await self._serve(runtime, listener, server)
                finally:
                    await server.stop()
        finally:
            await runtime.close()

    async def _serve(
        self, runtime: Runtime, listener: ControlListener, server: ControlServer
    ) -> int:
        agents = len(runtime.supervisor.names())
        status = f"serving on {listener.description}; {agents} agents"
        self._notifier.ready(status)
        _log.info("%s (event log at seq %d)", status, runtime.log.last_seq)
        async with self._watchdog():
            reason = await self._serve_until_stopped(runtime, server)
            await self._stop(runtime, reason)
        return EXIT_FAILED if server.has_failed else EXIT_OK

    async def _serve_until_stopped(self, runtime: Runtime, server: ControlServer) -> str:
        """The name of the signal that stopped the daemon (reloading on SIGHUP meanwhile)."""
        failed = asyncio.ensure_future(server.wait_failed())
        try:
            while True:
                received = asyncio.ensure_future(self._signals.get())
                await asyncio.wait({received, failed}, return_when=asyncio.FIRST_COMPLETED)
                if not received.done():
                    received.cancel()
                    _log.error("the control server stopped unexpectedly; stopping the daemon")
                    return "control server failure"
                if received.result() != "SIGHUP":
                    return received.result()
                await self._reload(runtime)
        finally:
            failed.cancel()

    async def _reload(self, runtime: Runtime) -> None:
        # systemd holds `systemctl reload` until READY=1 follows RELOADING=1, so READY=1
        # goes out whatever the reload's outcome.
        self._notifier.reloading("reloading the configuration")
        status = "serving; the last reload failed (see the log)"
        try:
            status = await self._apply_reload(runtime)
        finally:
            self._notifier.ready(status)

    async def _apply_reload(self, runtime: Runtime) -> str:
        """Load and apply the configuration; returns the status to report."""
        source = self.options.source
        try:
            new = await asyncio.to_thread(source.load)
        except ConfigError as exc:
            _log.error("reload rejected, the running configuration is kept:\n%s", exc)
            data: dict[str, JsonValue] = {"config": str(source.config_path), "error": str(exc)}
            await runtime.emit(topics.DAEMON_RELOADED, "rejected", data)
            return "serving; the last reload was rejected (see the log)"
        report = describe_reload(source, (runtime.settings, runtime.roles), new)
        runtime.settings = keep_location(runtime.settings, new[0])
        runtime.roles = new[1]
        await runtime.triggers.reload(runtime.settings.triggers)
        await runtime.emit(topics.DAEMON_RELOADED, "reloaded", report.to_data())
        _log.info("configuration reloaded: changed %s", ", ".join(report.changed) or "nothing")
        if report.restart_required:
            _log.warning("takes a restart: %s", ", ".join(report.restart_required))
        return "serving; configuration reloaded"

    async def _stop(self, runtime: Runtime, reason: str) -> None:
        runtime.is_stopping = True
        self._notifier.stopping(f"stopping ({reason}): agents are finishing their steps")
        _log.info("stopping (%s)", reason)
        started = time.monotonic()
        interrupted = await drain_agents(
            runtime.supervisor, runtime.bus, self.options.stop_timeout_s
        )
        await runtime.supervisor.shutdown()
        data: dict[str, JsonValue] = {
            "reason": reason,
            "interrupted_agents": list(interrupted),
            "drain_ms": int((time.monotonic() - started) * 1000),
        }
        await runtime.emit(topics.DAEMON_STOPPING, "stopping", data)
        if interrupted:
            _log.warning("cancelled mid-step (they resume at the next start): %s", interrupted)

    @contextlib.contextmanager
    def _signal_handlers(self) -> Iterator[None]:
        loop = asyncio.get_running_loop()
        handled = (*STOP_SIGNALS, signal.SIGHUP)
        for signum in handled:
            loop.add_signal_handler(signum, self._signals.put_nowait, signal.Signals(signum).name)
        try:
            yield
        finally:
            for signum in handled:
                loop.remove_signal_handler(signum)

    @contextlib.asynccontextmanager
    async def _orphans_reaped(self) -> AsyncIterator[None]:
        """Adopt the orphans of commands we ran and reap them (see daemon/orphans.py)."""
        if not become_subreaper():
            yield
            return
        task = asyncio.create_task(OrphanReaper(os.getpid()).run(), name="orphan-reaper")
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    @contextlib.asynccontextmanager
    async def _watchdog(self) -> AsyncIterator[None]:
        interval_s = self._notifier.watchdog_interval_s()
        if interval_s is None:
            yield
            return
        task = asyncio.create_task(self._notifier.keep_watchdog_fed(interval_s), name="watchdog")
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
