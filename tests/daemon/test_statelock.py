"""One daemon per state directory."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from sysward.daemon.errors import StartupError
from sysward.daemon.statelock import StateLock


def test_a_second_holder_is_refused_with_the_first_ones_pid(tmp_path: Path) -> None:
    first = StateLock.acquire(tmp_path)
    try:
        expected = re.escape(f"in use by another syswardd (pid {os.getpid()})")
        with pytest.raises(StartupError, match=expected):
            StateLock.acquire(tmp_path)
    finally:
        first.release()


def test_a_released_lock_can_be_taken_again(tmp_path: Path) -> None:
    StateLock.acquire(tmp_path).release()
    again = StateLock.acquire(tmp_path)
    again.release()
    again.release()  # idempotent
