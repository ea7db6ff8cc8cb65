"""`sysward approvals`, `approve ID`, `deny ID`: decide tool calls the policy asked about."""

from __future__ import annotations

import argparse

from sysward.cli.command import CommandSet, Context
from sysward.cli.output import compact, dash, print_json, say, table
from sysward.cli.shapes import Approval
from sysward.control.client import path_segment

COLUMNS = ("ID", "AGENT", "CALL", "ARGS", "REASON", "EXPIRES")
ARGS_CHARS = 50


def register(commands: CommandSet) -> None:
    commands.add("approvals", run_approvals, "tool calls waiting for an operator's decision")
    for decision, summary in (
        ("approve", "let a pending tool call run"),
        ("deny", "refuse a pending tool call"),
    ):
        parser = commands.add(decision, run_decide, summary)
        parser.add_argument("approval", metavar="ID")
        parser.add_argument("--reason", default="", metavar="R", help="recorded in the log")
        parser.set_defaults(decision=decision)


def run_approvals(ctx: Context, args: argparse.Namespace) -> int:
    approvals: list[Approval] = ctx.client.get("/v1/approvals")
    if ctx.is_json:
        print_json(approvals)
    elif not approvals:
        say("no pending approvals")
    else:
        say(table(COLUMNS, [approval_row(approval) for approval in approvals]))
    return 0


def approval_row(approval: Approval) -> list[str]:
    call = f"{approval.get('tool', '?')}.{approval.get('action', '?')}"
    return [
        approval["id"],
        dash(approval.get("agent")),
        call,
        compact(approval.get("args", {}), ARGS_CHARS),
        dash(approval.get("reason")),
        dash(approval.get("expires_at")),
    ]


def run_decide(ctx: Context, args: argparse.Namespace) -> int:
    approval: str = args.approval
    decision: str = args.decision
    body = {"decision": decision, "reason": args.reason}
    answer = ctx.client.post(f"/v1/approvals/{path_segment(approval)}", body)
    if ctx.is_json:
        print_json(answer if answer is not None else {"id": approval, **body})
    else:
        say(f"{'approved' if decision == 'approve' else 'denied'} {approval}")
    return 0
