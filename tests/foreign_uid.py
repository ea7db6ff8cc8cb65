"""Our package and its dependencies, runnable by another uid (through `setpriv`).

The checkout and its .venv may lie where other users cannot enter (a clone in a
0700 `mktemp -d`), so the installed packages and `src/sysward` are mirrored into
a 0755 directory under /tmp and run by the base interpreter with PYTHONPATH
pointing there. Files are hard-linked when others may already read them (a link
bypasses the directories above it) and copied otherwise.
"""

from __future__ import annotations

import fnmatch
import json
import os
import pwd
import shutil
import stat
import subprocess
import sys
import sysconfig
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

import sysward

# Never imported by the code under test; leaving them out halves a mirror that must be copied.
TEST_ONLY_TOP_LEVEL = (
    *("mypy", "mypyc", "*__mypyc.*", "hypothesis", "_hypothesis_*", "llmock", "ruff"),
    *("_pytest", "pytest", "pytest_asyncio", "py.py", "pip", "setuptools", "pkg_resources"),
)
PROBE_TIMEOUT_S = 60.0
READ_DIR = os.R_OK | os.X_OK
# Importing the daemon takes 0.7 s; the tests that follow do that. This proves the mirror wins.
PROBE = "import json, sys, sysward; print(json.dumps([sys.version_info[:2], sysward.__file__]))"


@dataclass(frozen=True)
class ForeignUser:
    """A uid and primary gid that `setpriv` switches to, with no supplementary groups."""

    name: str
    uid: int
    gid: int

    @classmethod
    def named(cls, name: str) -> ForeignUser:
        entry = pwd.getpwnam(name)
        return cls(name, entry.pw_uid, entry.pw_gid)

    @property
    def setpriv(self) -> list[str]:
        return ["setpriv", f"--reuid={self.uid}", f"--regid={self.gid}", "--clear-groups"]

    def denial(self, path: Path, *, needs: int = os.X_OK) -> str | None:
        """Why this user cannot use `path` (enter every ancestor, then `needs` on it), or None."""
        for ancestor in reversed(path.parents):
            reason = self.missing_access(ancestor, os.X_OK)
            if reason is not None:
                return reason
        return self.missing_access(path, needs)

    def missing_access(self, path: Path, needs: int) -> str | None:
        try:
            info = path.stat()
        except FileNotFoundError:
            return f"{path} does not exist"
        if info.st_uid == self.uid:
            granted = info.st_mode >> 6
        elif info.st_gid == self.gid:
            granted = info.st_mode >> 3
        else:
            granted = info.st_mode
        if granted & needs == needs:
            return None
        mode = f"{stat.filemode(info.st_mode)} uid {info.st_uid} gid {info.st_gid}"
        verb = "enter" if stat.S_ISDIR(info.st_mode) else "run"
        verb = "list and enter" if needs & os.R_OK else verb
        return f"uid {self.uid} ({self.name}) may not {verb} {path} ({mode})"


@dataclass(frozen=True)
class ForeignUidPython:
    """The base interpreter and a mirror of our packages that `user` may read."""

    user: ForeignUser
    interpreter: Path
    root: Path

    @property
    def python(self) -> list[str]:
        """The interpreter and its flags; -S: like the venv, no site dir of the base Python."""
        return [str(self.interpreter), "-S"]

    @property
    def env(self) -> dict[str, str]:
        """What to add to a child's environment so the mirror, and only it, is imported."""
        return {
            "PYTHONPATH": f"{self.root / 'src'}:{self.root / 'site-packages'}",
            "PYTHONNOUSERSITE": "1",
            "PYTHONSAFEPATH": "1",  # the working directory may be the checkout
        }

    def module(self, name: str, *args: str) -> list[str]:
        """`python -m name args...` as the user: run it with `environ()`."""
        return [*self.user.setpriv, *self.python, "-m", name, *args]

    def environ(self) -> dict[str, str]:
        return {**os.environ, **self.env}


@contextmanager
def foreign_uid_python(user: ForeignUser) -> Iterator[ForeignUidPython]:
    """Build the mirror, prove `user` imports sysward from it, and remove it afterwards.

    Skips (saying which path is in the way) when no interpreter is usable by `user`.
    """
    if os.geteuid() != 0 or shutil.which("setpriv") is None:
        pytest.skip("running a program as another uid needs root and setpriv (util-linux)")
    interpreter = usable_interpreter(user)
    root = Path(tempfile.mkdtemp(prefix="sw-py-", dir="/tmp"))
    try:
        root.chmod(0o755)
        reason = user.denial(root, needs=READ_DIR)
        if reason is not None:
            pytest.skip(f"the Python mirror for {user.name} is unreachable: {reason}")
        mirror_packages(root)
        python = ForeignUidPython(user, interpreter, root)
        probe(python)
        yield python
    finally:
        shutil.rmtree(root, ignore_errors=True)


