"""`sysward log verify`: walk the event log's hash chain."""

from __future__ import annotations

import argparse

from sysward.cli.command import CommandSet, Context
from sysward.cli.output import print_json, say
from sysward.cli.shapes import ChainReport

# Verifying reads every record; a large log takes a while.
VERIFY_TIMEOUT_S = 3600.0


def register(commands: CommandSet) -> None:
    log = commands.group("log", "the event log")
    log.add("verify", run_verify, "check the log's hash chain; exit 1 when it is broken")


def run_verify(ctx: Context, args: argparse.Namespace) -> int:
    report: ChainReport = ctx.client.post("/v1/log/verify", timeout_s=VERIFY_TIMEOUT_S)
    if ctx.is_json:
        print_json(report)
    elif report["ok"]:
        say(
            f"log intact: {report['checked']} events checked, last seq {report['last_seq']}, "
            f"head {report['head']}"
        )
    else:
        say(
            f"log BROKEN at seq {report.get('first_bad_seq')}: "
            f"{report.get('reason') or 'no reason given'} "
            f"({report['checked']} events before it are intact)"
        )
    return 0 if report["ok"] else 1
