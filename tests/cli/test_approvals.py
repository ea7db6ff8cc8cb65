"""`sysward approvals`, `approve ID` and `deny ID --reason R`."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

from sysward.control.client import ControlClient
from sysward.llm.scripted.script import native_call, text_completion, tool_calls_completion

from .fake_daemon import FakeDaemon
from .real_daemon import SYSWARD, RealDaemon, real_daemon

APPROVAL = "ap_01JDAPPROVE000000000000000"
WAIT_S = 20.0


def test_approvals_lists_the_pending_calls(daemon: FakeDaemon, cli: Any) -> None:
    result = cli("approvals")
    assert result.code == 0
    header, row = result.out.splitlines()
    assert header.split() == ["ID", "AGENT", "CALL", "ARGS", "REASON", "EXPIRES"]
    assert row.startswith(f'{APPROVAL}  ops    systemd.restart  {{"unit": "nginx.service"}}')


def test_approvals_json_is_the_list(daemon: FakeDaemon, cli: Any) -> None:
    assert cli("approvals", "--json").json()[0]["id"] == APPROVAL


def test_no_pending_approvals_says_so(daemon: FakeDaemon, cli: Any) -> None:
    daemon.approvals.clear()
    assert cli("approvals").out.strip() == "no pending approvals"
    assert cli("approvals", "--json").json() == []


def test_approve_posts_the_decision(daemon: FakeDaemon, cli: Any) -> None:
    result = cli("approve", APPROVAL)
    assert (result.code, result.out.strip()) == (0, f"approved {APPROVAL}")
    request = daemon.requests[0]
    assert request.path == f"/v1/approvals/{APPROVAL}"
    assert request.json() == {"decision": "approve", "reason": ""}


def test_deny_sends_the_reason(daemon: FakeDaemon, cli: Any) -> None:
    result = cli("deny", APPROVAL, "--reason", "not during business hours", "--json")
    assert result.code == 0
    assert result.json()["decision"] == "deny"
    assert daemon.requests[0].json() == {"decision": "deny", "reason": "not during business hours"}


def test_deciding_an_unknown_approval_fails(daemon: FakeDaemon, cli: Any) -> None:
    result = cli("approve", "ap_nosuch")
    assert result.code == 1
    assert "approval_not_found" in result.err


# -- against a real daemon -------------------------------------------------------------

# Agent `ops` may run `sleep` and must ask for any other command.
SLEEP_ALLOWED = """[agents.ops]
role = "sysadmin"

[[policy.rules]]
tool = "bash"
action = "exec"
match = { command = "sleep *" }
decision = "allow"
"""


def sysadmin_daemon(directory: Path, script: list[Any]) -> AbstractContextManager[RealDaemon]:
    """A real daemon whose agent `ops` may run `sleep` and must ask for any other command."""
    return real_daemon(directory, script, config=SLEEP_ALLOWED)


def append_script(target: Path, answer: str) -> list[Any]:
    call = native_call("bash_exec", {"command": f"echo ran >> {target}"}, call_id="c_append")
    return [tool_calls_completion(call), text_completion(answer)]


def wait_for(what: str, probe: Callable[[], Any]) -> Any:
    """Poll the daemon (it pushes nothing a synchronous test could block on), bounded."""
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        found = probe()
        if found:
            return found
        time.sleep(0.05)
    raise AssertionError(f"no {what} within {WAIT_S} s")


def parked_approval(daemon: RealDaemon) -> dict[str, Any]:
    client = ControlClient(str(daemon.socket_path))
    approvals: list[dict[str, Any]] = wait_for(
        "pending approval", lambda: client.get("/v1/approvals")
    )
    return approvals[0]


def ended_turn(daemon: RealDaemon, turn: str) -> dict[str, Any]:
    client = ControlClient(str(daemon.socket_path))

    def ended() -> dict[str, Any] | None:
        info: dict[str, Any] = client.get(f"/v1/turns/{turn}")
        return info if info["status"] not in ("pending", "running") else None

    found: dict[str, Any] = wait_for(f"end of turn {turn}", ended)
    return found


def start_turn(daemon: RealDaemon, text: str) -> str:
    started = daemon.sysward("ask", "ops", text, "--no-wait")
    assert started.returncode == 0, started.stderr
    return started.stdout.strip()


def test_real_approvals_lists_and_approve_runs_the_call(short_tmp: Path) -> None:
    target = short_tmp / "lines"
    with sysadmin_daemon(short_tmp, append_script(target, "appended")) as daemon:
        turn = start_turn(daemon, "append a line")
        approval = parked_approval(daemon)
        listed = daemon.sysward("approvals")
        assert listed.returncode == 0, listed.stderr
        row = listed.stdout.splitlines()[1]
        assert row.startswith(f"{approval['id']}  ops    bash.exec")
        as_json = json.loads(daemon.sysward("approvals", "--json").stdout)
        assert [a["id"] for a in as_json] == [approval["id"]]
        approved = daemon.sysward("approve", approval["id"])
        assert (approved.returncode, approved.stdout.strip()) == (0, f"approved {approval['id']}")
        assert ended_turn(daemon, turn)["answer"] == "appended"
        assert daemon.sysward("approvals").stdout.strip() == "no pending approvals"
    assert target.read_text() == "ran\n"


def test_real_deny_with_a_reason_reaches_the_model(short_tmp: Path) -> None:
    target = short_tmp / "lines"
    with sysadmin_daemon(short_tmp, append_script(target, "denied, as you wish")) as daemon:
        turn = start_turn(daemon, "append a line")
        approval = parked_approval(daemon)
        denied = daemon.sysward("deny", approval["id"], "--reason", "change freeze", "--json")
        assert denied.returncode == 0, denied.stderr
        assert json.loads(denied.stdout)["decision"] == "deny"
        info = ended_turn(daemon, turn)
        again = daemon.sysward("approve", approval["id"])
        assert again.returncode == 1 and "approval_closed" in again.stderr
    results = [e["data"]["result"] for e in info["events"] if e["topic"] == "tool.bash"]
    assert "change freeze" in results[0]["error"]["message"]
    assert not target.exists()


def test_real_unknown_approval_exits_1(short_tmp: Path) -> None:
    with sysadmin_daemon(short_tmp, []) as daemon:
        result = daemon.sysward("deny", "ap_nosuch")
    assert result.returncode == 1
    assert "approval_not_found" in result.stderr


def test_ctrl_c_in_ask_cancels_the_running_turn(short_tmp: Path) -> None:
    call = native_call("bash_exec", {"command": "sleep 30"}, call_id="c_sleep")
    with sysadmin_daemon(short_tmp, [tool_calls_completion(call)]) as daemon:
        command = [*SYSWARD, "--socket", str(daemon.socket_path), "ask", "ops", "sleep"]
        process = subprocess.Popen(command, stderr=subprocess.PIPE, text=True)
        try:
            assert process.stderr is not None
            assert process.stderr.readline().startswith("→ bash.exec")
            process.send_signal(signal.SIGINT)
            assert process.wait(timeout=WAIT_S) == 130
            said = process.stderr.read()
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
        turn = said.split("cancelled turn ", 1)[1].split()[0]
        assert ended_turn(daemon, turn)["status"] == "cancelled"
        assert ControlClient(str(daemon.socket_path)).get("/v1/health")["status"] == "ok"
