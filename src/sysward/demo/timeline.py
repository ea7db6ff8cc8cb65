"""The event log as a short, readable timeline: one line per event (seq, topic, what)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from pydantic import JsonValue, ValidationError

from sysward.agents.payloads import (
    AgentFailed,
    LlmResponded,
    Payload,
    Prompted,
    ToolDispatched,
    ToolFinished,
    TurnCompleted,
    parse_data,
    payload_model,
)
from sysward.events import topics
from sysward.events.record import Event
from sysward.events.store import EventStore

TEXT_CHARS = 70
TOPIC_WIDTH = 22


def read_stored_events(state_dir: Path, *, after_seq: int = 0) -> list[Event]:
    """The events in the log on disk, read-only: works with the daemon dead or alive."""
    store = EventStore(state_dir / "events", readonly=True)
    try:
        return [Event.decode(raw) for _, raw in store.iter_raw(after_seq)]
    finally:
        store.close()


def timeline(events: Sequence[Event], *, indent: str = "   ") -> list[str]:
    """The lines of a timeline; the conversation's `agent.message` events are counted only."""
    lines = [f"{indent}{'seq':>4}  {'topic':<{TOPIC_WIDTH}}what"]
    messages = 0
    for event in events:
        if event.topic == topics.AGENT_MESSAGE:
            messages += 1
            continue
        lines.append(f"{indent}{event.seq:>4}  {event.topic:<{TOPIC_WIDTH}}{describe(event)}")
    if messages:
        lines.append(f"{indent}(+ {messages} agent.message events: the conversation, not shown)")
    return lines


def describe(event: Event) -> str:
    """What one event says, in a few words."""
    payload = _payload(event)
    tool = event.topic.removeprefix("tool.")
    match payload:
        case Prompted(text=text):
            return json.dumps(clip(text), ensure_ascii=False)
        case LlmResponded(step=step, tool_calls=calls, content=content) if calls:
            return f"step {step}: model asks for " + ", ".join(
                f"{c.tool}.{c.action}" for c in calls
            )
        case LlmResponded(step=step, content=content):
            return f"step {step}: model answers ({len(content or '')} characters)"
        case ToolDispatched():
            return _dispatch(payload)
        case ToolFinished():
            return _finished(tool, payload)
        case TurnCompleted(status=status, steps=steps):
            return f"turn {status} after {steps} steps"
        case AgentFailed(kind=kind, message=message):
            return f"{kind}: {clip(message)}"
        case _ if event.topic == topics.LOG_CHECKPOINT and "covers_seq" in event.data:
            return f"the daemon signs the chain up to seq {event.data['covers_seq']}"
        case _:
            return _generic(event.data)


def _payload(event: Event) -> Payload | None:
    model = payload_model(event.topic)
    if model is None:
        return None
    try:
        return parse_data(model, event.data)
    except ValidationError:
        return None


def _dispatch(dispatch: ToolDispatched) -> str:
    args = json.dumps(dispatch.args, ensure_ascii=False)
    line = f"{dispatch.tool}.{dispatch.action} {clip(args, 40)}"
    if dispatch.rerun:
        line += "  RE-RUN after a restart"
    if dispatch.decision != "allow":
        line += f"  [policy: {dispatch.decision}]"
    return line


def _finished(tool: str, finished: ToolFinished) -> str:
    result = finished.result
    outcome = "ok" if result.ok else f"error {result.error.code}"
    mark = "  (interrupted: not run again)" if finished.interrupted else ""
    return f"{tool}.{finished.action} → {outcome} in {finished.duration_ms} ms{mark}"


def _generic(data: dict[str, JsonValue]) -> str:
    shown = {key: value for key, value in data.items() if value not in (None, [], {}, "")}
    text = json.dumps(shown, separators=(",", ":"), ensure_ascii=False)
    return clip(text, TEXT_CHARS) if shown else ""


def clip(text: str, limit: int = TEXT_CHARS) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
