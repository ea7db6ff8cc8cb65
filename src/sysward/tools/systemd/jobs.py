"""Waiting for systemd jobs: the results of ``JobRemoved`` signals, by job object path.

Install a ``JobWatch`` as a message handler *before* asking for the job, so the
signal cannot slip by between the reply that names the job and the wait.
"""

from __future__ import annotations

import asyncio

from dbus_fast import Message, MessageType

MANAGER_PATH = "/org/freedesktop/systemd1"
MANAGER_INTERFACE = "org.freedesktop.systemd1.Manager"
JOB_REMOVED_RULE = (
    "type='signal',sender='org.freedesktop.systemd1',path='/org/freedesktop/systemd1',"
    "interface='org.freedesktop.systemd1.Manager',member='JobRemoved'"
)


class JobWatch:
    """Collects the results of jobs that finish while it is installed on a connection."""

    def __init__(self) -> None:
        self._results: dict[str, str] = {}
        self._waiters: dict[str, asyncio.Future[str]] = {}

    def on_message(self, message: Message) -> None:
        """Message handler: record a JobRemoved result (never marks a message handled)."""
        if not (
            message.message_type is MessageType.SIGNAL
            and message.member == "JobRemoved"
            and message.interface == MANAGER_INTERFACE
            and message.path == MANAGER_PATH
            and message.signature == "uoss"
        ):
            return
        _job_id, job_path, _unit, result = message.body
        waiter = self._waiters.pop(job_path, None)
        if waiter is not None and not waiter.done():
            waiter.set_result(result)
        else:
            self._results[job_path] = result

    async def wait(self, job_path: str, timeout_s: float) -> str | None:
        """The job's result, or None if it has not finished within ``timeout_s``."""
        if job_path in self._results:
            return self._results.pop(job_path)
        waiter: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self._waiters[job_path] = waiter
        deadline = asyncio.timeout(timeout_s)
        try:
            async with deadline:
                return await waiter
        except TimeoutError:
            if not deadline.expired():
                raise
            return None
        finally:
            self._waiters.pop(job_path, None)


def job_id(job_path: str) -> int | None:
    """The numeric id at the end of a job path (``/org/freedesktop/systemd1/job/42``)."""
    tail = job_path.rsplit("/", 1)[-1]
    return int(tail) if tail.isdigit() else None
