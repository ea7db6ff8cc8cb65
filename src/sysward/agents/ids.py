"""Identifiers: sortable, unique ids for turns, calls and approvals."""

from __future__ import annotations

import os
import re
import time
from datetime import UTC, datetime
from typing import NewType

TurnId = NewType("TurnId", str)
AgentName = NewType("AgentName", str)

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def ulid() -> str:
    """A ULID: 48-bit millisecond time + 80 random bits, Crockford base32 (sorts by time)."""
    value = (int(time.time() * 1000) << 80) | int.from_bytes(os.urandom(10), "big")
    chars = []
    for _ in range(26):
        value, digit = divmod(value, 32)
        chars.append(_CROCKFORD[digit])
    return "".join(reversed(chars))


_TURN_ID = re.compile(r"^t_([0-9A-HJKMNP-TV-Z]{26})$")


def turn_created_at(turn: str) -> datetime | None:
    """When a turn id minted by `new_turn_id` was made (its ULID's time); None for others."""
    found = _TURN_ID.match(turn)
    if found is None:
        return None
    millis = 0
    for char in found.group(1)[:10]:  # the first 10 digits hold the 48-bit time
        millis = millis * 32 + _CROCKFORD.index(char)
    try:
        return datetime.fromtimestamp(millis / 1000, UTC)
    except (OverflowError, OSError, ValueError):
        return None


def new_turn_id() -> TurnId:
    return TurnId(f"t_{ulid()}")
