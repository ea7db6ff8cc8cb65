"""`sysward events`: a page of the log, or `--follow` as JSON lines or a live table."""

from __future__ import annotations

import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from .fake_daemon import FakeDaemon


def test_events_is_a_table_of_seq_time_topic_agent_and_summary(
    daemon: FakeDaemon, cli: Any
) -> None:
    cli("ask", "ops", "is nginx ok?")
    result = cli("events", "--agent", "ops", "--topic", "agent.>")
    assert result.code == 0
    lines = result.out.splitlines()
    assert lines[0].split() == ["SEQ", "TIME", "(UTC)", "TOPIC", "AGENT", "WHAT"]
    assert re.match(
        r"4\s+2026-11-22 18:00:04\s+agent.prompt\s+ops\s+prompt: is nginx ok\?$", lines[2]
    )
    assert any(
        line.endswith("completed: nginx is active (running), main PID 812; I did n…")
        for line in lines
    )
    assert any("→ systemd.status" in line for line in lines)


def test_events_passes_the_filters_to_the_daemon(daemon: FakeDaemon, cli: Any) -> None:
    argv = ["events", "--topic", "tool.*", "--type", "invocation", "--agent", "ops"]
    cli(*argv, "--since", "3", "--until", "40", "--limit", "5")
    assert daemon.requests[0].query == {
        "topic": "tool.*",
        "type": "invocation",
        "agent": "ops",
        "since": "3",
        "until": "40",
        "limit": "5",
    }


def test_since_accepts_an_age_and_sends_a_utc_time(daemon: FakeDaemon, cli: Any) -> None:
    before = datetime.now(UTC)
    cli("events", "--since", "2h")
    sent = daemon.requests[0].query["since"]
    assert sent.endswith("Z")
    moment = datetime.fromisoformat(sent)
    assert (
        timedelta(hours=2) <= before - moment + timedelta(seconds=1) < timedelta(hours=2, seconds=5)
    )


def test_since_accepts_an_iso_time(daemon: FakeDaemon, cli: Any) -> None:
    cli("events", "--since", "2026-11-22T19:00:00+01:00")
    assert daemon.requests[0].query["since"] == "2026-11-22T18:00:00Z"


def test_a_malformed_since_is_a_usage_error(daemon: FakeDaemon, cli: Any) -> None:
    result = cli("events", "--since", "yesterday-ish")
    assert result.code == 2
    assert "not a seq, an ISO-8601 time or an age" in result.err


def test_events_json_is_the_page(daemon: FakeDaemon, cli: Any) -> None:
    page = cli("events", "--json").json()
    assert [event["seq"] for event in page["events"]] == [1, 2, 3]
    assert page["next_since"] == 3
    assert set(page["events"][0]) >= {"seq", "ts", "topic", "type", "agent", "data", "prev"}


def test_a_full_page_says_how_to_read_on(daemon: FakeDaemon, cli: Any) -> None:
    result = cli("events", "--limit", "2")
    assert len(result.out.splitlines()) == 3
    assert "sysward events --since 2" in result.err


def test_follow_json_prints_one_event_per_line(daemon: FakeDaemon, cli: Any) -> None:
    result = cli("events", "--follow", "--since", "0", "--count", "3", "--json")
    assert result.code == 0
    assert [event["seq"] for event in result.json_lines()] == [1, 2, 3]


def test_follow_waits_for_live_events(daemon: FakeDaemon, cli: Any) -> None:
    turn = cli("ask", "ops", "later", "--no-wait").out.strip()
    argv = ["events", "--follow", "--topic", "agent.turn_completed", "--agent", "ops"]
    result = cli(*argv, "--since", "3", "--count", "1", "--json")
    (event,) = result.json_lines()
    assert event["turn"] == turn
    assert event["data"]["status"] == "completed"


def test_follow_resumes_after_being_dropped_with_no_gap_or_duplicate(
    daemon: FakeDaemon, cli: Any
) -> None:
    cli("ask", "ops", "is nginx ok?")
    daemon.requests.clear()
    daemon.drops_left = 1
    result = cli("events", "--follow", "--since", "0", "--count", "10", "--json")
    assert [event["seq"] for event in result.json_lines()] == list(range(1, 11))
    assert "dropped" in result.err
    first, second = daemon.requests_to("/v1/events/stream")
    assert "last-event-id" not in first.headers
    assert second.headers["last-event-id"] == "3"
    assert second.query["since"] == "3"


def test_follow_human_lines_have_fixed_columns(daemon: FakeDaemon, cli: Any) -> None:
    result = cli("events", "--follow", "--since", "0", "--count", "2")
    first, second = result.out.splitlines()
    assert first.startswith("1         2026-11-22 18:00:01  daemon.started")
    assert second.index("agent.started") == first.index("daemon.started")


@pytest.mark.parametrize("count", ["0", "-1"])
def test_follow_with_nothing_to_wait_for_returns_at_once(
    daemon: FakeDaemon, cli: Any, count: str
) -> None:
    assert cli("events", "--follow", "--count", count).code == 0
    assert daemon.requests == []


def test_follow_exits_3_when_the_daemon_goes_away(daemon: FakeDaemon) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "sysward.cli.main", "events", "--follow", "--since", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None and process.stderr is not None
    assert process.stdout.readline().startswith("1 ")
    daemon.stop()
    assert process.wait(timeout=10) == 3
    assert str(daemon.socket_path) in process.stderr.read()
