"""Prometheus metrics counted from committed events."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sysward.control.metrics import Metrics
from sysward.events.record import GENESIS_PREV, Event

_seq = iter(range(1, 10_000))


def event(topic: str, type_: str = "x", agent: str | None = "ops", **data: Any) -> Event:
    return Event(
        seq=next(_seq),
        ts=datetime.now(UTC),
        topic=topic,
        type=type_,
        agent=agent,
        source="test",
        data=data,
        prev=GENESIS_PREV,
    )


def samples(text: str) -> dict[str, str]:
    return dict(line.rsplit(" ", 1) for line in text.splitlines() if not line.startswith("#"))


def render(metrics: Metrics) -> dict[str, str]:
    text = metrics.render(
        last_seq=7, agents_by_state={"idle": 2, "busy": 0}, subscribers=3, uptime_s=1.5
    )
    return samples(text)


def test_llm_responses_count_calls_tokens_and_latency() -> None:
    metrics = Metrics()
    usage = {"prompt_tokens": 10, "completion_tokens": 5}
    metrics.observe(
        [
            event("agent.llm_response", latency_ms=300, usage=usage),
            event("agent.llm_response", latency_ms=3000, usage=usage),
        ]
    )
    found = render(metrics)
    assert found['sysward_llm_calls_total{agent="ops"}'] == "2"
    assert found['sysward_llm_tokens_total{agent="ops",kind="prompt"}'] == "20"
    assert found['sysward_llm_tokens_total{agent="ops",kind="completion"}'] == "10"
    assert found['sysward_llm_latency_seconds_bucket{le="0.5"}'] == "1"
    assert found['sysward_llm_latency_seconds_bucket{le="5"}'] == "2"
    assert found['sysward_llm_latency_seconds_bucket{le="+Inf"}'] == "2"
    assert found["sysward_llm_latency_seconds_sum"] == "3.3"


def test_tool_results_are_counted_by_tool_and_result() -> None:
    metrics = Metrics()
    metrics.observe(
        [
            event("tool.crypto", result={"ok": True, "output": 1}),
            event("tool.crypto", result={"ok": False, "error": {"code": "invalid_args"}}),
            event("tool.inotify.event", path="/x"),
            event("tool.bash", result="garbage"),
        ]
    )
    found = render(metrics)
    assert found['sysward_tool_calls_total{tool="crypto",result="ok"}'] == "1"
    assert found['sysward_tool_calls_total{tool="crypto",result="invalid_args"}'] == "1"
    assert found['sysward_tool_calls_total{tool="bash",result="unknown"}'] == "1"
    assert not any("inotify" in key for key in found)


def test_llm_errors_are_counted_by_kind() -> None:
    metrics = Metrics()
    metrics.observe([event("agent.error", "llm"), event("agent.error", "crash")])
    found = render(metrics)
    assert found['sysward_llm_errors_total{agent="ops",kind="llm"}'] == "1"
    assert len([key for key in found if key.startswith("sysward_llm_errors_total")]) == 1


def test_gauges_and_agents_by_state() -> None:
    found = render(Metrics())
    assert found["sysward_events_last_seq"] == "7"
    assert found["sysward_subscribers"] == "3"
    assert found["sysward_uptime_seconds"] == "1.5"
    assert found['sysward_agents{state="idle"}'] == "2"
    assert found['sysward_agents{state="busy"}'] == "0"


def test_label_values_are_escaped() -> None:
    metrics = Metrics()
    metrics.observe([event("agent.llm_response", agent=None, latency_ms=1)])
    metrics.llm_calls[(("agent", 'a"b\\c\nd'),)] += 1
    text = metrics.render(last_seq=0, agents_by_state={}, subscribers=0, uptime_s=0)
    assert 'sysward_llm_calls_total{agent="a\\"b\\\\c\\nd"} 1' in text
    assert text.endswith("\n")
