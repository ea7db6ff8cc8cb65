"""`sysward triggers [enable|disable|test NAME]`: host events that start agents' turns."""

from __future__ import annotations

import argparse
from typing import Any

from sysward.cli.command import CommandSet, Context
from sysward.cli.output import compact, dash, note, print_json, say, table
from sysward.control.client import path_segment

COLUMNS = ("NAME", "SOURCE", "AGENT", "STATE", "FIRED/H", "LIMITS", "LAST FIRED", "MATCH")
MATCH_CHARS = 50
VERBS = ("enable", "disable", "test")


def register(commands: CommandSet) -> None:
    parser = commands.add(
        "triggers", run_triggers, "list triggers; enable, disable or test one by name"
    )
    parser.add_argument("verb", nargs="?", choices=VERBS, help="what to do with NAME")
    parser.add_argument("name", nargs="?", metavar="NAME")
    parser.add_argument(
        "--field",
        action="append",
        default=[],
        metavar="K=V",
        help="test: a field of the made-up source event (repeatable)",
    )
    parser.add_argument(
        "--fire", action="store_true", help="test: fire for real (a trigger.fired and a turn)"
    )


def run_triggers(ctx: Context, args: argparse.Namespace) -> int:
    if args.verb is None:
        return _list(ctx)
    if args.name is None:
        note(f"sysward: triggers {args.verb} needs a trigger NAME")
        return 2
    path = f"/v1/triggers/{path_segment(args.name)}"
    if args.verb == "test":
        fields = dict(_field(text) for text in args.field)
        outcome: dict[str, Any] = ctx.client.post(
            f"{path}/test", {"fields": fields, "fire": args.fire}
        )
        if ctx.is_json:
            print_json(outcome)
            return 0
        say(f"agent {outcome['agent']} would be prompted:\n\n{outcome['prompt']}")
        if outcome.get("fired_seq") is not None:
            say(f"\nfired (seq {outcome['fired_seq']}): turn {outcome['turn']}")
        return 0
    info: dict[str, Any] = ctx.client.post(f"{path}/{args.verb}")
    if ctx.is_json:
        print_json(info)
    else:
        say(f"{args.verb}d trigger {info['name']} ({info['state']})")
    return 0


def _list(ctx: Context) -> int:
    triggers: list[dict[str, Any]] = ctx.client.get("/v1/triggers")
    if ctx.is_json:
        print_json(triggers)
    elif not triggers:
        say("no triggers configured ([triggers.NAME] in the config file)")
    else:
        say(table(COLUMNS, [trigger_row(trigger) for trigger in triggers]))
        for trigger in triggers:
            if trigger.get("error"):
                say(f"{trigger['name']}: {trigger['error']}")
    return 0


def trigger_row(trigger: dict[str, Any]) -> list[str]:
    limits = f"{trigger['debounce_s']:g}s/{trigger['max_per_hour']}h"
    match = {k: v for k, v in trigger.get("match", {}).items() if k != "source"}
    return [
        trigger["name"],
        trigger["source"],
        trigger["agent"],
        trigger["state"],
        str(trigger["fired_last_hour"]),
        limits,
        dash(trigger.get("last_fired")),
        compact(match, MATCH_CHARS),
    ]


def _field(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name:
        raise argparse.ArgumentTypeError(f"--field wants K=V, got {text!r}")
    return name, value
