"""Describing filesystem entries: ``stat`` of one path and a page of a directory listing.

Owners are reported by number and by name (looked up in passwd/group, which
may be NSS-backed: blocking). Times are ISO 8601 UTC. Call these off the loop.
"""

from __future__ import annotations

import fnmatch
import grp
import os
import pwd
import stat
from datetime import UTC, datetime
from pathlib import Path

from pydantic_core import to_json

from sysward.tools.file.confinement import Confinement
from sysward.tools.file.models import (
    ListArgs,
    ListEntry,
    ListOutput,
    StatArgs,
    StatOutput,
    file_type,
    octal_mode,
    shown,
)

# A page of entries stays well under the registry's 64 KiB result cap, however
# long the names: the page ends early (truncated, with next_offset) instead.
LIST_BUDGET_BYTES = 48 * 1024


def stat_path(confinement: Confinement, args: StatArgs) -> StatOutput:
    """Metadata of ``args.path``, of the link itself unless ``follow_symlinks``."""
    real = confinement.resolve(args.path, follow_last=args.follow_symlinks)
    info = real.lstat()
    return StatOutput(
        path=shown(real),
        type=file_type(info.st_mode),
        size=info.st_size,
        mode=octal_mode(info.st_mode),
        uid=info.st_uid,
        gid=info.st_gid,
        user=_user_name(info.st_uid),
        group=_group_name(info.st_gid),
        mtime=iso_utc(info.st_mtime_ns),
        ctime=iso_utc(info.st_ctime_ns),
        symlink_target=_link_target(real, info),
        inode=info.st_ino,
        nlink=info.st_nlink,
    )


def list_directory(confinement: Confinement, args: ListArgs) -> ListOutput:
    """A page of the entries of a directory, sorted by name, filtered as asked."""
    real = confinement.resolve(args.path)
    names = sorted(entry.name for entry in real.iterdir() if _is_wanted(entry.name, args))
    entries: list[ListEntry] = []
    used = 0
    for name in names[args.offset : args.offset + args.limit]:
        entry = _describe(real / name)
        if entry is None:
            continue  # removed since the directory was read
        used += len(to_json(entry))
        if used > LIST_BUDGET_BYTES:
            break
        entries.append(entry)
    shown_until = args.offset + len(entries)
    truncated = shown_until < len(names)
    return ListOutput(
        path=shown(real),
        entries=entries,
        total=len(names),
        truncated=truncated,
        next_offset=shown_until if truncated else None,
    )


def iso_utc(timestamp_ns: int) -> str:
    """Nanoseconds since the epoch as ISO 8601 UTC, e.g. ``2026-01-02T03:04:05.000006Z``."""
    seconds, nanoseconds = divmod(timestamp_ns, 10**9)
    moment = datetime.fromtimestamp(seconds, tz=UTC).replace(microsecond=nanoseconds // 1000)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _is_wanted(name: str, args: ListArgs) -> bool:
    if not args.include_hidden and name.startswith("."):
        return False
    return args.pattern is None or fnmatch.fnmatchcase(name, args.pattern)


def _describe(path: Path) -> ListEntry | None:
    try:
        info = path.lstat()
    except FileNotFoundError:
        return None
    return ListEntry(
        name=shown(path.name),
        type=file_type(info.st_mode),
        size=info.st_size,
        mode=octal_mode(info.st_mode),
        mtime=iso_utc(info.st_mtime_ns),
        symlink_target=_link_target(path, info),
    )


def _link_target(path: Path, info: os.stat_result) -> str | None:
    if not stat.S_ISLNK(info.st_mode):
        return None
    try:
        return shown(path.readlink())
    except FileNotFoundError:  # replaced since the lstat
        return None


def _user_name(uid: int) -> str | None:
    try:
        return shown(pwd.getpwuid(uid).pw_name)
    except KeyError:
        return None


def _group_name(gid: int) -> str | None:
    try:
        return shown(grp.getgrgid(gid).gr_name)
    except KeyError:
        return None
