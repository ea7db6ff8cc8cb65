"""The schedule trigger source: the due times of a calendar expression, with a disk check.

Due times come from ``systemd-analyze calendar``, so an expression means here exactly
what it means in a timer's OnCalendar=: sysward parses no calendar syntax of its own.
A slot missed while the daemon was down fires once at start, as with Persistent=true.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sysward.config import ScheduleTrigger
from sysward.tools.systemd.units import iso_utc
from sysward.triggers.source import Emit, SourceEvent, SourceUnavailable, clip

ANALYZE_TIMEOUT_S = 10.0
# The longest single sleep: waking this often re-reads the wall clock, so a clock change
# or a suspend moves the due time as it moves a systemd timer's (asyncio's clock is
# monotonic and would sleep through either).
MAX_SLEEP_S = 30.0
MAX_ERROR_CHARS = 200
ANALYZE_HINT = "schedule triggers need systemd-analyze (Debian/Ubuntu: apt install systemd)"
_SECOND = timedelta(seconds=1)


@dataclass(frozen=True)
class DiskUsage:
    """How full the filesystem holding a path is, as ``df`` counts it."""

    used_percent: float
    avail_bytes: int


class ScheduleSource:
    """Emits one SourceEvent per due time of a ScheduleTrigger (when its disk check holds)."""

    def __init__(self, settings: ScheduleTrigger, last_due: datetime | None) -> None:
        self.settings = settings
        self._last_due = last_due

    async def run(self, emit: Emit) -> None:
        """Wait for each due time and fire it until cancelled; SourceUnavailable when the
        expression is invalid, never elapses again, or the disk cannot be checked."""
        expression = self.settings.on_calendar
        now = _now()
        if self._last_due is not None:
            missed = await next_elapse(expression, self._last_due)
            if missed <= now:
                await self._fire(missed, emit)
        after = now
        while True:
            due = await next_elapse(expression, after)
            await _sleep_until(due)
            await self._fire(due, emit)
            # From now rather than from due: slots passed while suspended fire once, not all.
            after = max(due, _now())

    async def _fire(self, due: datetime, emit: Emit) -> None:
        fields = {"due": iso_utc(due)}
        path = self.settings.disk_path
        threshold = self.settings.disk_above_percent
        if path is not None and threshold is not None:
            try:
                usage = await asyncio.to_thread(disk_usage, path)
            except OSError as exc:
                raise SourceUnavailable(f"cannot check the disk at {path}: {exc}") from exc
            if usage.used_percent <= threshold:
                return
            fields |= {
                "disk_path": str(path),
                "used_percent": f"{usage.used_percent:.1f}",
                "avail_bytes": str(usage.avail_bytes),
            }
        clipped = {name: clip(value) for name, value in fields.items()}
        emit(SourceEvent(key=f"due:{fields['due']}", fields=clipped))


async def next_elapse(expression: str, after: datetime) -> datetime:
    """The first due time of ``expression`` strictly after ``after``, in UTC.

    Raises SourceUnavailable when systemd-analyze is missing, rejects the expression,
    or says it never elapses again.
    """
    due = await _analyze(expression, after)
    if due <= after:
        # systemd-analyze prints whole seconds: a sub-second slot can show as before `after`.
        due = await _analyze(expression, due + _SECOND)
    return due


def disk_usage(path: Path) -> DiskUsage:
    """The usage of the filesystem holding ``path`` (blocking: a hung mount blocks it)."""
    stat = os.statvfs(path)
    used = stat.f_blocks - stat.f_bfree
    # As df: the blocks reserved for root count neither as used nor as available.
    usable = used + stat.f_bavail
    percent = used / usable * 100 if usable else 0.0
    return DiskUsage(used_percent=percent, avail_bytes=stat.f_bavail * stat.f_frsize)


async def _analyze(expression: str, after: datetime) -> datetime:
    """What ``systemd-analyze calendar`` gives as the next elapse after ``after``."""
    argv = [
        "systemd-analyze",
        "calendar",
        "--iterations=1",
        f"--base-time=@{after.timestamp():.6f}",
        "--",
        expression,
    ]
    # TZ=UTC makes it print UTC times; LC_ALL=C keeps the weekday names parseable.
    env = {**os.environ, "TZ": "UTC", "LC_ALL": "C"}
    stdout, stderr, returncode = await _run(argv, env)
    if returncode != 0:
        raise SourceUnavailable(
            f"on_calendar {expression!r} is not a valid calendar expression; "
            f"systemd-analyze says: {_first_line(stderr)}"
        )
    return _parse_next_elapse(expression, stdout.decode("utf-8", errors="replace"))


async def _run(argv: list[str], env: dict[str, str]) -> tuple[bytes, bytes, int]:
    try:
        process = await asyncio.create_subprocess_exec(
            *argv,
            env=env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
    except FileNotFoundError as exc:
        raise SourceUnavailable(ANALYZE_HINT) from exc
    try:
        async with asyncio.timeout(ANALYZE_TIMEOUT_S):
            stdout, stderr = await process.communicate()
    except TimeoutError as exc:
        raise SourceUnavailable(
            f"systemd-analyze calendar took over {ANALYZE_TIMEOUT_S} s and was stopped"
        ) from exc
    finally:
        if process.returncode is None:  # timed out or cancelled
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            await process.wait()
    return stdout, stderr, process.returncode or 0


def _parse_next_elapse(expression: str, output: str) -> datetime:
    """The time of the ``Next elapse: Fri 2026-12-04 22:59:40 UTC`` line."""
    for line in output.splitlines():
        label, _, value = line.strip().partition(": ")
        if label != "Next elapse":
            continue
        if value == "never":
            raise SourceUnavailable(f"on_calendar {expression!r} never elapses again")
        parts = value.split()
        if len(parts) == 4 and parts[3] == "UTC":
            try:
                return datetime.fromisoformat(f"{parts[1]}T{parts[2]}").replace(tzinfo=UTC)
            except ValueError:
                break
        break
    raise SourceUnavailable(
        f"systemd-analyze calendar printed no next elapse for {expression!r}: {output[:200]!r}"
    )


async def _sleep_until(due: datetime) -> None:
    # Polling the wall clock is the point (see MAX_SLEEP_S): no event says "it is 09:00".
    while (remaining_s := (due - _now()).total_seconds()) > 0:  # noqa: ASYNC110
        await asyncio.sleep(min(remaining_s, MAX_SLEEP_S))


def _now() -> datetime:
    return datetime.now(UTC)


def _first_line(stderr: bytes) -> str:
    lines = stderr.decode("utf-8", errors="replace").strip().splitlines()
    return lines[0][:MAX_ERROR_CHARS] if lines else "no message"
