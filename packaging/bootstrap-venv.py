"""Create a virtualenv with pip on any python3 >= 3.11, even one without ensurepip.

Debian and Ubuntu ship python3 without ensurepip (it is in python3-venv), so a
plain ``python3 -m venv`` fails on a fresh server and `make demo` would need
root to apt-get a package. Instead, when ensurepip is missing, the venv is made
``--without-pip`` and pip is installed from its wheel on PyPI, checked against
the SHA-256 that PyPI publishes. Standard library only: nothing is installed yet.

Usage: python3 packaging/bootstrap-venv.py VENV_DIR
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import subprocess
import sys
import tempfile
import urllib.parse
import urllib.request
import venv
from pathlib import Path
from typing import Any

PYPI_PIP = "https://pypi.org/pypi/pip/json"
TIMEOUT_S = 60


class BootstrapError(Exception):
    """The venv could not be made; the message says what to do."""


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: bootstrap-venv.py VENV_DIR", file=sys.stderr)
        return 2
    if sys.version_info < (3, 11):  # noqa: UP036 - run by whatever python3 the host has
        print(f"sysward needs Python >= 3.11; {sys.executable} is {sys.version.split()[0]}")
        return 1
    target = Path(argv[1])
    try:
        create(target)
    except BootstrapError as exc:
        print(f"bootstrap-venv: {exc}", file=sys.stderr)
        return 1
    return 0


def create(target: Path) -> None:
    if importlib.util.find_spec("ensurepip") is not None:
        venv.create(target, with_pip=True)
        return
    print(f"bootstrap-venv: {sys.executable} has no ensurepip; installing pip from PyPI")
    venv.create(target, with_pip=False)
    with tempfile.TemporaryDirectory() as scratch:
        wheel = download_pip_wheel(Path(scratch))
        python = target / "bin" / "python"
        # A wheel is a zip that Python can run: pip installs itself from its own file.
        command = [str(python), f"{wheel}/pip", "install", "--quiet", "--no-index", str(wheel)]
        if subprocess.run(command, check=False).returncode != 0:
            raise BootstrapError(f"installing {wheel.name} into {target} failed (see above)")


def download_pip_wheel(directory: Path) -> Path:
    release = _fetch_json(PYPI_PIP)
    files = [f for f in release.get("urls", []) if str(f.get("filename", "")).endswith(".whl")]
    if not files:
        raise BootstrapError(f"{PYPI_PIP} lists no pip wheel; install python3-venv instead")
    chosen = files[0]
    # Mirrors and PyPI's own proxy may answer relative file addresses.
    data = _fetch(urllib.parse.urljoin(PYPI_PIP, str(chosen["url"])))
    expected = chosen.get("digests", {}).get("sha256")
    actual = hashlib.sha256(data).hexdigest()
    if actual != expected:
        raise BootstrapError(f"{chosen['filename']}: SHA-256 {actual} is not PyPI's {expected}")
    wheel = directory / str(chosen["filename"])
    wheel.write_bytes(data)
    return wheel


def _fetch_json(url: str) -> dict[str, Any]:
    document = json.loads(_fetch(url))
    if not isinstance(document, dict):
        raise BootstrapError(f"{url} did not answer a JSON object")
    return document


def _fetch(url: str) -> bytes:
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_S) as response:
            body: bytes = response.read()
            return body
    except (OSError, ValueError) as exc:
        raise BootstrapError(
            f"cannot download {url} ({exc}); either let this host reach PyPI or "
            "install python3-venv (apt install python3-venv) and run make again"
        ) from exc


if __name__ == "__main__":
    sys.exit(main(sys.argv))
