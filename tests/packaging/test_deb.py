"""The .deb from packaging/build-deb.sh: what it holds, and a real install, run, remove, purge.

The package is built once per session. Installing needs root and changes this
machine's root filesystem (a throwaway CI VM); every install is purged in a
finally, and a machine that already has sysward or its state is left alone.
"""

from __future__ import annotations

import grp
import json
import os
import signal
import stat
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
BUILD_TIMEOUT_S = 900
DPKG_LOCK_WAIT_S = 120.0
START_S = 30.0
STOP_S = 30.0
PACKAGE_PATHS = ("/opt/sysward", "/var/lib/sysward", "/etc/sysward")


@pytest.fixture(scope="session")
def deb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out_dir = tmp_path_factory.mktemp("deb")
    result = subprocess.run(
        ["bash", str(REPO / "packaging" / "build-deb.sh"), str(out_dir)],
        capture_output=True,
        text=True,
        timeout=BUILD_TIMEOUT_S,
    )
    assert result.returncode == 0, f"build-deb.sh failed:\n{result.stderr}"
    path = Path(result.stdout.strip().splitlines()[-1])
    assert path.parent == out_dir and path.is_file(), result.stdout
    return path


def dpkg_deb(*args: str) -> str:
    result = subprocess.run(["dpkg-deb", *args], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout


def field(deb: Path, name: str) -> str:
    return dpkg_deb("--field", str(deb), name).strip()


def test_deb_is_named_for_its_version_and_architecture(deb: Path) -> None:
    assert deb.name == f"sysward_{field(deb, 'Version')}_{field(deb, 'Architecture')}.deb"


def test_deb_depends_on_debian_python3_and_libsystemd(deb: Path) -> None:
    depends = [part.strip() for part in field(deb, "Depends").split(",")]
    assert "python3 (>= 3.11)" in depends
    assert "libsystemd0" in depends
    # The venv's compiled extensions fit one python3 minor version only.
    assert "python3 (<< 3.12)" in depends


def test_deb_lists_the_config_as_its_only_conffile(deb: Path) -> None:
    assert "conffiles" in dpkg_deb("--info", str(deb))
    assert dpkg_deb("--info", str(deb), "conffiles").split() == ["/etc/sysward/sysward.toml"]


def test_deb_carries_units_snippets_man_pages_roles_and_commands(deb: Path) -> None:
    listing = dpkg_deb("--contents", str(deb))
    for path in (
        "./usr/lib/systemd/system/sysward.service",
        "./usr/lib/systemd/system/sysward.socket",
        "./usr/lib/sysusers.d/sysward.conf",
        "./usr/lib/tmpfiles.d/sysward.conf",
        "./usr/share/man/man8/syswardd.8.gz",
        "./usr/share/man/man1/sysward.1.gz",
        "./usr/share/sysward/roles/sysadmin.toml",
        "./usr/share/sysward/roles/default.toml",
        "./usr/share/doc/sysward/copyright",
        "./usr/share/sysward/runbooks/disk-filling.sh",
        "./usr/share/sysward/runbooks/lib.sh",
        "./etc/sysward/sysward.toml",
        "./usr/bin/syswardd -> /opt/sysward/bin/syswardd",
        "./usr/bin/sysward -> /opt/sysward/bin/sysward",
    ):
        assert path in listing, path
    assert " root/root " in listing and "/home/" not in listing


def test_venv_runs_on_debians_python3_from_opt(deb: Path, tmp_path: Path) -> None:
    dpkg_deb("--extract", str(deb), str(tmp_path))
    venv = tmp_path / "opt" / "sysward"
    assert (venv / "bin" / "python3").readlink() == Path("/usr/bin/python3")
    assert "home = /usr/bin\n" in (venv / "pyvenv.cfg").read_text()
    shebang = (venv / "bin" / "syswardd").read_text().splitlines()[0]
    assert shebang == "#!/opt/sysward/bin/python"
    site = next(venv.glob("lib/python3.*/site-packages"))
    assert (site / "sysward" / "roles").readlink() == Path("/usr/share/sysward/roles")
    assert not (site / "pip").exists(), "pip is build-time only"


def test_maintainer_scripts_are_posix_sh(deb: Path, tmp_path: Path) -> None:
    dpkg_deb("--control", str(deb), str(tmp_path))
    for script in ("postinst", "prerm", "postrm"):
        path = tmp_path / script
        assert path.stat().st_mode & stat.S_IXUSR, script
        subprocess.run(["sh", "-n", str(path)], check=True, timeout=30)


@dataclass
class Installation:
    """sysward installed from the .deb into this machine's root, purged at the end."""

    deb: Path
    had_group: bool

    def dpkg(self, *args: str) -> subprocess.CompletedProcess[str]:
        """Run dpkg, waiting (bounded) while apt or another dpkg holds its lock."""
        deadline = time.monotonic() + DPKG_LOCK_WAIT_S
        while True:
            result = subprocess.run(["dpkg", *args], capture_output=True, text=True, timeout=300)
            if "lock" not in result.stderr or time.monotonic() > deadline:
                return result
            time.sleep(1.0)

    def purge(self) -> subprocess.CompletedProcess[str]:
        result = self.dpkg("--purge", "sysward")
        if not self.had_group and has_group("sysward"):
            subprocess.run(["groupdel", "sysward"], check=False, timeout=30)
        return result


def has_group(name: str) -> bool:
    try:
        grp.getgrnam(name)
    except KeyError:
        return False
    return True


def is_installed() -> bool:
    result = subprocess.run(
        ["dpkg-query", "-W", "-f=${Status}", "sysward"], capture_output=True, text=True
    )
    return "installed" in result.stdout


@pytest.fixture(scope="module")
def installed(deb: Path) -> Iterator[Installation]:
    if os.geteuid() != 0:
        pytest.skip("installing the .deb needs root (dpkg -i on a throwaway VM)")
    present = [path for path in PACKAGE_PATHS if Path(path).exists()]
    if is_installed() or present:
        pytest.skip(f"this machine already has sysward ({present or 'package'}); not touching it")
    installation = Installation(deb, had_group=has_group("sysward"))
    try:
        result = installation.dpkg("--install", str(deb))
        assert result.returncode == 0, result.stdout + result.stderr
        yield installation
    finally:
        installation.purge()


def run(*command: str) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("SYSWARD_")}
    return subprocess.run(command, capture_output=True, text=True, env=env, timeout=60)


