"""Where the file tool may act: anywhere, or only inside a set of root directories.

A path is judged by where it really leads: ``..`` and every symlink are
resolved (``os.path.realpath`` semantics, also for the not-yet-existing tail
of a new file's path), and the action then works on that real path, opening
its last component with ``O_NOFOLLOW``. This stops a model (or a file it was
shown) from reaching outside the roots through links or dot-dots. It is not a
sandbox against a concurrent writer inside a root swapping a directory for a
symlink mid-call; that needs ``openat2(RESOLVE_BENEATH)``.
These functions block (they read links); call them off the event loop.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from sysward.tools.file.models import shown
from sysward.tools.tool import ToolFailed


class Confinement:
    """Resolves paths and refuses those that lead outside the roots (if any)."""

    def __init__(self, roots: Sequence[Path] | None) -> None:
        if roots is not None and not all(root.is_absolute() for root in roots):
            raise ValueError(f"file tool roots must be absolute paths, got {list(roots)}")
        self.roots = None if roots is None else tuple(_real(str(root)) for root in roots)

    def resolve(self, path: str, *, follow_last: bool = True) -> Path:
        """The real path ``path`` leads to; with ``follow_last=False`` a final symlink is kept."""
        head, name = os.path.split(path.rstrip("/") or "/")
        keeps_link = not follow_last and name not in ("", ".", "..")
        real = _real(head) / name if keeps_link else _real(path)
        if self.roots is not None and not any(real.is_relative_to(root) for root in self.roots):
            roots = ", ".join(str(root) for root in self.roots)
            raise ToolFailed(
                "permission_denied",
                f"{shown(path)!r} resolves to {shown(real)!r}, outside the allowed roots "
                f"({roots}); use a path inside them",
                {"path": shown(path), "resolved": shown(real), "roots": list(map(str, self.roots))},
            )
        return real


def _real(path: str) -> Path:
    # realpath, unlike Path.resolve on 3.11, does not stat the result: a symlink
    # loop is left in place and the later open reports ELOOP.
    return Path(os.path.realpath(path))
