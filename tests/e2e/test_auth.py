"""Peer authentication by SO_PEERCRED: curl run as another user under `setpriv`.

Needs root (to switch users) and setpriv; skipped cleanly otherwise.
"""

from __future__ import annotations

import grp
import os
import shutil
import stat
from pathlib import Path

import pytest

from foreign_uid import ForeignUidPython
from sysward.llm.scripted import ScriptedLlmServer

from .daemon import DaemonLauncher, DaemonProcess, curl, write_config

NOBODY = 65534
AS_NOBODY = ["setpriv", "--reuid", str(NOBODY), "--regid", str(NOBODY), "--clear-groups"]

pytestmark = [
    pytest.mark.root,
    pytest.mark.skipif(os.geteuid() != 0, reason="switching users needs root"),
    pytest.mark.skipif(shutil.which("setpriv") is None, reason="setpriv is not installed"),
    pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed"),
]


async def launch(
    launcher: DaemonLauncher, root: Path, llm: ScriptedLlmServer, groups: list[str]
) -> DaemonProcess:
    socket_path = root / "sysward.sock"
    config = write_config(
        root / "sysward.toml",
        state_dir=root / "state",
        socket_path=socket_path,
        llm_url=llm.base_url,
        allowed_groups=groups,
    )
    return await launcher.launch(["--config", str(config)], socket_path=socket_path)


async def test_a_non_member_is_refused_with_403_and_an_auth_event(
    launcher: DaemonLauncher, llm: ScriptedLlmServer, short_tmp: Path
) -> None:
    daemon = await launch(launcher, short_tmp, llm, ["sysward-e2e-nobody"])
    # Defence in depth: even when the socket's mode lets anyone connect, the peer check holds.
    daemon.socket_path.chmod(0o666)
    refused = await curl(daemon.socket_path, "GET", "/v1/agents", prefix=AS_NOBODY)
    assert refused.status == 403, refused
    assert refused.json()["error"]["code"] == "forbidden"
    assert f"uid {NOBODY}" in refused.json()["error"]["message"]
    created = await curl(
        daemon.socket_path,
        "POST",
        "/v1/agents",
        "--json",
        '{"name": "x", "role": "default"}',
        prefix=AS_NOBODY,
    )
    assert created.status == 403
    async with daemon.client() as client:
        agents = (await client.get("/v1/agents")).json()
        page = (await client.get("/v1/events", params={"topic": "control.auth"})).json()
    assert agents == []
    event = page["events"][0]
    assert event["type"] == "denied"
    assert event["data"]["uid"] == NOBODY
    assert event["data"]["path"] == "/v1/agents"
    assert event["context"]["peer_uid"] == NOBODY


async def test_with_the_socket_mode_a_non_member_cannot_even_connect(
    launcher: DaemonLauncher, llm: ScriptedLlmServer, short_tmp: Path
) -> None:
    daemon = await launch(launcher, short_tmp, llm, ["sysward-e2e-nobody"])
    assert stat.S_IMODE(daemon.socket_path.stat().st_mode) == 0o660
    result = await curl(daemon.socket_path, "GET", "/v1/health", prefix=AS_NOBODY)
    assert result.exit_code == 7  # couldn't connect: permission denied on the socket file
    assert result.status == 0


async def test_a_member_of_an_allowed_group_is_served(
    launcher: DaemonLauncher, llm: ScriptedLlmServer, short_tmp: Path
) -> None:
    group = grp.getgrgid(NOBODY).gr_name  # nobody's primary group (nogroup on Debian)
    daemon = await launch(launcher, short_tmp, llm, [group])
    assert daemon.socket_path.stat().st_gid == NOBODY  # the socket belongs to the group
    served = await curl(daemon.socket_path, "GET", "/v1/agents", prefix=AS_NOBODY)
    assert served.status == 200, served
    assert served.json() == []


async def test_dev_mode_runs_unprivileged_and_serves_its_own_user(
    launcher: DaemonLauncher, short_tmp: Path, nobody_python: ForeignUidPython
) -> None:
    state_dir = short_tmp / "nobody-state"
    state_dir.mkdir()
    os.chown(state_dir, NOBODY, NOBODY)
    socket_path = state_dir / "sysward.sock"
    daemon = await launcher.launch(
        ["--state-dir", str(state_dir)],
        socket_path=socket_path,
        prefix=nobody_python.user.setpriv,
        python=nobody_python.python,
        env=nobody_python.env,
    )
    assert socket_path.stat().st_uid == NOBODY
    served = await curl(socket_path, "GET", "/v1/agents", prefix=AS_NOBODY)
    assert served.status == 200, served
    assert await daemon.terminate() == 0
