"""Run a daemon runtime with one path trigger in this process; optionally SIGKILL ourselves.

Usage: trigger_harness.py STATE_DIR BASE_URL WATCH_DIR [--kill POINT] [--touch NAME]

POINT is where the process dies, each a moment between a source event and its turn:
  before_fired   the source event was seen, trigger.fired not yet committed
  after_fired    trigger.fired is durable, the prompt is not
  after_prompt   agent.prompt is durable, the turn has not called the model
  after_reply    the model's reply is durable (the turn is under way)
The kill on a committed event is a log listener: it runs once the batch is durable
and before anyone learns of it. --touch creates WATCH_DIR/NAME once the trigger watches.
Prints one JSON line {"turn": ...} when a turn has completed, or {"turn": null} when
none completed within --wait seconds.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

from sysward.agents.roles import default_roles
from sysward.config import parse_settings
from sysward.daemon.runtime import open_runtime
from sysward.daemon.toolset import daemon_tools
from sysward.events.bus import EventBus
from sysward.events.record import Event
from sysward.triggers.service import TriggerService

CONFIG = """
[llm.default]
base_url = "{base_url}"
model = "scripted"
max_retries = 0

[agents.ops]
role = "default"

[triggers.dropped]
source = "path"
agent = "ops"
path = "{watch_dir}"
events = ["create"]
prompt = "{{path}} appeared. Say what it is."
debounce_s = 3600
"""
KILL_ON_TOPIC = {
    "after_fired": "trigger.fired",
    "after_prompt": "agent.prompt",
    "after_reply": "agent.llm_response",
}


def die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def kill_on(topic: str):  # type: ignore[no-untyped-def]
    def listener(events: Sequence[Event]) -> None:
        if any(event.topic == topic for event in events):
            die()

    return listener


async def main(args: argparse.Namespace) -> int:
    if args.kill == "before_fired":

        async def dying(*_: object, **__: object) -> tuple[int, str]:
            die()
            raise AssertionError("unreachable")

        TriggerService._fire = dying  # type: ignore[method-assign]
    text = CONFIG.format(base_url=args.base_url, watch_dir=args.watch_dir)
    settings = parse_settings(text).with_state_dir(Path(args.state_dir))
    runtime = await open_runtime(settings, default_roles(), tools=daemon_tools)
    if args.kill in KILL_ON_TOPIC:
        runtime.log.add_listener(kill_on(KILL_ON_TOPIC[args.kill]))
    try:
        async with EventBus(runtime.log).subscribe("agent.turn_completed", since=0) as done:
            if args.touch:
                for _ in range(200):  # until the trigger's watch is in place (bounded)
                    if runtime.triggers.info("dropped").state == "watching":
                        break
                    await asyncio.sleep(0.01)
                await asyncio.sleep(0.1)
                (Path(args.watch_dir) / args.touch).write_text("x")
            try:
                event = await done.next(timeout_s=args.wait)
                turn = event.turn
            except TimeoutError:
                turn = None
        print(json.dumps({"turn": turn}), flush=True)
    finally:
        await runtime.close()
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("state_dir")
    parser.add_argument("base_url")
    parser.add_argument("watch_dir")
    parser.add_argument("--kill", choices=["before_fired", *KILL_ON_TOPIC])
    parser.add_argument("--touch", default="")
    parser.add_argument("--wait", type=float, default=15.0)
    sys.exit(asyncio.run(main(parser.parse_args())))
