"""`sysward log verify`: check the event log's hash chain and signed checkpoints.

Through the daemon (`POST /v1/log/verify`), or offline with `--state-dir DIR`:
the log is opened read-only, so it works for an auditor with a copy of the
files and for a host whose daemon is down.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import cast

from sysward.cli.command import CommandSet, Context
from sysward.cli.output import note, print_json, say
from sysward.cli.shapes import ChainReport

# Verifying reads every record; a large log takes a while.
VERIFY_TIMEOUT_S = 3600.0
EXIT_INTACT, EXIT_BROKEN, EXIT_USAGE = 0, 1, 2


def register(commands: CommandSet) -> None:
    log = commands.group("log", "the event log")
    verify = log.add(
        "verify",
        run_verify,
        "check the log's hash chain and signed checkpoints; exit 1 when it is broken",
    )
    verify.add_argument(
        "--state-dir",
        type=Path,
        metavar="DIR",
        help="verify the log files under DIR directly (read-only; no daemon needed)",
    )
    verify.add_argument(
        "--public-key",
        type=Path,
        action="append",
        metavar="FILE",
        help="with --state-dir: trust only these public keys (repeatable; "
        "default: DIR/keys/*.pub and DIR/keys/retired/*.pub)",
    )


def run_verify(ctx: Context, args: argparse.Namespace) -> int:
    if args.state_dir is None:
        if args.public_key:
            note("sysward: --public-key needs --state-dir (the daemon uses its own keys)")
            return EXIT_USAGE
        report: ChainReport = ctx.client.post("/v1/log/verify", timeout_s=VERIFY_TIMEOUT_S)
    else:
        offline = verify_offline(args.state_dir, args.public_key)
        if isinstance(offline, str):
            return _fail(ctx, offline)
        report = offline
    if ctx.is_json:
        print_json(report)
    else:
        say(describe(report))
    return EXIT_INTACT if report["ok"] else EXIT_BROKEN


def verify_offline(state_dir: Path, public_keys: list[Path] | None) -> ChainReport | str:
    """The report for the log under `state_dir`, or why it could not be read."""
    # Imported here: the daemon-backed commands start without pydantic or lmdb.
    from sysward.errors import SyswardError
    from sysward.events.chain import verify_log_files
    from sysward.events.signing import KeyRing

    keys_dir, events_dir = state_dir / "keys", state_dir / "events"
    try:
        keys = KeyRing.from_files(public_keys) if public_keys else KeyRing.load(keys_dir)
        if not events_dir.is_dir():
            return f"{events_dir}: no event log here (is {state_dir} the daemon's state_dir?)"
        report = verify_log_files(events_dir, keys)
    except SyswardError as exc:
        return str(exc)
    return cast(ChainReport, report.model_dump())


def describe(report: ChainReport) -> str:
    """The human report: the verdict, then what the signatures vouch for."""
    if report["ok"]:
        verdict = (
            f"log intact: {report['checked']} events checked, last seq {report['last_seq']}, "
            f"head {report['head']}"
        )
    else:
        bad_seq = report.get("first_bad_seq")
        # A re-hashed chain holds past the bad seq; only records before it are vouched for.
        intact = report["checked"] if bad_seq is None else min(report["checked"], bad_seq - 1)
        verdict = (
            f"log BROKEN at seq {bad_seq}: {report.get('reason') or 'no reason given'} "
            f"({intact} events before it are intact)"
        )
    signed = _describe_signatures(report)
    return verdict if signed is None else f"{verdict}\n{signed}"


def _describe_signatures(report: ChainReport) -> str | None:
    if "checkpoints" not in report:
        return None  # a daemon from before signed checkpoints
    last_signed = report.get("last_signed_seq")
    if not report["checkpoints"] or last_signed is None:
        return "signatures: no valid checkpoint; nothing in this log is signed"
    count, tail = report["checkpoints"], report.get("unsigned_tail", 0)
    checkpoints = "1 checkpoint verifies" if count == 1 else f"{count} checkpoints verify"
    if not tail:
        return f"signatures: {checkpoints}; the whole log is signed (up to seq {last_signed})"
    return (
        f"signatures: {checkpoints}; seqs 1..{last_signed} are signed, "
        f"{tail} events after them are not yet"
    )


def _fail(ctx: Context, message: str) -> int:
    if ctx.is_json:
        print_json({"error": {"code": "log_unreadable", "message": message, "details": {}}})
    else:
        note(f"sysward: {message}")
    return EXIT_BROKEN
