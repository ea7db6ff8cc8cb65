"""`sysward status`: is the daemon up, and how is it doing."""

from __future__ import annotations

import argparse

from sysward.cli.command import CommandSet, Context
from sysward.cli.output import duration, print_json, say, table
from sysward.cli.shapes import Health


def register(commands: CommandSet) -> None:
    commands.add("status", run_status, "the daemon's health: version, uptime, agents, last seq")


def run_status(ctx: Context, args: argparse.Namespace) -> int:
    health: Health = ctx.client.get("/v1/health")
    if ctx.is_json:
        print_json(health)
        return 0
    rows = [
        ["status", health["status"]],
        ["version", health["version"]],
        ["uptime", duration(health["uptime_s"])],
        ["agents", str(health["agents"])],
        ["last seq", str(health["last_seq"])],
        ["socket", ctx.client.socket_path],
    ]
    say(table(("daemon", ""), rows))
    return 0
