"""`sysward approvals`, `approve ID` and `deny ID --reason R`."""

from __future__ import annotations

from typing import Any

from .fake_daemon import FakeDaemon

APPROVAL = "ap_01JDAPPROVE000000000000000"


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
