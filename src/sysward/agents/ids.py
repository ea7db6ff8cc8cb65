"""Identifiers: sortable, unique ids for turns, calls and approvals."""

from __future__ import annotations

import os
import time
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


def new_turn_id() -> TurnId:
    return TurnId(f"t_{ulid()}")
