"""Who may use the control socket: root, the daemon's own user and `allowed_groups`.

Refusals are recorded as `control.auth` events, rate-limited per uid so a
refused local user cannot fill the log by hammering the socket.
"""

from __future__ import annotations

import asyncio
import grp
import os
import pwd
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from pydantic import JsonValue

from sysward.control.peer import PeerCredentials
from sysward.events import topics
from sysward.events.log import EventLog
from sysward.events.record import NewEvent

SOURCE = "sysward.control"
MAX_RECORDED_PATH_CHARS = 256


@dataclass(frozen=True, slots=True)
class AccessDecision:
    is_allowed: bool
    reason: str


def decide_access(
    peer: PeerCredentials | None, allowed_groups: Sequence[str], *, owner_uid: int
) -> AccessDecision:
    """Allow root, the user the daemon runs as, and members of the allowed groups."""
    if peer is None:
        return AccessDecision(False, "the peer's credentials are unknown (not a Unix socket?)")
    if peer.uid == 0:
        return AccessDecision(True, "root")
    if peer.uid == owner_uid:
        return AccessDecision(True, "the daemon's own user")
    group = _member_group(peer, allowed_groups)
    if group is not None:
        return AccessDecision(True, f"member of group {group}")
    wanted = ", ".join(allowed_groups) or "(none configured)"
    return AccessDecision(False, f"uid {peer.uid} is neither root nor in a group of: {wanted}")


def _member_group(peer: PeerCredentials, allowed_groups: Sequence[str]) -> str | None:
    user = _user(peer.uid)
    for name in allowed_groups:
        try:
            group = grp.getgrnam(name)
        except KeyError:
            continue
        if peer.gid == group.gr_gid:
            return name
        if user is not None and (user.pw_gid == group.gr_gid or user.pw_name in group.gr_mem):
            return name
    return None


def _user(uid: int) -> pwd.struct_passwd | None:
    try:
        return pwd.getpwuid(uid)
    except KeyError:
        return None


def daemon_uid() -> int:
    return os.geteuid()


@dataclass(slots=True)
class AccessGate:
    """Decides per request, caching group lookups briefly: user and group databases
    (NSS: files, LDAP, sssd) are read off the event loop and not on every request."""

    owner_uid: int
    ttl_s: float = 10.0
    max_entries: int = 1024
    _cache: dict[tuple[int, int, tuple[str, ...]], tuple[float, AccessDecision]] = field(
        default_factory=dict
    )

    async def decide(
        self, peer: PeerCredentials | None, allowed_groups: Sequence[str]
    ) -> AccessDecision:
        if peer is None or peer.uid in (0, self.owner_uid):
            return decide_access(peer, allowed_groups, owner_uid=self.owner_uid)
        key = (peer.uid, peer.gid, tuple(allowed_groups))
        now = time.monotonic()
        cached = self._cache.get(key)
        if cached is not None and cached[0] > now:
            return cached[1]
        decision = await asyncio.to_thread(
            decide_access, peer, allowed_groups, owner_uid=self.owner_uid
        )
        if len(self._cache) >= self.max_entries:
            self._cache.clear()
        self._cache[key] = (now + self.ttl_s, decision)
        return decision


@dataclass(slots=True)
class AuthAudit:
    """Appends a `control.auth` event per refused request, at most one per uid per interval."""

    log: EventLog
    min_interval_s: float = 1.0
    _last: dict[int, float] = field(default_factory=dict)
    _suppressed: dict[int, int] = field(default_factory=dict)

    async def record_refusal(
        self, peer: PeerCredentials | None, decision: AccessDecision, method: str, path: str
    ) -> None:
        uid = peer.uid if peer is not None else -1
        now = time.monotonic()
        last = self._last.get(uid)
        if last is not None and now - last < self.min_interval_s:
            self._suppressed[uid] = self._suppressed.get(uid, 0) + 1
            return
        self._last[uid] = now
        data: dict[str, JsonValue] = {
            "decision": "denied",
            "uid": peer.uid if peer is not None else None,
            "gid": peer.gid if peer is not None else None,
            "pid": peer.pid if peer is not None else None,
            "method": method,
            "path": path[:MAX_RECORDED_PATH_CHARS],
            "reason": decision.reason,
            "suppressed": self._suppressed.pop(uid, 0),
        }
        draft = NewEvent(topic=topics.CONTROL_AUTH, type="denied", source=SOURCE, data=data)
        await self.log.append(draft)
