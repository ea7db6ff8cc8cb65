"""`sysward tools [TOOL]`: what the agents may be offered, and each action's parameters."""

from __future__ import annotations

import argparse
import json
from typing import Any

from sysward.cli.command import CommandSet, Context
from sysward.cli.output import clip, dash, note, print_json, say, table
from sysward.cli.shapes import ActionInfo, ToolInfo

DESCRIPTION_CHARS = 60


def register(commands: CommandSet) -> None:
    parser = commands.add("tools", run_tools, "the tools and actions, with their effect")
    parser.add_argument("tool", nargs="?", metavar="TOOL", help="show this tool's parameters")


def run_tools(ctx: Context, args: argparse.Namespace) -> int:
    tools: list[ToolInfo] = ctx.client.get("/v1/tools")
    if args.tool is None:
        if ctx.is_json:
            print_json(tools)
        else:
            say(table(("TOOL", "ACTION", "EFFECT", "DESCRIPTION"), tool_rows(tools)))
            if unavailable := unavailable_lines(tools):
                say("\n".join(["", "Unavailable on this host (a call fails):", *unavailable]))
        return 0
    tool = next((tool for tool in tools if tool["name"] == args.tool), None)
    if tool is None:
        known = ", ".join(sorted(tool["name"] for tool in tools)) or "none"
        note(f"sysward: no tool {args.tool!r} (tools: {known})")
        return 1
    if ctx.is_json:
        print_json(tool)
    else:
        say(describe_tool(tool))
    return 0


def tool_rows(tools: list[ToolInfo]) -> list[list[str]]:
    return [
        [
            tool["name"],
            action["name"],
            action["effect"],
            clip(action["description"], DESCRIPTION_CHARS)
            if is_available(action)
            else f"(unavailable) {clip(action['description'], DESCRIPTION_CHARS)}",
        ]
        for tool in tools
        for action in tool["actions"]
    ]


def is_available(action: ActionInfo) -> bool:
    return action.get("available", True)


def unavailable_lines(tools: list[ToolInfo]) -> list[str]:
    """Each action this host cannot run, with what is missing."""
    return [
        f"  {tool['name']}.{action['name']}: {action.get('unavailable_reason') or 'unknown'}"
        for tool in tools
        for action in tool["actions"]
        if not is_available(action)
    ]


def describe_tool(tool: ToolInfo) -> str:
    """A tool's description, then each action with a table of its parameters."""
    parts = [f"{tool['name']}: {tool['description'].strip()}"]
    for action in tool["actions"]:
        parts.append("")
        parts.append(f"{tool['name']}.{action['name']} ({action['effect']})")
        if not is_available(action):
            parts.append(f"  UNAVAILABLE here: {action.get('unavailable_reason') or 'unknown'}")
        parts.append(f"  {action['description'].strip()}")
        rows = parameter_rows(action)
        if rows:
            table_text = table(("PARAMETER", "TYPE", "REQUIRED", "DEFAULT", "DESCRIPTION"), rows)
            parts.extend(f"  {line}" for line in table_text.splitlines())
    return "\n".join(parts)


def parameter_rows(action: ActionInfo) -> list[list[str]]:
    schema = action["parameters"]
    required = set(schema.get("required", []))
    defs: dict[str, Any] = schema.get("$defs", {})
    return [
        [
            name,
            type_name(prop, defs),
            "yes" if name in required else "no",
            "-" if "default" not in prop else repr_default(prop["default"]),
            dash(prop.get("description")),
        ]
        for name, prop in schema.get("properties", {}).items()
    ]


def type_name(prop: dict[str, Any], defs: dict[str, Any]) -> str:
    """A JSON Schema type in a few characters: `string`, `integer|null`, `"a"|"b"`."""
    if "$ref" in prop:
        target = defs.get(prop["$ref"].rsplit("/", 1)[-1], {})
        return type_name(target, defs) if target else prop["$ref"].rsplit("/", 1)[-1]
    if "enum" in prop:
        return "|".join(
            f'"{value}"' if isinstance(value, str) else str(value) for value in prop["enum"]
        )
    if "const" in prop:
        return repr_default(prop["const"])
    for key in ("anyOf", "oneOf"):
        if key in prop:
            return "|".join(type_name(option, defs) for option in prop[key])
    kind = prop.get("type", "any")
    if kind == "array" and isinstance(prop.get("items"), dict):
        return f"array[{type_name(prop['items'], defs)}]"
    return "|".join(kind) if isinstance(kind, list) else str(kind)


def repr_default(value: object) -> str:
    return json.dumps(value, ensure_ascii=False)
