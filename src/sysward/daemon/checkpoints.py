"""The daemon's checkpoint task: signs the log's head at start, periodically, and at stop.

Each `log.checkpoint` signs the head as committed on disk (seq and hash read
in one transaction), so a checkpoint never pairs a seq with another's hash.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from sysward.events.checkpoint import checkpoint_event, sign_checkpoint
from sysward.events.log import EventLog
from sysward.events.record import Event
from sysward.events.signing import LogSigningKey
from sysward.events.store import EventLogError

SOURCE = "sysward.daemon.checkpoints"

_log = logging.getLogger(__name__)


class Checkpointer:
    """Owns the periodic checkpoint task; `stop()` cancels it and signs the final head.

    `interval_s` is read before every wait, so a reloaded interval applies from
    the next checkpoint on.
    """

    def __init__(self, log: EventLog, key: LogSigningKey, interval_s: Callable[[], float]) -> None:
        self._log = log
        self._key = key
        self._interval_s = interval_s
        self._task: asyncio.Task[None] | None = None
        self._last_checkpoint_seq = 0

    @property
    def key_id(self) -> str:
        return self._key.key_id

    async def start(self) -> None:
        """Sign what the log holds now (a failure here fails the start), then keep signing."""
        await self.checkpoint()
        self._task = asyncio.create_task(self._run(), name="log-checkpoints")

    async def stop(self) -> None:
        """Cancel the periodic task and sign the head one last time, before the log closes."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        try:
            await self.checkpoint()
        except EventLogError as exc:
            _log.error("the final log checkpoint could not be written: %s", exc)

    async def checkpoint(self) -> Event | None:
        """Append a signed checkpoint of the head, unless nothing came after the last one."""
        head = await self._log.recorded_head()
        if head is None or head[0] <= self._last_checkpoint_seq:
            return None
        covers_seq, covers_hash = head
        signed = sign_checkpoint(self._key, covers_seq, covers_hash)
        event = await self._log.append(checkpoint_event(signed, source=SOURCE))
        self._last_checkpoint_seq = event.seq
        return event

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._interval_s())
            try:
                await self.checkpoint()
            except EventLogError as exc:
                # The log refuses appends (disk full): try again at the next interval.
                _log.error("a log checkpoint could not be written: %s", exc)
