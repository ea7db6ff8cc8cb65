"""Directory listings for recursive watches (blocking: run in a thread)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

# A listing stops here: past it the directory is reported as not completely watched.
MAX_ENTRIES_PER_DIRECTORY = 65_536


@dataclass(frozen=True)
class Listing:
    """What a directory holds: (name, is_dir) pairs, and whether the listing was cut."""

    entries: list[tuple[str, bool]]
    is_complete: bool


def list_directory(directory: str, *, include_files: bool) -> Listing:
    """Entries of ``directory`` (symlinks are not followed); files only if asked."""
    entries: list[tuple[str, bool]] = []
    try:
        with os.scandir(directory) as scan:
            for seen, entry in enumerate(scan):
                if seen >= MAX_ENTRIES_PER_DIRECTORY:
                    return Listing(entries, is_complete=False)
                is_dir = _is_dir(entry)
                if is_dir or include_files:
                    entries.append((entry.name, is_dir))
    except (FileNotFoundError, NotADirectoryError):
        # Gone since its watch was added: its own delete/move events say so.
        return Listing(entries, is_complete=True)
    except OSError:
        return Listing(entries, is_complete=False)
    return Listing(entries, is_complete=True)


def child_path(directory: str, name: str) -> str:
    """``directory/name`` as a string (paths stay str: they are built per event)."""
    return f"{directory.rstrip('/')}/{name}"


def resolve_existing(path: str) -> tuple[str, bool]:
    """The real path of an existing ``path`` and whether it is a directory."""
    resolved = Path(path).resolve(strict=True)
    return str(resolved), resolved.is_dir()


def _is_dir(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_dir(follow_symlinks=False)
    except OSError:
        return False
