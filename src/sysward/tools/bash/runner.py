"""Running one command line under bash: spawn, capture both streams, bound, kill, report.

A timeout is an ok result with ``timed_out: true``, not a ``ToolFailed``: like
a non-zero exit it is an outcome of the command the model reads (with the
output so far, the exit signal, the streams' sizes) in the same shape as any
other run, and an error result would have to squeeze all of that into
``details``. Cancellation (the registry's own deadline, an agent stopping) is
different: every process is killed and the ``CancelledError`` propagates.
"""

from __future__ import annotations

import asyncio
import signal
import time
from dataclasses import dataclass

from sysward.tools.bash.capture import OutputCapture
from sysward.tools.bash.models import ExecOutput
from sysward.tools.bash.session import end_session
from sysward.tools.tool import ToolFailed

READ_CHUNK_BYTES = 64 * 1024
# After a kill, what the processes wrote just before dying is still in the pipes.
DRAIN_S = 1.0


@dataclass(frozen=True)
class Command:
    """Everything needed to start one command."""

    shell: str
    command: str
    cwd: str
    env: dict[str, str]
    timeout_s: float
    max_output_bytes: int
    kill_grace_s: float


async def run_command(spec: Command) -> ExecOutput:
    """Run ``spec`` to its end; on timeout or cancellation its whole session is killed first."""
    started = time.monotonic()
    process = await _spawn(spec)
    stdout = OutputCapture(spec.max_output_bytes)
    stderr = OutputCapture(spec.max_output_bytes)
    timed_out, processes_left = False, 0
    try:
        async with asyncio.timeout(spec.timeout_s):
            await _collect(process, stdout, stderr)
    except TimeoutError:
        timed_out = True
        processes_left = await end_session(process.pid, spec.kill_grace_s)
        await _drain(process, stdout, stderr)
    except BaseException:  # cancelled (or a bug): never leave the command running
        await end_session(process.pid, spec.kill_grace_s)
        await _drain(process, stdout, stderr)
        raise
    return _output(process, stdout, stderr, started, timed_out, processes_left)


async def _spawn(spec: Command) -> asyncio.subprocess.Process:
    try:
        return await asyncio.create_subprocess_exec(
            spec.shell,
            "-c",
            "--",  # a command starting with "-" is a command, never bash options
            spec.command,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            cwd=spec.cwd,
            env=spec.env,
            start_new_session=True,
        )
    except (FileNotFoundError, NotADirectoryError) as exc:
        raise ToolFailed(
            "not_found",
            f"cannot start {spec.shell} in {spec.cwd}: {exc.strerror}; check that cwd exists",
            {"cwd": spec.cwd},
        ) from exc
    except PermissionError as exc:
        raise ToolFailed(
            "permission_denied", f"cannot start {spec.shell} in {spec.cwd}: {exc.strerror}"
        ) from exc
    except OSError as exc:  # EAGAIN (process limit), ENOMEM, E2BIG: the host refused
        raise ToolFailed(
            "unavailable",
            f"the host could not start a process: {exc.strerror}; retry later",
            {"errno": exc.errno},
        ) from exc


async def _collect(
    process: asyncio.subprocess.Process, stdout: OutputCapture, stderr: OutputCapture
) -> None:
    assert process.stdout is not None and process.stderr is not None
    async with asyncio.TaskGroup() as group:
        group.create_task(_pump(process.stdout, stdout))
        group.create_task(_pump(process.stderr, stderr))
        group.create_task(process.wait())


async def _pump(stream: asyncio.StreamReader, capture: OutputCapture) -> None:
    while chunk := await stream.read(READ_CHUNK_BYTES):
        capture.feed(chunk)


async def _drain(
    process: asyncio.subprocess.Process, stdout: OutputCapture, stderr: OutputCapture
) -> None:
    # A process that escaped the session (setsid) may hold the pipes open: bounded.
    try:
        async with asyncio.timeout(DRAIN_S):
            await _collect(process, stdout, stderr)
    except TimeoutError:
        pass


def _output(
    process: asyncio.subprocess.Process,
    stdout: OutputCapture,
    stderr: OutputCapture,
    started: float,
    timed_out: bool,
    processes_left: int,
) -> ExecOutput:
    returncode = process.returncode
    stdout_text, stdout_truncated = stdout.render()
    stderr_text, stderr_truncated = stderr.render()
    return ExecOutput(
        exit_code=returncode if returncode is not None and returncode >= 0 else None,
        signal=_signal_name(-returncode) if returncode is not None and returncode < 0 else None,
        timed_out=timed_out,
        duration_ms=round((time.monotonic() - started) * 1000),
        stdout=stdout_text,
        stdout_bytes=stdout.total_bytes,
        stdout_truncated=stdout_truncated,
        stderr=stderr_text,
        stderr_bytes=stderr.total_bytes,
        stderr_truncated=stderr_truncated,
        processes_left=processes_left,
    )


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"SIG{number}"