def usable_interpreter(user: ForeignUser) -> Path:
    """The venv's base interpreter, else a system one of the same X.Y, that `user` can run."""
    # A venv's python is a symlink to it, so resolving sys.executable is the fallback.
    base = Path(getattr(sys, "_base_executable", sys.executable)).resolve()
    candidates = {base: own_runtime(base)}
    name = f"python{sys.version_info.major}.{sys.version_info.minor}"
    for directory in ("/usr/local/bin", "/usr/bin"):
        system = Path(directory, name)
        if system.exists():
            candidates.setdefault(system.resolve(), system_runtime(system.resolve()))
    reasons = []
    for executable, runtime in candidates.items():
        reason = first_denial(user, runtime)
        if reason is None:
            return executable
        reasons.append(f"{executable}: {reason}")
    pytest.skip(
        f"no Python {user.name} can run: {'; '.join(reasons)}. Build .venv from a Python "
        f"every user can run (for example `/usr/bin/{name} -m venv .venv`), or let others "
        "enter the directories named above"
    )


Runtime = list[tuple[Path, int]]


def own_runtime(executable: Path) -> Runtime:
    """What running `executable` reads: itself, its standard library and libpython."""
    runtime = [(executable, os.X_OK), (Path(sysconfig.get_path("stdlib")).resolve(), READ_DIR)]
    # A shared build whose libpython is unreadable silently loads another libpython instead.
    if sysconfig.get_config_var("Py_ENABLE_SHARED"):
        runtime.append((Path(sysconfig.get_config_var("LIBDIR")).resolve(), os.X_OK))
    return runtime


def system_runtime(executable: Path) -> Runtime:
    """The same for a system Python, whose prefix is the directory above its bin/."""
    return [(executable, os.X_OK), (executable.parent.parent / "lib" / executable.name, READ_DIR)]


def first_denial(user: ForeignUser, runtime: Runtime) -> str | None:
    for path, access in runtime:
        reason = user.denial(path, needs=access)
        if reason is not None:
            return reason
    return None


def mirror_packages(root: Path) -> None:
    """`root/site-packages`: the installed distributions; `root/src/sysward`: our package."""
    package = Path(sysward.__file__).parent
    for site in dict.fromkeys(sysconfig.get_paths()[key] for key in ("purelib", "platlib")):
        mirror(Path(site), root / "site-packages", skip=(package.name, *TEST_ONLY_TOP_LEVEL))
    (root / "src").mkdir(mode=0o755)
    mirror(package, root / "src" / package.name, skip=())


def mirror(source: Path, target: Path, *, skip: Sequence[str]) -> None:
    """Recreate `source` under `target` with 0755 directories, leaving out top-level `skip`
    (shell patterns)."""
    for directory, dirnames, filenames in os.walk(source, followlinks=True):
        here = Path(directory)
        if here == source:
            dirnames[:] = [name for name in dirnames if not is_skipped(name, skip)]
            filenames = [name for name in filenames if not is_skipped(name, skip)]
        made = target / here.relative_to(source)
        made.mkdir(exist_ok=True)
        made.chmod(0o755)
        for name in filenames:
            place(here / name, made / name)


def is_skipped(name: str, patterns: Sequence[str]) -> bool:
    return any(fnmatch.fnmatch(name, pattern) for pattern in patterns)


def place(source: Path, target: Path) -> None:
    """Hard-link `source` when others may read it; else copy it and make the copy readable."""
    mode = source.stat().st_mode
    if mode & stat.S_IROTH:
        try:
            os.link(source, target)
            return
        except OSError:  # another filesystem, or protected_hardlinks: copy instead
            pass
    shutil.copy2(source, target)
    target.chmod(stat.S_IMODE(mode) | 0o444 | (0o111 if mode & stat.S_IXUSR else 0))


def probe(python: ForeignUidPython) -> None:
    """Fail (not skip) unless the user imports sysward from the mirror, on our X.Y."""
    command = [*python.user.setpriv, *python.python, "-c", PROBE]
    result = subprocess.run(
        command,
        capture_output=True,
        text=True,
        env=python.environ(),
        cwd="/",
        timeout=PROBE_TIMEOUT_S,
        check=False,
    )
    assert result.returncode == 0, f"{command} as {python.user.name} failed:\n{result.stderr}"
    version, package = json.loads(result.stdout)
    assert version == list(sys.version_info[:2]), f"{python.interpreter} is Python {version}"
    assert Path(package).is_relative_to(python.root / "src"), f"sysward came from {package}"
