"""`python -m sysward.demo` (what `make demo` runs): a durable agent turn survives kill -9.

Runs unprivileged with no API key: the scripted demo model (no LLM) stands in
for a model unless `SYSWARD_DEMO_BASE_URL` names a real endpoint. `--json`
prints a summary document on stdout and the story on stderr.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from pydantic import ValidationError

from sysward.demo.endpoint import DemoEndpoint, endpoint_from_env
from sysward.demo.errors import DemoError
from sysward.demo.model import ModelStats
from sysward.demo.narration import Narrator, proof_lines, try_it_lines
from sysward.demo.proof import (
    DemoSummary,
    count_llm_calls,
    count_tool_calls,
    find_problems,
    model_counts,
    turn_outcome,
)
from sysward.demo.scenario import DemoRun
from sysward.demo.timeline import read_stored_events, timeline
from sysward.errors import SyswardError

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m sysward.demo",
        description="Run an agent turn, kill -9 the daemon mid-turn, restart it, and show "
        "that the turn resumes with nothing done twice.",
    )
    parser.add_argument(
        "--dir", type=Path, help="work dir for config, state and logs (default: a new temp dir)"
    )
    parser.add_argument(
        "--json", action="store_true", help="print a JSON summary on stdout (the story on stderr)"
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    out = Narrator(sys.stderr if args.json else sys.stdout)
    try:
        endpoint = endpoint_from_env()
        work_dir = prepare_work_dir(args.dir)
    except DemoError as exc:
        print(f"sysward demo: {exc}", file=sys.stderr)
        return EXIT_USAGE
    out.title("sysward demo: an agent turn that survives kill -9")
    out.say(f"Work dir (kept afterwards): {work_dir}")
    try:
        summary = run(work_dir, endpoint, out)
    except (SyswardError, OSError, ValidationError) as exc:
        out.lines(["", f"The demo FAILED: {exc}", f"Config, state and logs: {work_dir}"])
        return EXIT_FAILED
    except KeyboardInterrupt:
        out.lines(["", f"Interrupted; every process was stopped. Work dir: {work_dir}"])
        return EXIT_INTERRUPTED
    if args.json:
        print(summary.model_dump_json(indent=2))
    if summary.problems:
        out.lines(["", "The demo FAILED its own check:", *summary.problems])
        return EXIT_FAILED
    return EXIT_OK


def prepare_work_dir(requested: Path | None) -> Path:
    if requested is None:
        return Path(tempfile.mkdtemp(prefix="sysward-demo-"))
    work_dir = requested.absolute()
    if (work_dir / "state").exists():
        raise DemoError(f"{work_dir} already holds a demo's state; pick a new --dir")
    try:
        work_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DemoError(f"cannot create the work dir {work_dir}: {exc}") from None
    return work_dir


def run(work_dir: Path, endpoint: DemoEndpoint, out: Narrator) -> DemoSummary:
    demo = DemoRun(work_dir, endpoint, out)
    try:
        demo.start()
        demo.crash()
        demo.resume()
        final_stats = demo.final_stats()
    finally:
        demo.clean_up()
    summary = summarise(demo, final_stats)
    tell_ending(demo, summary, out)
    return summary


def summarise(demo: DemoRun, final_stats: ModelStats | None) -> DemoSummary:
    events = read_stored_events(demo.state_dir)
    outcome = turn_outcome(events, demo.turn)
    llm = count_llm_calls(events, demo.turn, demo.killed_after_seq)
    tools = count_tool_calls(events, demo.turn, demo.killed_after_seq)
    counts = None
    if demo.stats_at_kill is not None and final_stats is not None:
        counts = model_counts(demo.stats_at_kill, final_stats)
    problems = find_problems(outcome, llm, tools, counts)
    if not demo.is_log_verified:
        problems.append(f"sysward log verify failed: {demo.verify_output}")
    return DemoSummary(
        is_ok=not problems,
        problems=problems,
        model=demo.endpoint.label,
        is_scripted_model=demo.endpoint.is_scripted,
        work_dir=str(demo.work_dir),
        state_dir=str(demo.state_dir),
        socket=str(demo.state_dir / "sysward.sock"),
        config=str(demo.config_path),
        turn=demo.turn,
        status=outcome.status if outcome is not None else "unfinished",
        answer=outcome.answer if outcome is not None else None,
        steps=outcome.steps if outcome is not None else 0,
        killed_after_seq=demo.killed_after_seq,
        llm_calls=llm,
        tool_calls=tools,
        model_counts=counts,
        log_verified=demo.is_log_verified,
        log_events=len(events),
        pids=demo.pids,
    )


def tell_ending(demo: DemoRun, summary: DemoSummary, out: Narrator) -> None:
    after = read_stored_events(demo.state_dir, after_seq=demo.killed_after_seq)
    out.say(f"Events after the restart (the kill came after seq {demo.killed_after_seq}):")
    out.lines(timeline(after))
    out.heading("The answer")
    out.say(summary.answer or f"(no answer: the turn {summary.status})")
    out.heading("Proof: nothing was done twice, nothing was lost")
    out.say("\n".join(proof_lines(summary)))
    out.heading("sysward log verify --state-dir (offline: the hash chain and its signatures)")
    out.say(demo.verify_output or "(no output)")
    out.heading(f"Try it yourself (state kept in {summary.state_dir})")
    port = demo.model.port if demo.model is not None else None
    out.say("\n".join(try_it_lines(summary, demo.endpoint, port)))


if __name__ == "__main__":
    sys.exit(main())
