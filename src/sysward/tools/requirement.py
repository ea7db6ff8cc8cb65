"""What an action needs from the host beyond the core package: a program, a library, a path.

An action declares its prerequisites with ``@action(effect=..., requires=(...))``.
The registry offers every action whether or not they are met, so a role's
toolset and the policy rules mean the same on every host; ``GET /v1/tools``
says which actions are unavailable here and why, and calling one returns the
standard ``unavailable`` error with what to install. A missing optional
dependency therefore disables only the actions that need it, never the daemon.
"""

from __future__ import annotations

import ctypes.util
import shutil
from collections.abc import Callable
from pathlib import Path


class Requirement:
    """One thing an action needs; ``missing()`` is None when the host has it."""

    __slots__ = ("_is_found", "_probe", "install", "what")

    def __init__(self, what: str, install: str, probe: Callable[[], bool]) -> None:
        self.what = what  # "the ping command"
        self.install = install  # "install the iputils-ping package"
        self._probe = probe
        self._is_found = False

    def missing(self) -> str | None:
        """Why the action cannot run here and how to fix it, or None when it can."""
        # Once present, a program or library does not vanish in a way worth a probe
        # per call; an absent one is probed again, so installing it takes effect
        # without a restart.
        if not self._is_found:
            self._is_found = self._probe()
        if self._is_found:
            return None
        return f"{self.what} is not available on this host; {self.install}"

    def __repr__(self) -> str:
        return f"Requirement({self.what!r})"


def program(name: str, *, install: str) -> Requirement:
    """An executable found on the daemon's PATH."""
    return Requirement(f"the {name} command", install, lambda: shutil.which(name) is not None)


def shared_library(name: str, *, install: str) -> Requirement:
    """A C library the dynamic linker finds (``udev`` for libudev.so)."""
    return Requirement(f"the lib{name} library", install, lambda: _has_library(name))


def host_path(path: Path, *, what: str, install: str) -> Requirement:
    """A file or directory the kernel or the distribution provides (``/sys/class``)."""
    return Requirement(what, install, path.exists)


def first_missing(requirements: tuple[Requirement, ...]) -> str | None:
    """The reason of the first unmet requirement, or None when all are met."""
    for requirement in requirements:
        reason = requirement.missing()
        if reason is not None:
            return reason
    return None


def _has_library(name: str) -> bool:
    return ctypes.util.find_library(name) is not None
