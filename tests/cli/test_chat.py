"""`sysward chat`: one turn per line, from a pipe or a terminal (a real pty)."""

from __future__ import annotations

import fcntl
import os
import pty
import select
import subprocess
import sys
import termios
import time
from pathlib import Path

from sysward.control.client import ControlClient

from .canned import ANSWER
from .fake_daemon import FakeDaemon

CHAT = [sys.executable, "-m", "sysward.cli.main", "chat"]
WAIT_S = 10.0
RETRY_S = 0.5


def chat_from_pipe(lines: str, agent: str = "ops", *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CHAT, agent, *extra], input=lines, capture_output=True, text=True, timeout=WAIT_S
    )


def test_each_line_is_a_turn_and_end_of_input_exits_0(daemon: FakeDaemon) -> None:
    result = chat_from_pipe("is nginx ok?\n\nand now?\n")
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"{ANSWER}\n{ANSWER}\n"
    assert result.stderr.count("→ systemd.status") == 2
    prompts = [request.json()["text"] for request in daemon.requests_to("/v1/agents/ops/prompt")]
    assert prompts == ["is nginx ok?", "and now?"]


def test_quit_ends_the_session(daemon: FakeDaemon) -> None:
    result = chat_from_pipe("/quit\nnever sent\n")
    assert result.returncode == 0
    assert daemon.requests == []


def test_an_error_on_one_turn_does_not_end_the_session(daemon: FakeDaemon) -> None:
    result = chat_from_pipe("fail\nhello\n")
    assert result.returncode == 0
    assert "failed: the model endpoint answered 500 five times" in result.stderr
    assert result.stdout == f"{ANSWER}\n"


def test_a_refused_prompt_is_shown_and_the_session_goes_on(daemon: FakeDaemon) -> None:
    result = chat_from_pipe("hello\nagain\n", "audit")
    assert result.returncode == 0
    assert result.stderr.count("error agent_busy") == 2


def test_chat_json_prints_one_summary_line_per_turn(daemon: FakeDaemon) -> None:
    result = chat_from_pipe("one\ntwo\n", "ops", "--json")
    summaries = [line for line in result.stdout.splitlines() if line]
    assert len(summaries) == 2
    assert all('"status":"completed"' in line for line in summaries)


def test_chat_with_the_daemon_down_exits_3(short_tmp: Path) -> None:
    env = os.environ | {"SYSWARD_SOCKET": str(short_tmp / "down.sock")}
    result = subprocess.run(
        [*CHAT, "ops"], input="hello\n", capture_output=True, text=True, env=env, timeout=WAIT_S
    )
    assert result.returncode == 3


class Terminal:
    """`sysward chat` on a pseudo-terminal, as an operator would run it."""

    def __init__(self, argv: list[str], env: dict[str, str]) -> None:
        self.master, slave = pty.openpty()
        self.process = subprocess.Popen(
            argv,
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env=env,
            start_new_session=True,
            preexec_fn=lambda: fcntl.ioctl(0, termios.TIOCSCTTY, 0),
        )
        os.close(slave)
        self.seen = ""

    def expect(self, text: str, wait_s: float = WAIT_S) -> None:
        """Read until `text` has appeared (after what earlier expects consumed)."""
        deadline = time.monotonic() + wait_s
        while text not in self.seen:
            remaining = deadline - time.monotonic()
            readable, _, _ = select.select([self.master], [], [], max(remaining, 0))
            assert readable, f"{text!r} never came; saw {self.seen!r}"
            try:
                self.seen += os.read(self.master, 4096).decode(errors="replace")
            except OSError:
                break  # the child closed the terminal
        assert text in self.seen, f"{text!r} never came; saw {self.seen!r}"
        self.seen = self.seen[self.seen.index(text) + len(text) :]

    def type(self, keys: str) -> None:
        os.write(self.master, keys.encode())

    def press_until(self, keys: str, text: str) -> None:
        """Press `keys` until `text` shows. Python's readline misses a SIGINT that lands
        between drawing the prompt and waiting for input; a person presses again."""
        deadline = time.monotonic() + WAIT_S
        while True:
            self.type(keys)
            try:
                self.expect(text, wait_s=RETRY_S)
                return
            except AssertionError:
                if time.monotonic() > deadline:
                    raise

    def close(self) -> int:
        try:
            return self.process.wait(timeout=WAIT_S)
        finally:
            if self.process.poll() is None:
                self.process.kill()
                self.process.wait()
            os.close(self.master)


def test_a_terminal_session_with_ctrl_c_and_ctrl_d(daemon: FakeDaemon, short_tmp: Path) -> None:
    env = os.environ | {"XDG_STATE_HOME": str(short_tmp / "state"), "TERM": "dumb"}
    terminal = Terminal([*CHAT, "ops"], env)
    try:
        terminal.expect("Ctrl-D exits")
        terminal.expect("ops> ")
        terminal.type("slow\n")
        terminal.expect("→ systemd.status")
        terminal.type("\x03")  # Ctrl-C while the turn runs
        terminal.expect("stopped waiting for turn t_01JD")
        terminal.expect("ops> ")
        terminal.type("is nginx ok?\n")
        terminal.expect(ANSWER)
        terminal.expect("ops> ")
        terminal.press_until("\x03", "ops> ")  # Ctrl-C at the prompt: a fresh line
        terminal.type("\x04")  # Ctrl-D: the end
    finally:
        code = terminal.close()
    assert code == 0
    assert ControlClient(str(daemon.socket_path)).get("/v1/health")["status"] == "ok"
    history = (short_tmp / "state" / "sysward" / "chat_history").read_text()
    assert "slow" in history
    assert "is nginx ok?" in history
