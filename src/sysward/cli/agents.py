"""`sysward agents` and `sysward agent create|start|stop|rm`."""

from __future__ import annotations

import argparse
from typing import Any

from sysward.cli.command import CommandSet, Context
from sysward.cli.output import dash, print_json, say, table
from sysward.cli.shapes import AgentInfo
from sysward.control.client import path_segment

AGENT_COLUMNS = ("NAME", "STATE", "ROLE", "LLM", "ORIGIN", "MODE", "RESTARTS", "TURN")


def register(commands: CommandSet) -> None:
    commands.add("agents", run_agents, "list the agents and what they are doing")
    agent = commands.group("agent", "create, start, stop or remove an agent")
    create = agent.add("create", run_create, "create an agent at run time (kept across restarts)")
    create.add_argument("name", metavar="NAME")
    create.add_argument("--role", required=True, metavar="R", help="a role (roles/R.toml)")
    create.add_argument("--llm", metavar="L", help="an [llm.L] endpoint (default: default)")
    create.add_argument("--max-steps", type=int, metavar="N", help="steps per turn")
    create.add_argument("--read-only", action="store_true", help="never run write actions")
    for name, summary in (
        ("start", "start a stopped agent"),
        ("stop", "stop an agent after its current step"),
        ("rm", "remove an agent created at run time"),
    ):
        parser = agent.add(name, run_lifecycle, summary)
        parser.add_argument("name", metavar="NAME")
        parser.set_defaults(verb=name)


def run_agents(ctx: Context, args: argparse.Namespace) -> int:
    agents: list[AgentInfo] = ctx.client.get("/v1/agents")
    if ctx.is_json:
        print_json(agents)
    elif not agents:
        say("no agents (declare them in sysward.toml or: sysward agent create NAME --role R)")
    else:
        say(table(AGENT_COLUMNS, [agent_row(agent) for agent in agents]))
    return 0


def agent_row(agent: AgentInfo) -> list[str]:
    return [
        agent["name"],
        agent["state"],
        agent["role"],
        agent["llm"],
        agent["origin"],
        "read-only" if agent["read_only"] else "read-write",
        str(agent.get("restarts", 0)),
        dash(agent.get("current_turn")),
    ]


def run_create(ctx: Context, args: argparse.Namespace) -> int:
    body: dict[str, Any] = {"name": args.name, "role": args.role, "read_only": args.read_only}
    if args.llm is not None:
        body["llm"] = args.llm
    if args.max_steps is not None:
        body["max_steps"] = args.max_steps
    agent: AgentInfo = ctx.client.post("/v1/agents", body)
    if ctx.is_json:
        print_json(agent)
    else:
        say(
            f"created agent {agent['name']} (role {agent['role']}, llm {agent['llm']}): "
            f"{agent['state']}"
        )
    return 0


PAST_TENSE = {"start": "started", "stop": "stopped", "rm": "removed"}


def run_lifecycle(ctx: Context, args: argparse.Namespace) -> int:
    """start, stop and rm: the command's name picks the request."""
    name: str = args.name
    verb: str = args.verb
    path = f"/v1/agents/{path_segment(name)}"
    answer = ctx.client.delete(path) if verb == "rm" else ctx.client.post(f"{path}/{verb}")
    if ctx.is_json:
        print_json(answer if answer is not None else {"agent": name, "result": PAST_TENSE[verb]})
    elif isinstance(answer, dict) and "state" in answer:
        say(f"{PAST_TENSE[verb]} {name}: {answer['state']}")
    else:
        say(f"{PAST_TENSE[verb]} {name}")
    return 0
