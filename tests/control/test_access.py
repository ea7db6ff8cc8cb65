"""SO_PEERCRED reading and the access decision: root, the daemon's user, allowed groups."""

from __future__ import annotations

import grp
import os
import pwd
import socket

import pytest

from sysward.control.access import AccessGate, decide_access
from sysward.control.peer import PeerCredentials, read_peer_credentials

NOBODY = 65534


def test_peer_credentials_of_a_unix_socket_are_the_connecting_process() -> None:
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    with ours, theirs:
        peer = read_peer_credentials(ours)
    assert peer == PeerCredentials(pid=os.getpid(), uid=os.getuid(), gid=os.getgid())


def test_a_tcp_peer_has_no_credentials() -> None:
    with socket.create_server(("127.0.0.1", 0)) as server:
        with socket.create_connection(server.getsockname()) as client:
            accepted, _ = server.accept()
            with accepted:
                assert read_peer_credentials(accepted) is None
        assert client is not None


def test_an_object_that_is_not_a_socket_has_no_credentials() -> None:
    assert read_peer_credentials(None) is None


def test_root_is_allowed_whatever_the_groups() -> None:
    decision = decide_access(PeerCredentials(1, 0, 0), [], owner_uid=1000)
    assert decision.is_allowed
    assert decision.reason == "root"


def test_the_daemons_own_user_is_allowed() -> None:
    decision = decide_access(PeerCredentials(1, 1000, 1000), ["nosuchgroup"], owner_uid=1000)
    assert decision.is_allowed


def test_unknown_credentials_are_refused() -> None:
    assert not decide_access(None, ["sysward"], owner_uid=0).is_allowed


def test_a_peer_whose_gid_is_an_allowed_group_is_allowed() -> None:
    group = grp.getgrgid(NOBODY).gr_name
    decision = decide_access(PeerCredentials(1, 4242, NOBODY), [group], owner_uid=0)
    assert decision.is_allowed
    assert group in decision.reason


def test_a_user_whose_primary_group_is_allowed_is_allowed() -> None:
    group = grp.getgrgid(NOBODY).gr_name  # nobody's primary group
    decision = decide_access(PeerCredentials(1, NOBODY, 4242), [group], owner_uid=0)
    assert decision.is_allowed


def test_a_listed_member_of_an_allowed_group_is_allowed() -> None:
    members = [(g.gr_name, m) for g in grp.getgrall() for m in g.gr_mem]
    if not members:
        pytest.skip("no group on this machine lists members")
    group, member = members[0]
    uid = pwd.getpwnam(member).pw_uid
    if uid == 0:
        pytest.skip("the only listed member is root")
    decision = decide_access(PeerCredentials(1, uid, 4242), [group], owner_uid=0)
    assert decision.is_allowed


def test_a_non_member_is_refused_with_the_groups_named() -> None:
    decision = decide_access(
        PeerCredentials(1, NOBODY, NOBODY), ["sysward", "nosuchgroup"], owner_uid=0
    )
    assert not decision.is_allowed
    assert f"uid {NOBODY}" in decision.reason
    assert "sysward, nosuchgroup" in decision.reason


async def test_the_gate_caches_decisions_per_peer_and_groups() -> None:
    gate = AccessGate(owner_uid=0)
    peer = PeerCredentials(1, NOBODY, NOBODY)
    first = await gate.decide(peer, ["sysward-test-nosuchgroup"])
    assert not first.is_allowed
    assert await gate.decide(peer, ["sysward-test-nosuchgroup"]) is first
    group = grp.getgrgid(NOBODY).gr_name
    assert (await gate.decide(peer, [group])).is_allowed


async def test_the_gate_does_not_cache_root() -> None:
    gate = AccessGate(owner_uid=1000, max_entries=1)
    assert (await gate.decide(PeerCredentials(1, 0, 0), [])).is_allowed
    assert (await gate.decide(PeerCredentials(1, 1000, 1000), [])).is_allowed
    assert gate._cache == {}
