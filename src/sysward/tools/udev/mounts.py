"""Mounts from ``/proc/self/mountinfo``, keyed by the block device number they come from.

mountinfo (proc(5)) is used rather than /proc/mounts because it carries the
``major:minor`` of each mount's device, which matches a block device without
guessing from source names (``/dev/root``, UUID=..., device-mapper aliases).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

MOUNTINFO = Path("/proc/self/mountinfo")

# mountinfo escapes space, tab, newline and backslash in paths as \ooo octal.
_OCTAL_ESCAPE = re.compile(r"\\([0-7]{3})")


@dataclass(frozen=True)
class MountEntry:
    """One line of mountinfo."""

    major: int
    minor: int
    root: str
    mount_point: str
    is_read_only: bool
    fs_type: str
    source: str


def unescape(field: str) -> str:
    """Undo mountinfo's octal escapes."""
    return _OCTAL_ESCAPE.sub(lambda match: chr(int(match.group(1), 8)), field)


def parse_mountinfo_line(line: str) -> MountEntry | None:
    """Parse one mountinfo line; None if it is not in the documented format."""
    fields = line.split(" ")  # the kernel separates with single spaces and escapes the rest
    try:
        separator = fields.index("-", 6)
        major_text, minor_text = fields[2].split(":")
        return MountEntry(
            major=int(major_text),
            minor=int(minor_text),
            root=unescape(fields[3]),
            mount_point=unescape(fields[4]),
            is_read_only="ro" in fields[5].split(","),
            fs_type=fields[separator + 1],
            source=unescape(fields[separator + 2]),
        )
    except (ValueError, IndexError):
        return None


def parse_mountinfo(text: str) -> list[MountEntry]:
    """Every well-formed line of a mountinfo file, in order."""
    # Split on "\n" only: str.splitlines would also split on \x1c, \u2028, ... in a path.
    entries = (parse_mountinfo_line(line) for line in text.split("\n") if line)
    return [entry for entry in entries if entry is not None]


def mounts_by_device(path: Path = MOUNTINFO) -> dict[tuple[int, int], list[MountEntry]]:
    """Mounts grouped by (major, minor); empty when mountinfo cannot be read."""
    try:
        text = path.read_text(encoding="utf-8", errors="backslashreplace")
    except OSError:
        return {}
    grouped: dict[tuple[int, int], list[MountEntry]] = {}
    for entry in parse_mountinfo(text):
        grouped.setdefault((entry.major, entry.minor), []).append(entry)
    return grouped
