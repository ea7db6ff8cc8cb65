"""Policy rules: role allowlist, read-only switches, then first-matching rule.

Order (the first that decides wins):
1. the role's allowlist (`tool` or `tool:action`) — not listed: deny;
2. read-only (global or per agent) — any `write` action: deny;
3. the role's own rules, then the global `[[policy.rules]]`, first match wins;
4. no rule matched: `read` actions are allowed, `write` actions need approval.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Literal

from sysward.config import PolicyRule

Decision = Literal["allow", "deny", "ask"]


@dataclass(frozen=True, slots=True)
class PolicyDecision:
    """What the chokepoint decided for one call, and why (recorded on the dispatch)."""

    decision: Decision
    reason: str
    rule: str | None = None


@dataclass(frozen=True, slots=True)
class CallFacts:
    """What policy looks at: who asks, for what, with which arguments."""

    tool: str
    action: str
    is_write: bool
    args: Mapping[str, object]
    is_allowed_by_role: bool
    is_read_only: bool


def rule_matches(rule: PolicyRule, facts: CallFacts) -> bool:
    if not fnmatchcase(facts.tool, rule.tool) or not fnmatchcase(facts.action, rule.action):
        return False
    for name, pattern in rule.match.items():
        value = facts.args.get(name)
        if not isinstance(value, str) or not fnmatchcase(value, pattern):
            return False
    return True


def decide(
    facts: CallFacts,
    rules: Sequence[tuple[str, PolicyRule]],
) -> PolicyDecision:
    """Decide one call; `rules` are (label, rule) in the order they are checked."""
    if not facts.is_allowed_by_role:
        return PolicyDecision("deny", f"{facts.tool}:{facts.action} is not in the role's tools")
    if facts.is_read_only and facts.is_write:
        return PolicyDecision("deny", "read-only mode: write actions are refused")
    for label, rule in rules:
        if rule_matches(rule, facts):
            reason = rule.reason or f"matched {label}"
            return PolicyDecision(rule.decision, reason, rule=label)
    if facts.is_write:
        return PolicyDecision("ask", "no rule matched a write action: approval required")
    return PolicyDecision("allow", "no rule matched a read action: allowed by default")
