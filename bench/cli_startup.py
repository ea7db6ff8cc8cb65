"""How long `sysward status` takes, wall clock, from exec to exit (budget: 150 ms).

    .venv/bin/python bench/cli_startup.py [--runs 20] [--socket PATH] [--fake]

Without --socket it starts a real `syswardd --state-dir` in a temp dir (or, with
--fake or when the daemon is not importable, the tests' fake control server),
runs the installed `sysward status` console script `--runs` times after two
warm-up runs, and prints the median, min and max in milliseconds.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

BUDGET_MS = 150.0
WARMUP_RUNS = 2
SYSWARD = str(Path(sys.executable).with_name("sysward"))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))


@contextlib.contextmanager
def daemon_socket(use_fake: bool) -> Iterator[tuple[str, str]]:
    """A socket with something serving the control API, and what that something is."""
    with tempfile.TemporaryDirectory(prefix="sw-bench-") as directory:
        if use_fake or importlib.util.find_spec("sysward.daemon.main") is None:
            from cli.fake_daemon import FakeDaemon

            fake = FakeDaemon(Path(directory) / "sysward.sock").start()
            try:
                yield str(fake.socket_path), "fake control server"
            finally:
                fake.stop()
        else:
            from cli.real_daemon import real_daemon

            with real_daemon(Path(directory), []) as daemon:
                yield str(daemon.socket_path), "real syswardd"


def time_status(socket_path: str) -> float:
    """One `sysward status` run, in milliseconds; it must succeed."""
    started = time.perf_counter()
    result = subprocess.run(
        [SYSWARD, "--socket", socket_path, "status"], capture_output=True, check=False
    )
    elapsed_ms = (time.perf_counter() - started) * 1000
    if result.returncode != 0:
        raise SystemExit(f"sysward status failed ({result.returncode}): {result.stderr.decode()}")
    return elapsed_ms


def measure(socket_path: str, runs: int) -> list[float]:
    for _ in range(WARMUP_RUNS):
        time_status(socket_path)
    return [time_status(socket_path) for _ in range(runs)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--socket", help="an already running daemon's socket")
    parser.add_argument("--fake", action="store_true", help="use the tests' fake server")
    args = parser.parse_args()
    if args.socket:
        timings, against = measure(args.socket, args.runs), args.socket
    else:
        with daemon_socket(args.fake) as (socket_path, against):
            timings = measure(socket_path, args.runs)
    median = statistics.median(timings)
    print(
        f"sysward status against {against}: median {median:.1f} ms over {args.runs} runs "
        f"(min {min(timings):.1f}, max {max(timings):.1f}; budget {BUDGET_MS:.0f} ms)"
    )
    return 0 if median <= BUDGET_MS else 1


if __name__ == "__main__":
    sys.exit(main())
