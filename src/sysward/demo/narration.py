"""What the demo prints: short headings, indented detail, and the closing sections."""

from __future__ import annotations

import shlex
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import TextIO

from sysward.demo.endpoint import AGENT, DemoEndpoint
from sysward.demo.proof import DemoSummary

INDENT = "   "


class Narrator:
    """Writes the demo's story to one stream (stdout, or stderr under `--json`)."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._section = 0

    def title(self, text: str) -> None:
        self._write(f"{text}\n{'=' * len(text)}")

    def heading(self, text: str) -> None:
        self._section += 1
        self._write(f"\n{self._section}. {text}")

    def say(self, text: str) -> None:
        for line in text.splitlines() or [""]:
            self._write(f"{INDENT}{line}")

    def lines(self, lines: Iterable[str]) -> None:
        for line in lines:
            self._write(line)

    def _write(self, text: str) -> None:
        self._stream.write(text + "\n")
        self._stream.flush()


def proof_lines(summary: DemoSummary) -> list[str]:
    llm, tools = summary.llm_calls, summary.tool_calls
    lines = [
        f"LLM calls:  {llm.before_crash} before the kill + {llm.after_restart} after the restart"
        f" = {llm.total}, for a turn of {summary.steps} steps; made again: {llm.repeated}",
        f"Tool calls: {tools.before_crash} before the kill + {tools.after_restart} after the"
        f" restart = {tools.total}; run again: {tools.repeated}",
        "(counted in the event log: one agent.llm_response per LLM call, one tool.<name> "
        "result per tool call)",
    ]
    counts = summary.model_counts
    if counts is None:
        lines.append(
            "The real endpoint's own call count is not visible here; the log is the proof."
        )
        return lines
    lines.append(
        f"The model's own counter: {counts.answered_total} answers "
        f"({counts.answered_before_crash} before the kill), "
        f"{counts.repeated_answers} steps answered twice."
    )
    if counts.cut_off_by_crash:
        lines.append(
            f"{counts.cut_off_by_crash} request was in flight at the kill and never answered; "
            "with no answer on disk, the restarted daemon asked that step once more."
        )
    return lines


def try_it_lines(summary: DemoSummary, endpoint: DemoEndpoint, model_port: int | None) -> list[str]:
    """The exact commands to bring the demo back up on the kept state dir and chat."""
    socket = shlex.quote(summary.socket)
    lines = []
    if model_port is not None:
        lines.append(
            f"{_command('python')} -m sysward.demo.model --port {model_port} &"
            "   # the scripted demo model (no LLM) again"
        )
    elif endpoint.api_key_env is not None:
        lines.append(f"# keep {endpoint.api_key_env} set in this shell for {endpoint.model}")
    lines += [
        f"{_command('syswardd')} --config {shlex.quote(summary.config)} "
        f"--state-dir {shlex.quote(summary.state_dir)} &",
        f"{_command('sysward')} --socket {socket} chat {AGENT}",
        f"{_command('sysward')} --socket {socket} events --agent {AGENT}   # the whole log",
        "kill %1 %2   # when done: stop the model and the daemon"
        if model_port is not None
        else "kill %1   # when done: stop the daemon",
    ]
    return lines


def _command(name: str) -> str:
    """A console script of this environment, by full path when it is installed there."""
    here = Path(sys.executable).parent
    if name == "python":
        return shlex.quote(sys.executable)
    script = here / name
    if script.exists():
        return shlex.quote(str(script))
    module = "sysward.daemon" if name == "syswardd" else "sysward.cli.main"
    return f"{shlex.quote(sys.executable)} -m {module}"
