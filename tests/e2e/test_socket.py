"""The control socket: bound by path (stale file replaced, live daemon refused, mode
0660), inherited from systemd (socket activation), and start-up refusals."""

from __future__ import annotations

import socket
import stat
from pathlib import Path

from sysward.llm.scripted import ScriptedLlmServer

from .daemon import DaemonLauncher, write_config


async def test_dev_mode_serves_on_state_dir_socket_with_mode_0660(
    launcher: DaemonLauncher, short_tmp: Path
) -> None:
    state_dir = short_tmp / "state"
    socket_path = state_dir / "sysward.sock"
    daemon = await launcher.launch(["--state-dir", str(state_dir)], socket_path=socket_path)
    mode = socket_path.stat().st_mode
    assert stat.S_ISSOCK(mode)
    assert stat.S_IMODE(mode) == 0o660
    assert stat.S_IMODE(state_dir.stat().st_mode) == 0o700
    assert await daemon.terminate() == 0


async def test_a_stale_socket_file_is_replaced(
    launcher: DaemonLauncher, llm: ScriptedLlmServer, short_tmp: Path
) -> None:
    directory = short_tmp / "d"
    directory.mkdir()
    stale = directory / "sysward.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as leftover:
        leftover.bind(str(stale))  # bound, never listening: what a crashed daemon leaves
    daemon = await launcher.launch_configured(llm.base_url)
    assert daemon.socket_path == stale
    assert "removing stale control socket" in daemon.stderr
    assert await daemon.terminate() == 0


async def test_a_second_daemon_on_a_live_socket_is_refused(
    launcher: DaemonLauncher, llm: ScriptedLlmServer, short_tmp: Path
) -> None:
    first = await launcher.launch_configured(llm.base_url)
    other = short_tmp / "other"
    other.mkdir()
    config = write_config(
        other / "sysward.toml",
        state_dir=other / "state",
        socket_path=first.socket_path,
        llm_url=llm.base_url,
    )
    second = await launcher.launch(
        ["--config", str(config)], socket_path=first.socket_path, wait=False
    )
    assert await second.wait_exit() == 1
    assert "another syswardd is serving" in second.stderr
    async with first.client() as client:
        assert (await client.get("/v1/health")).status_code == 200
    assert await first.terminate() == 0


async def test_a_second_daemon_on_the_same_state_dir_is_refused(
    launcher: DaemonLauncher, llm: ScriptedLlmServer
) -> None:
    first = await launcher.launch_configured(llm.base_url)
    assert first.config_path is not None
    other_socket = first.config_path.parent / "other.sock"
    config = first.config_path.parent / "second.toml"
    config.write_text(
        first.config_path.read_text().replace(str(first.socket_path), str(other_socket))
    )
    second = await launcher.launch(["--config", str(config)], socket_path=other_socket, wait=False)
    assert await second.wait_exit() == 1
    assert f"is in use by another syswardd (pid {first.process.pid})" in second.stderr
    assert not other_socket.exists()
    assert await first.terminate() == 0


async def test_a_file_that_is_not_a_socket_is_never_removed(
    launcher: DaemonLauncher, llm: ScriptedLlmServer, short_tmp: Path
) -> None:
    directory = short_tmp / "d"
    directory.mkdir()
    (directory / "sysward.sock").write_text("precious")
    daemon = await launcher.launch_configured(llm.base_url, wait=False)
    assert await daemon.wait_exit() == 1
    assert "exists and is not a socket" in daemon.stderr
    assert (directory / "sysward.sock").read_text() == "precious"


async def test_socket_activation_serves_on_the_inherited_fd(
    launcher: DaemonLauncher, llm: ScriptedLlmServer, short_tmp: Path
) -> None:
    activated = short_tmp / "activated.sock"
    listening = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listening.bind(str(activated))
    listening.listen()
    bound_path = short_tmp / "never-bound.sock"
    config = write_config(
        short_tmp / "sysward.toml",
        state_dir=short_tmp / "state",
        socket_path=bound_path,
        llm_url=llm.base_url,
    )
    fd = listening.fileno()
    # The way systemd does it: the socket is fd 3, LISTEN_PID is the daemon's own pid
    # (bash, not dash: dash cannot redirect fds above 9).
    command = (
        f'LISTEN_PID=$$ LISTEN_FDS=1 exec "$0" "$@" 3<&{fd} {fd}<&-'
        if fd != 3
        else 'LISTEN_PID=$$ LISTEN_FDS=1 exec "$0" "$@"'
    )
    try:
        daemon = await launcher.launch(
            ["--config", str(config)],
            socket_path=activated,
            prefix=["bash", "-c", command],  # $0 "$@" = python -m sysward.daemon --config …
            pass_fds=[fd],
        )
        assert not bound_path.exists()
        assert "fd 3 from systemd" in daemon.stderr
        async with daemon.client() as client:
            assert (await client.get("/v1/agents")).status_code == 200
        assert await daemon.terminate() == 0
        assert activated.exists()  # systemd's socket stays where it is
    finally:
        listening.close()


async def test_a_missing_config_file_fails_with_its_path(
    launcher: DaemonLauncher, short_tmp: Path
) -> None:
    missing = short_tmp / "nowhere.toml"
    daemon = await launcher.launch(
        ["--config", str(missing)], socket_path=short_tmp / "x.sock", wait=False
    )
    assert await daemon.wait_exit() == 1
    assert f"{missing}: config file not found" in daemon.stderr


async def test_a_bad_config_fails_with_file_line_and_key(
    launcher: DaemonLauncher, short_tmp: Path
) -> None:
    config = short_tmp / "sysward.toml"
    config.write_text('[daemon]\nstate_dir = "/tmp/x"\n\n[llm.default]\nbase_url = "ftp://x"\n')
    daemon = await launcher.launch(
        ["--config", str(config)], socket_path=short_tmp / "x.sock", wait=False
    )
    assert await daemon.wait_exit() == 1
    assert f"{config}:5: llm.default.base_url" in daemon.stderr
