"""`python -m sysward.llm.scripted --port N --script FILE.json`.

Prints the server's base_url on stdout once it accepts connections, serves until
SIGTERM or SIGINT, then reports unscripted calls and unused responses on stderr
and exits 1 if there were any.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

from pydantic import ValidationError

from sysward.llm.scripted.script import ScriptedResponse, load_script
from sysward.llm.scripted.server import ScriptedLlmServer


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m sysward.llm.scripted",
        description="A scripted OpenAI-compatible server on 127.0.0.1 for tests and demos.",
    )
    parser.add_argument("--port", type=int, default=0, help="TCP port; 0 picks a free one")
    parser.add_argument("--script", type=Path, help="JSON list of responses, used in order")
    args = parser.parse_args(argv)
    try:
        script = load_script(args.script) if args.script else []
    except (OSError, ValueError, ValidationError) as exc:
        print(f"cannot load script {args.script}: {exc}", file=sys.stderr)
        return 2
    return asyncio.run(run(script, port=args.port))


async def run(script: Sequence[ScriptedResponse], *, port: int = 0) -> int:
    """Serve until SIGTERM/SIGINT; the exit status says whether the script was followed."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    try:
        async with ScriptedLlmServer(script, port=port) as server:
            print(server.base_url, flush=True)
            await stop.wait()
            problems = server.problems()
            summary = {"calls": server.call_count, "problems": problems}
    finally:
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(signum)
    print(json.dumps(summary), file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