def test_installed_commands_answer_help(installed: Installation) -> None:
    for command in ("/usr/bin/sysward", "/usr/bin/syswardd"):
        result = run(command, "--help")
        assert result.returncode == 0, result.stderr
        assert result.stdout.startswith(f"usage: {Path(command).name} ")


def test_installed_man_pages_are_found_by_man(installed: Installation) -> None:
    assert run("man", "-w", "sysward").stdout.strip() == "/usr/share/man/man1/sysward.1.gz"
    assert run("man", "-w", "8", "syswardd").stdout.strip() == "/usr/share/man/man8/syswardd.8.gz"


def test_installed_units_verify_with_their_man_pages(installed: Installation) -> None:
    units = ["/usr/lib/systemd/system/sysward.service", "/usr/lib/systemd/system/sysward.socket"]
    result = run("systemd-analyze", "verify", *units)
    assert (result.returncode, result.stderr, result.stdout) == (0, "", "")


def test_install_makes_the_group_and_private_state(installed: Installation) -> None:
    assert has_group("sysward")
    assert stat.S_IMODE(Path("/var/lib/sysward").stat().st_mode) == 0o700
    credential = Path("/etc/sysward/credentials/llm")
    assert stat.S_IMODE(credential.stat().st_mode) == 0o600
    assert credential.read_text() == ""


def test_installed_daemon_serves_the_installed_cli(installed: Installation, tmp_path: Path) -> None:
    state_dir = tmp_path / "state"
    log_path = tmp_path / "syswardd.log"
    socket_path = state_dir / "sysward.sock"
    # No --config: the packaged /etc/sysward/sysward.toml and roles are what it loads.
    with log_path.open("wb") as log:
        daemon = subprocess.Popen(
            ["/usr/bin/syswardd", "--state-dir", str(state_dir)], stdout=log, stderr=log
        )
    try:
        status = wait_for_status(daemon, socket_path, log_path)
        assert status.returncode == 0, status.stderr
        health = json.loads(status.stdout)
        # The packaged config's `ops` agent, on the packaged sysadmin role.
        assert health["agents"] == 1, health
        assert health["version"] == field(installed.deb, "Version"), health
    finally:
        daemon.send_signal(signal.SIGTERM)
        code = daemon.wait(timeout=STOP_S)
    assert code == 0, log_path.read_text()


def wait_for_status(
    daemon: subprocess.Popen[bytes], socket_path: Path, log_path: Path
) -> subprocess.CompletedProcess[str]:
    deadline = time.monotonic() + START_S
    while True:
        assert daemon.poll() is None, f"syswardd exited:\n{log_path.read_text()}"
        status = run("/usr/bin/sysward", "--socket", str(socket_path), "--json", "status")
        if status.returncode != 3 or time.monotonic() > deadline:
            return status
        time.sleep(0.1)


# Last: it removes what the tests above use (pytest runs a module's tests in order).
def test_remove_keeps_state_and_purge_deletes_it(installed: Installation) -> None:
    removed = installed.dpkg("--remove", "sysward")
    assert removed.returncode == 0, removed.stderr
    assert not Path("/usr/bin/syswardd").exists()
    assert Path("/var/lib/sysward").is_dir() and Path("/etc/sysward/sysward.toml").is_file()
    purged = installed.purge()
    assert purged.returncode == 0, purged.stderr
    assert "purged the event log" in purged.stdout
    assert not any(Path(path).exists() for path in PACKAGE_PATHS)
