"""Prometheus metrics, counted from the events this daemon commits (a log listener).

Counters start at zero with each daemon process, as Prometheus expects; the
log's last seq is the durable total of events appended.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from pydantic import JsonValue

from sysward.events import topics
from sysward.events.record import Event

LATENCY_BUCKETS_S = (0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0)
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
NOT_TOOL_RESULTS = frozenset({topics.TOOL_INOTIFY_EVENT})

Labels = tuple[tuple[str, str], ...]


@dataclass(slots=True)
class Histogram:
    buckets: tuple[float, ...]
    counts: list[int] = field(default_factory=list)
    total: float = 0.0
    count: int = 0

    def __post_init__(self) -> None:
        self.counts = [0] * len(self.buckets)

    def observe(self, value: float) -> None:
        self.total += value
        self.count += 1
        for index, bound in enumerate(self.buckets):
            if value <= bound:
                self.counts[index] += 1


@dataclass(slots=True)
class Metrics:
    """Counts LLM calls, tokens, errors and tool calls from committed events."""

    llm_calls: Counter[Labels] = field(default_factory=Counter)
    llm_errors: Counter[Labels] = field(default_factory=Counter)
    llm_tokens: Counter[Labels] = field(default_factory=Counter)
    tool_calls: Counter[Labels] = field(default_factory=Counter)
    llm_latency: Histogram = field(default_factory=lambda: Histogram(LATENCY_BUCKETS_S))

    def observe(self, events: Sequence[Event]) -> None:
        """The log listener: called on the loop with each committed batch."""
        for event in events:
            if event.topic == topics.AGENT_LLM_RESPONSE:
                self._llm_response(event)
            elif event.topic == topics.AGENT_ERROR and event.type in ("llm", "malformed_output"):
                self.llm_errors[(("agent", event.agent or ""), ("kind", event.type))] += 1
            elif event.topic.startswith("tool.") and event.topic not in NOT_TOOL_RESULTS:
                self._tool_result(event)

    def _llm_response(self, event: Event) -> None:
        data = event.data
        agent = event.agent or ""
        self.llm_calls[(("agent", agent),)] += 1
        latency_ms = data.get("latency_ms")
        if isinstance(latency_ms, int | float):
            self.llm_latency.observe(latency_ms / 1000)
        usage = data.get("usage")
        if isinstance(usage, dict):
            for kind in ("prompt", "completion"):
                tokens = usage.get(f"{kind}_tokens")
                if isinstance(tokens, int):
                    self.llm_tokens[(("agent", agent), ("kind", kind))] += tokens

    def _tool_result(self, event: Event) -> None:
        result = event.data.get("result")
        self.tool_calls[(("tool", event.topic[5:]), ("result", _result_label(result)))] += 1

    def render(
        self,
        *,
        last_seq: int,
        agents_by_state: Mapping[str, int],
        subscribers: int,
        uptime_s: float,
    ) -> str:
        """The Prometheus text exposition format (version 0.0.4)."""
        lines: list[str] = []
        _gauge(lines, "sysward_events_last_seq", "Seq of the newest durable event", last_seq)
        _gauge(lines, "sysward_uptime_seconds", "Seconds since the daemon started", uptime_s)
        _gauge(lines, "sysward_subscribers", "Live event bus subscribers", subscribers)
        states: dict[Labels, float] = {
            (("state", state),): count for state, count in agents_by_state.items()
        }
        _family(lines, "sysward_agents", "gauge", "Agents by state", states)
        _family(lines, "sysward_llm_calls_total", "counter", "Completed LLM calls", self.llm_calls)
        _family(lines, "sysward_llm_errors_total", "counter", "Failed LLM steps", self.llm_errors)
        _family(lines, "sysward_llm_tokens_total", "counter", "Tokens reported", self.llm_tokens)
        _histogram(lines, "sysward_llm_latency_seconds", "LLM call latency", self.llm_latency)
        _family(lines, "sysward_tool_calls_total", "counter", "Tool results", self.tool_calls)
        return "\n".join(lines) + "\n"


def _result_label(result: JsonValue) -> str:
    if not isinstance(result, dict):
        return "unknown"
    if result.get("ok") is True:
        return "ok"
    error = result.get("error")
    code = error.get("code") if isinstance(error, dict) else None
    return code if isinstance(code, str) else "error"


def _gauge(lines: list[str], name: str, help_text: str, value: float) -> None:
    _family(lines, name, "gauge", help_text, {(): value})


def _family(
    lines: list[str],
    name: str,
    kind: str,
    help_text: str,
    samples: Mapping[Labels, float],
) -> None:
    lines.append(f"# HELP {name} {help_text}")
    lines.append(f"# TYPE {name} {kind}")
    lines.extend(f"{name}{_labels(labels)} {_number(value)}" for labels, value in samples.items())


def _histogram(lines: list[str], name: str, help_text: str, histogram: Histogram) -> None:
    lines.append(f"# HELP {name} {help_text}")
    lines.append(f"# TYPE {name} histogram")
    for bound, count in zip(histogram.buckets, histogram.counts, strict=True):
        lines.append(f'{name}_bucket{{le="{_number(bound)}"}} {count}')
    lines.append(f'{name}_bucket{{le="+Inf"}} {histogram.count}')
    lines.append(f"{name}_sum {_number(histogram.total)}")
    lines.append(f"{name}_count {histogram.count}")


def _labels(labels: Iterable[tuple[str, str]]) -> str:
    parts = [f'{key}="{_escape(value)}"' for key, value in labels]
    return "{" + ",".join(parts) + "}" if parts else ""


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _number(value: float) -> str:
    if isinstance(value, int) or value.is_integer():
        return str(int(value))
    return repr(value)
