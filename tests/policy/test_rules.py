"""Policy: the order of the checks and how rules match a call."""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from sysward.config import PolicyRule
from sysward.policy.rules import CallFacts, PolicyDecision, decide, rule_matches


def facts(
    tool: str = "bash",
    action: str = "exec",
    *,
    is_write: bool = True,
    args: Mapping[str, object] | None = None,
    is_allowed_by_role: bool = True,
    is_read_only: bool = False,
) -> CallFacts:
    return CallFacts(
        tool=tool,
        action=action,
        is_write=is_write,
        args=args if args is not None else {"command": "ls /"},
        is_allowed_by_role=is_allowed_by_role,
        is_read_only=is_read_only,
    )


def rule(decision: str = "allow", **fields: object) -> PolicyRule:
    return PolicyRule.model_validate({"decision": decision, **fields})


def labelled(*rules: PolicyRule) -> list[tuple[str, PolicyRule]]:
    return [(f"policy.rules.{i}", r) for i, r in enumerate(rules)]


ALLOW_ALL = labelled(rule("allow"))


# -- order ---------------------------------------------------------------------------


def test_a_tool_outside_the_role_is_denied_even_when_a_rule_allows_it() -> None:
    decision = decide(facts(is_allowed_by_role=False, is_write=False), ALLOW_ALL)
    assert decision.decision == "deny"
    assert "bash:exec is not in the role's tools" in decision.reason
    assert decision.rule is None


def test_read_only_denies_a_write_even_when_a_rule_allows_it() -> None:
    decision = decide(facts(is_read_only=True, is_write=True), ALLOW_ALL)
    assert decision.decision == "deny"
    assert "read-only" in decision.reason


def test_read_only_lets_reads_through_to_the_rules() -> None:
    deny_reads = labelled(rule("deny", tool="file", action="read", reason="no reading"))
    decision = decide(facts("file", "read", is_write=False, is_read_only=True), deny_reads)
    assert decision == PolicyDecision("deny", "no reading", rule="policy.rules.0")
    allowed = decide(facts("file", "read", is_write=False, is_read_only=True), [])
    assert allowed.decision == "allow"


def test_the_first_matching_rule_wins() -> None:
    rules = labelled(
        rule("deny", tool="bash", match={"command": "rm -rf *"}, reason="never recursive deletes"),
        rule("allow", tool="bash"),
        rule("deny"),
    )
    # Not `rm -rf /var`: that is a hard block, decided before any rule.
    deleting = decide(facts(args={"command": "rm -rf /var/cache/build"}), rules)
    assert deleting == PolicyDecision("deny", "never recursive deletes", rule="policy.rules.0")
    listing = decide(facts(args={"command": "ls /var"}), rules)
    assert listing == PolicyDecision("allow", "matched policy.rules.1", rule="policy.rules.1")


def test_a_rule_without_a_reason_names_its_label() -> None:
    decision = decide(facts(), [("role ops rule 3", rule("ask"))])
    assert decision == PolicyDecision("ask", "matched role ops rule 3", rule="role ops rule 3")


@pytest.mark.parametrize(
    ("is_write", "expected"),
    [(False, "allow"), (True, "ask")],
    ids=["read-allowed", "write-asks"],
)
def test_with_no_matching_rule_reads_are_allowed_and_writes_ask(
    is_write: bool, expected: str
) -> None:
    unrelated = labelled(rule("deny", tool="systemd"))
    decision = decide(facts(is_write=is_write), unrelated)
    assert decision.decision == expected
    assert decision.rule is None


# -- matching --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tool", "action", "matches"),
    [
        ("*", "*", True),
        ("sys*", "re*", True),
        ("systemd", "restart", True),
        ("systemd", "re?tart", True),
        ("systemd", "start", False),
        ("bash", "*", False),
        ("SYSTEMD", "*", False),
    ],
)
def test_tool_and_action_are_globs(tool: str, action: str, matches: bool) -> None:
    call = facts("systemd", "restart", args={"unit": "nginx.service"})
    assert rule_matches(rule(tool=tool, action=action), call) is matches


@pytest.mark.parametrize(
    ("pattern", "command", "matches"),
    [
        ("rm -rf *", "rm -rf /", True),
        ("rm -rf *", "sudo rm -rf /", False),
        ("*rm -rf*", "sudo rm -rf /", True),
        ("ls", "ls -l", False),
        ("ls*", "ls -l", True),
    ],
)
def test_match_globs_the_named_string_argument(pattern: str, command: str, matches: bool) -> None:
    call = facts(args={"command": command})
    assert rule_matches(rule(match={"command": pattern}), call) is matches


def test_every_match_glob_must_match() -> None:
    both = rule(match={"path": "/etc/*", "mode": "w*"})
    assert rule_matches(both, facts("file", "write", args={"path": "/etc/x", "mode": "write"}))
    assert not rule_matches(both, facts("file", "write", args={"path": "/etc/x", "mode": "a"}))


@pytest.mark.parametrize(
    "value",
    [None, 1, 1.5, True, ["rm -rf /"], {"command": "rm -rf /"}],
    ids=["null", "int", "float", "bool", "list", "object"],
)
def test_a_non_string_argument_never_matches_a_match_glob(value: object) -> None:
    call = facts(args={"command": value})
    assert not rule_matches(rule(match={"command": "*"}), call)


def test_a_missing_argument_never_matches_a_match_glob() -> None:
    assert not rule_matches(rule(match={"command": "*"}), facts(args={}))


def test_a_deny_rule_on_a_non_string_argument_falls_through_to_the_next_rule() -> None:
    rules = labelled(rule("deny", match={"count": "*"}), rule("allow"))
    decision = decide(facts(args={"count": 3}), rules)
    assert decision.rule == "policy.rules.1"
