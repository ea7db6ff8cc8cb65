"""The demo's one job: a turn that survives `kill -9` of the daemon, shown end to end.

Start the model and `syswardd`, ask agent `ops` to inspect the host, SIGKILL the
daemon after the 2nd tool result is durable, show the log on disk, restart on
the same state dir, let the turn finish, and prove from the log and the model's
counter that nothing was done twice. Every child is stopped in `finally`; the
work dir (config, state, logs) is kept for the operator.
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace
from pathlib import Path
from typing import cast

from sysward.cli.progress import describe as describe_progress
from sysward.cli.shapes import Envelope
from sysward.control.client import path_segment
from sysward.demo.endpoint import AGENT, ROLE, DemoEndpoint, write_config
from sysward.demo.errors import DemoError
from sysward.demo.following import follow_events
from sysward.demo.model import ModelStats
from sysward.demo.narration import Narrator
from sysward.demo.processes import DaemonProcess, ModelProcess
from sysward.demo.timeline import read_stored_events, timeline
from sysward.events import topics
from sysward.events.record import Event

TASK = (
    "Inspect this server and report: the busiest processes, the network interfaces, "
    "which OS it runs and its block devices. Only look; change nothing."
)
# The kill comes once this many tool results are durable; the scripted model holds
# the answer to the step after them, so the kill lands while the daemon waits on it.
CRASH_AFTER_TOOL_RESULTS = 2
HOLD_STEP = CRASH_AFTER_TOOL_RESULTS + 1
SCRIPTED_TURN_TIMEOUT_S = 60.0
REAL_TURN_TIMEOUT_S = 600.0
HOLD_WAIT_S = 15.0
VERIFY_TIMEOUT_S = 60.0


class DemoRun:
    """One run of the demo in `work_dir`; `start`, `crash`, `resume`, then `clean_up`."""

    def __init__(self, work_dir: Path, endpoint: DemoEndpoint, out: Narrator) -> None:
        self.work_dir = work_dir
        self.state_dir = work_dir / "state"
        self.config_path = work_dir / "sysward.toml"
        self.endpoint = endpoint
        self.out = out
        self.model: ModelProcess | None = None
        self.daemons: list[DaemonProcess] = []
        self.turn = ""
        self.killed_after_seq = 0
        self.stats_at_kill: ModelStats | None = None
        self.verify_output = ""
        self.is_log_verified = False

    @property
    def turn_timeout_s(self) -> float:
        return SCRIPTED_TURN_TIMEOUT_S if self.endpoint.is_scripted else REAL_TURN_TIMEOUT_S

    @property
    def pids(self) -> list[int]:
        own = [self.model.pid] if self.model is not None else []
        return own + [daemon.pid for daemon in self.daemons]

    def start(self) -> None:
        """The model (if scripted), the config and the first daemon; then submit the task."""
        self.out.heading("Start the model and the daemon")
        if self.endpoint.is_scripted:
            self.model = ModelProcess(self.work_dir, hold_step=HOLD_STEP)
            self.endpoint = replace(self.endpoint, base_url=self.model.base_url)
            self.out.say(f"{self.endpoint.label}: {self.model.base_url} (pid {self.model.pid})")
            self.out.say("It plays a read-only host inspection with REAL tools; no API key.")
        else:
            self.out.say(f"Using the {self.endpoint.label} (from $SYSWARD_DEMO_BASE_URL).")
        write_config(self.config_path, self.endpoint, self.state_dir)
        daemon = self._start_daemon()
        self.out.heading(f'Ask agent "{AGENT}" (role {ROLE}) to inspect this host')
        self.out.say(f'"{TASK}"')
        client = daemon.client()
        since: int = client.get("/v1/health")["last_seq"]
        accepted = client.post(f"/v1/agents/{path_segment(AGENT)}/prompt", {"text": TASK})
        self.turn = accepted["turn"]
        self.out.say(f"turn {self.turn}; following its events live:")
        self._follow_until_crash_point(daemon, since)

    def crash(self) -> None:
        """SIGKILL the daemon at the crash point and show what the log on disk holds."""
        daemon = self.daemons[-1]
        self.out.heading(f"kill -9 the daemon (pid {daemon.pid})")
        if self.model is not None:
            self.stats_at_kill = self.model.wait_until_holding(HOLD_WAIT_S)
            self.out.say(
                f"{CRASH_AFTER_TOOL_RESULTS} tool results are durable and the daemon is waiting "
                f"for the model's step {HOLD_STEP} answer (held back for the demo)."
            )
        daemon.kill()
        stored = read_stored_events(self.state_dir)
        self.killed_after_seq = stored[-1].seq if stored else 0
        if _is_turn_over(stored, self.turn):
            raise DemoError("the turn finished before the kill landed; run the demo again")
        self.out.say(f"SIGKILL sent; the daemon is gone (exit {daemon.process.returncode}).")
        self.out.say("The log on disk right now, read straight from LMDB:")
        self.out.lines(timeline(stored))

    def resume(self) -> None:
        """Restart on the same state dir, let the turn finish, verify the log, stop."""
        self.out.heading("Restart the daemon on the same state dir")
        daemon = self._start_daemon()
        self.out.say(f"It resumes turn {self.turn} from its last durable step:")
        follow_events(
            daemon.client(),
            agent=AGENT,
            since=self.killed_after_seq,
            stop_when=lambda events: _is_turn_over(events, self.turn),
            on_event=self._show_progress,
            timeout_s=self.turn_timeout_s,
        )
        code = daemon.terminate()
        if code != 0:
            raise DemoError(f"syswardd exited {code} on SIGTERM (log {daemon.log_path})")
        # After the stop, so the check covers the whole log, signed to its end.
        self._verify_log()

    def clean_up(self) -> None:
        """Stop every child still running; safe to call at any point, and twice."""
        for daemon in self.daemons:
            if daemon.is_running:
                daemon.terminate()
        if self.model is not None:
            self.model.stop()

    def final_stats(self) -> ModelStats | None:
        return self.model.stats() if self.model is not None else None

    def _start_daemon(self) -> DaemonProcess:
        life = len(self.daemons) + 1
        log_path = self.work_dir / f"syswardd-{life}.log"
        daemon = DaemonProcess(self.config_path, self.state_dir, log_path)
        self.daemons.append(daemon)
        ready_s = daemon.wait_until_serving()
        self.out.say(
            f"syswardd --config {self.config_path} --state-dir {self.state_dir}\n"
            f"  pid {daemon.pid}, serving on {daemon.socket_path} after {ready_s:.1f} s"
        )
        return daemon

    def _follow_until_crash_point(self, daemon: DaemonProcess, since: int) -> None:
        events = follow_events(
            daemon.client(),
            agent=AGENT,
            since=since,
            stop_when=lambda seen: _is_crash_point(seen, self.turn),
            on_event=self._show_progress,
            timeout_s=self.turn_timeout_s,
        )
        if _is_turn_over(events, self.turn):
            raise DemoError(
                f"the model ended the turn before {CRASH_AFTER_TOOL_RESULTS} tool results, so "
                "there was no point to crash at; run the demo again, or with the scripted model"
            )

    def _show_progress(self, event: Event) -> None:
        if event.turn != self.turn:
            return
        line = describe_progress(cast(Envelope, event.model_dump(mode="json")))
        if line is not None:
            self.out.say(f"  {line}")

    def _verify_log(self) -> None:
        """The offline form: reads the log read-only, as an auditor would, with no daemon."""
        command = [*sysward_command(), "log", "verify", "--state-dir", str(self.state_dir)]
        try:
            done = subprocess.run(
                command, capture_output=True, text=True, timeout=VERIFY_TIMEOUT_S, check=False
            )
        except subprocess.TimeoutExpired:
            raise DemoError(f"sysward log verify took longer than {VERIFY_TIMEOUT_S} s") from None
        self.verify_output = (done.stdout + done.stderr).strip()
        self.is_log_verified = done.returncode == 0


def sysward_command() -> list[str]:
    return [sys.executable, "-m", "sysward.cli.main"]


def _is_turn_over(events: list[Event], turn: str) -> bool:
    return any(e.turn == turn and e.topic == topics.AGENT_TURN_COMPLETED for e in events)


def _is_crash_point(events: list[Event], turn: str) -> bool:
    results = sum(1 for e in events if e.turn == turn and _is_tool_result(e))
    return results >= CRASH_AFTER_TOOL_RESULTS or _is_turn_over(events, turn)


def _is_tool_result(event: Event) -> bool:
    return event.topic.startswith("tool.") and event.type == "result"
