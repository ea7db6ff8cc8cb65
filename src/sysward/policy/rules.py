"""Policy rules: role allowlist, read-only switches, hard blocks, then first-matching rule.

Order (the first that decides wins):
1. the role's allowlist (`tool` or `tool:action`) — not listed: deny;
2. read-only (global or per agent) — any `write` action: deny;
3. for `bash exec`: hard blocks from the shell analysis — deny, whatever the rules;
4. the role's own rules, then the global `[[policy.rules]]`, first match wins — for
   `bash exec` per simple command, the most restrictive part deciding (deny > ask > allow);
5. for `bash exec`: a dangerous pattern or an unreadable part turns `allow` into `ask`;
6. no rule matched: `read` actions are allowed, `write` actions need approval.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Literal

from sysward.config import PolicyRule
from sysward.policy.shell import ShellAnalysis, SimpleCommand, analyse, dangers, hard_blocks

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
    command = facts.args.get(SHELL_ARG)
    if (facts.tool, facts.action) == SHELL_CALL and isinstance(command, str):
        return _decide_shell(facts, command, rules)
    return _first_match(rules, lambda rule: rule_matches(rule, facts)) or _default(facts)


def _first_match(
    rules: Sequence[tuple[str, PolicyRule]], matches: Callable[[PolicyRule], bool]
) -> PolicyDecision | None:
    for label, rule in rules:
        if matches(rule):
            return PolicyDecision(rule.decision, rule.reason or f"matched {label}", rule=label)
    return None


def _default(facts: CallFacts) -> PolicyDecision:
    if facts.is_write:
        return PolicyDecision("ask", "no rule matched a write action: approval required")
    return PolicyDecision("allow", "no rule matched a read action: allowed by default")


# -- bash exec: per simple command -----------------------------------------------------

SHELL_CALL = ("bash", "exec")
SHELL_ARG = "command"
_SEVERITY: dict[Decision, int] = {"allow": 0, "ask": 1, "deny": 2}


def _decide_shell(
    facts: CallFacts, command: str, rules: Sequence[tuple[str, PolicyRule]]
) -> PolicyDecision:
    cwd = facts.args.get("cwd")
    analysis = analyse(command, cwd if isinstance(cwd, str) and cwd.startswith("/") else None)
    blocks = hard_blocks(analysis)
    if blocks:
        return PolicyDecision("deny", f"{blocks[0].reason} (in `{blocks[0].command}`)")
    parts = [c for c in analysis.commands if c.argv]
    if not parts:
        raw = _first_match(rules, lambda rule: rule_matches(rule, facts)) or _default(facts)
        return _unless_unreadable(raw, analysis)
    verdicts = [_decide_part(facts, part, analysis, rules, len(parts) == 1) for part in parts]
    worst = max(range(len(parts)), key=lambda i: _SEVERITY[verdicts[i].decision])
    decided = verdicts[worst]
    if len(parts) > 1:
        reason = f"{decided.reason} (in `{parts[worst].label}`)"
        decided = PolicyDecision(decided.decision, reason, decided.rule)
    return _unless_unreadable(decided, analysis)


def _decide_part(
    facts: CallFacts,
    part: SimpleCommand,
    analysis: ShellAnalysis,
    rules: Sequence[tuple[str, PolicyRule]],
    is_whole_line: bool,
) -> PolicyDecision:
    """The first rule that matches this part; an `allow` rule must match its exact argv.

    Deny and ask rules also match the whole line (as before per-part matching) and
    the command without its directory (`/bin/rm` as `rm`), so no spelling escapes them.
    """
    exact = {part.text, analysis.source} if is_whole_line else {part.text}
    loose = exact | {analysis.source, " ".join((part.name, *part.args))}

    def matches(rule: PolicyRule) -> bool:
        texts = exact if rule.decision == "allow" else loose
        return _rule_matches_texts(rule, facts, texts)

    return _first_match(rules, matches) or _default(facts)


def _rule_matches_texts(rule: PolicyRule, facts: CallFacts, texts: set[str]) -> bool:
    if not fnmatchcase(facts.tool, rule.tool) or not fnmatchcase(facts.action, rule.action):
        return False
    for name, pattern in rule.match.items():
        if name == SHELL_ARG:
            if not any(fnmatchcase(text, pattern) for text in texts):
                return False
            continue
        value = facts.args.get(name)
        if not isinstance(value, str) or not fnmatchcase(value, pattern):
            return False
    return True


def _unless_unreadable(decided: PolicyDecision, analysis: ShellAnalysis) -> PolicyDecision:
    """Turn `allow` into `ask` when part of the line is unseen or dangerous."""
    if decided.decision == "deny":
        return decided
    if analysis.parse_error is not None:
        reason = f"the command line cannot be analysed: {analysis.parse_error}"
        return PolicyDecision("ask", reason)
    if decided.decision == "ask" and decided.rule is not None:
        return decided
    if analysis.unanalysed:
        unseen = analysis.unanalysed[0]
        return PolicyDecision("ask", f"part of the command line is unseen: {unseen}")
    found = dangers(analysis)
    if found:
        # Also replaces the default ask's reason: whoever approves should see why.
        return PolicyDecision("ask", f"dangerous: {found[0].reason} (in `{found[0].command}`)")
    return decided
    if analysis.unanalysed:
        return PolicyDecision(
            "ask", f"part of the command line is unseen: {analysis.unanalysed[0]}"
        )
    found = dangers(analysis)
    if found:
        return PolicyDecision("ask", f"dangerous: {found[0].reason} (in `{found[0].command}`)")
    return decided
