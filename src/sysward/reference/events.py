"""docs/events.md, generated from the topic constants and the payload models.

`python -m sysward.reference.events > docs/events.md` rewrites it (or `make
docs`); tests/reference/test_events.py checks the committed file equals what
this renders and names every topic constant.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from sysward.agents.payloads import AgentLifecycle, payload_model
from sysward.daemon.reload import ReloadReport
from sysward.daemon.watch_events import WatchEventsDropped, WatchEventSeen
from sysward.events import topics
from sysward.events.checkpoint import CheckpointSigned
from sysward.events.context import EventContext
from sysward.events.record import Event
from sysward.reference.schema import (
    TypeNamer,
    anchor_link,
    field_rows,
    first_paragraph,
    render_fields,
    render_named_type,
    render_table,
)
from sysward.tools.reference import reference_tools
from sysward.tools.spec import tool_name
from sysward.triggers.payloads import (
    TriggerError,
    TriggerFired,
    TriggerSuppressed,
    TriggerToggled,
)

REGENERATE = "python -m sysward.reference.events > docs/events.md"
TOOL_TOPIC = "tool.<name>"
UNDOCUMENTED = "(undocumented)"
NO_MODEL = "no model yet"
UNTYPED = (
    "No payload model yet: `data` is an untyped JSON object whose fields are not part "
    "of this reference. Its producer should declare a pydantic model (in "
    "`payload_model()` or `TOPIC_MODELS` in `src/sysward/reference/events.py`)."
)


@dataclass(frozen=True)
class TypedModel:
    """The model of a topic's data for events of one `type` (None: every type).

    Several types sharing one model are written `a|b|c`.
    """

    event_type: str | None
    model: type[BaseModel] | None


# Topics whose data models `payload_model()` does not return, because agents do
# not fold them. A producer that declares a model registers it here; a type with
# None has no model yet and the page says so.
TOPIC_MODELS: dict[str, tuple[TypedModel, ...]] = {
    topics.AGENT_STARTED: (TypedModel("started", AgentLifecycle),),
    topics.AGENT_STOPPED: (TypedModel("stopped", AgentLifecycle),),
    topics.TOOL_INOTIFY_EVENT: (
        TypedModel("changed", WatchEventSeen),
        TypedModel("dropped", WatchEventsDropped),
    ),
    topics.DAEMON_RELOADED: (TypedModel("reloaded", ReloadReport), TypedModel("rejected", None)),
    topics.LOG_CHECKPOINT: (TypedModel("checkpoint", CheckpointSigned),),
    # A firing's type is the trigger's source; a suppression's its reason, or
    # `coalesced` for the counted ones; a toggle's what the operator chose.
    topics.TRIGGER_FIRED: (TypedModel("unit|udev|path|journal|schedule", TriggerFired),),
    topics.TRIGGER_SUPPRESSED: (
        TypedModel("debounce|rate_limit|agent_unavailable|coalesced", TriggerSuppressed),
    ),
    topics.TRIGGER_TOGGLED: (TypedModel("enabled|disabled", TriggerToggled),),
    topics.TRIGGER_ERROR: (TypedModel("unavailable", TriggerError),),
}

# A few sentences under a topic's heading, for what its model's fields do not say.
TOPIC_NOTES: dict[str, str] = {
    topics.TRIGGER_FIRED: (
        "A trigger's source event fired (see [triggers.md](triggers.md)). The event's `agent` "
        "is the target agent and its `turn` the turn the firing starts; it is committed "
        "before that turn's `agent.prompt`, whose events carry `context.trigger` and "
        "`context.trigger_seq` (this event's seq)."
    ),
    topics.TRIGGER_SUPPRESSED: (
        "Matching source events that did not fire. `reasons` counts them by reason "
        "(`debounce`, `rate_limit`, `agent_unavailable`). The first suppression after a "
        "firing is written at once (with that event's `key`); later ones are counted and "
        "written together as one `coalesced` event per trigger at most every 60 s. "
        "`firing_seq` is set when a committed firing's turn could not start."
    ),
    topics.TRIGGER_TOGGLED: (
        "`sysward triggers enable|disable NAME` (or the API). `uid` is the caller's. The "
        "choice holds across restarts while the config's `enabled` is still `config_enabled`."
    ),
    topics.TRIGGER_ERROR: (
        "The trigger's source cannot watch (no bus, no journal, a missing path, no "
        "permission). Written when it fails, and again only when the reason changes; "
        "the source is retried with backoff from 1 s up to 60 s."
    ),
}

# The envelope's fields carry no descriptions in events/record.py; a field added
# there without a meaning here renders as UNDOCUMENTED, which the test refuses.
ENVELOPE_MEANINGS = {
    "seq": "Global position in the log: gap-free, assigned at commit, the SSE `id`",
    "ts": "Commit time, UTC, microseconds, never decreasing",
    "topic": "What happened, dot-separated (the list below)",
    "type": "A finer kind within the topic (e.g. the message role of `agent.message`)",
    "agent": "The agent it concerns, if any",
    "turn": "The turn it belongs to, if any (`t_…`)",
    "source": "The component that wrote it, e.g. `sysward.agents`, `sysward.daemon`",
    "data": "The topic's payload (below)",
    "context": "Who and what caused it (next table)",
    "prev": "Hex SHA-256 of the previous record's bytes: the hash chain",
    "request_id": "The control API request that caused it",
    "trace_id": "Trace id propagated from the request",
    "correlation_id": "Groups the events of one operation",
    "peer_uid": "Uid of the control-socket peer (SO_PEERCRED) that asked",
    "trigger": "The trigger whose firing started the turn (or wrote this `trigger.*` event)",
    "trigger_seq": "The seq of the `trigger.fired` event that started the turn",
    "redacted": "How many secrets were replaced by `[REDACTED:kind]` in `data`",
}

HEADER = """# Events

Reference generated by `python -m sysward.reference.events` from the topic
constants (`src/sysward/events/topics.py`) and the payload models; do not
edit by hand: `tests/reference/test_events.py` fails when this file is stale.

Everything that happens is an event appended to the log first; the bus, the
API and the CLI only ever show durable events. An event is acknowledged once
it is synced to disk, and `seq` numbers are global and gap-free.

## The envelope

Every event, in the log, on the bus and on the wire (`GET /v1/events`, SSE
`data:`), is one JSON object:

```json
{"seq": 1042, "ts": "2026-11-22T18:15:38.123456Z", "topic": "tool.bash", "type": "result",
 "agent": "ops", "turn": "t_01J…", "source": "sysward.agents",
 "data": {"call_id": "call_1", "action": "exec", "result": {"ok": true, "output": {}},
          "duration_ms": 12},
 "context": {"request_id": "req_…"},
 "prev": "<hex sha256 of the previous record>"}
```

The stored bytes are exactly what the API sends, and what the hash chain
hashes: `sysward log verify` re-walks it.
"""

PATTERNS = """
## Subscribing

Topic patterns match dot-separated segments: `*` matches exactly one segment,
`>` (last only) matches one or more: `tool.*` is every tool result, `agent.>`
every agent event, `>` everything. They work in `GET /v1/events?topic=`,
`GET /v1/events/stream?topic=` and `sysward events --topic`.
"""


@dataclass(frozen=True)
class TopicEntry:
    """One topic of the reference and the models of its data (none: untyped)."""

    topic: str
    models: tuple[TypedModel, ...]

    @property
    def known_models(self) -> list[type[BaseModel]]:
        return [typed.model for typed in self.models if typed.model is not None]


def topic_constants() -> dict[str, str]:
    """Every topic constant of `sysward.events.topics`: NAME → topic."""
    return {
        name: value
        for name, value in vars(topics).items()
        if name.isupper() and isinstance(value, str)
    }


def models_of(topic: str) -> tuple[TypedModel, ...]:
    if topic in TOPIC_MODELS:
        return TOPIC_MODELS[topic]
    model = payload_model(topic)
    return (TypedModel(None, model),) if model is not None else ()


def topic_entries() -> list[TopicEntry]:
    """The constants in declaration order, with `tool.<name>` before the first `tool.` one."""
    tool_results = TopicEntry(TOOL_TOPIC, models_of(topics.tool_topic("bash")))
    entries = []
    for topic in topic_constants().values():
        if topic.startswith("tool.") and tool_results not in entries:
            entries.append(tool_results)
        entries.append(TopicEntry(topic, models_of(topic)))
    if tool_results not in entries:
        entries.append(tool_results)
    return entries


def render(entries: list[TopicEntry]) -> str:
    definitions = _definitions(entries)
    namer = TypeNamer.for_definitions(definitions, anchor_link)
    parts = [HEADER, _render_envelope(), PATTERNS, "\n## Topics\n\n", _topic_table(entries)]
    parts += [_render_topic(entry, namer) for entry in entries]
    parts.append("\n## Types\n\nThe models the payloads above refer to.\n")
    for name, schema in sorted(definitions.items()):
        if schema:
            parts.append(render_named_type(name, schema, namer))
    return "".join(parts)


def _definitions(entries: list[TopicEntry]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for entry in entries:
        for model in entry.known_models:
            found.update(model.model_json_schema().get("$defs", {}))
    return found


def _render_envelope() -> str:
    parts = []
    for title, model in (("", Event), ("\n`context`:\n\n", EventContext)):
        schema = model.model_json_schema()
        rows = [
            (f"`{row.name}`", row.type, ENVELOPE_MEANINGS.get(row.name, UNDOCUMENTED))
            for row in field_rows(schema, TypeNamer.for_definitions(schema.get("$defs", {})))
        ]
        parts.append(title + render_table(("field", "type", "meaning"), rows))
    return "\n" + "".join(parts)


def _topic_table(entries: list[TopicEntry]) -> str:
    rows = [
        (
            f"[`{entry.topic}`](#{_anchor(entry.topic)})",
            ", ".join(f"`{model.__name__}`" for model in entry.known_models) or NO_MODEL,
            " ".join(_summary(model) for model in entry.known_models),
        )
        for entry in entries
    ]
    return render_table(("topic", "data", "what it records"), rows)


def _anchor(topic: str) -> str:
    """GitHub's anchor for a `### topic` heading: lower case, no dots, `<>` dropped."""
    return "".join(char for char in topic.lower() if char.isalnum() or char in "-_")


def _summary(model: type[BaseModel]) -> str:
    """The model's docstring, less a leading `topic:` label, as a sentence."""
    text = first_paragraph(model.__doc__)
    _, colon, rest = text.partition(": ")
    text = rest if colon and rest else text
    return text[:1].upper() + text[1:]


def _render_topic(entry: TopicEntry, namer: TypeNamer) -> str:
    parts = [f"\n### {entry.topic}\n"]
    if entry.topic == TOOL_TOPIC:
        names = ", ".join(f"`tool.{tool_name(tool)}`" for tool in reference_tools())
        parts.append(f"\nOne topic per tool: {names}.\n")
    if entry.topic in TOPIC_NOTES:
        parts.append(f"\n{TOPIC_NOTES[entry.topic]}\n")
    if not entry.models:
        parts.append(f"\n{UNTYPED}\n")
    for typed in entry.models:
        if typed.event_type is not None:
            parts.append(f"\n#### type {_types(typed.event_type)}\n")
        parts.append(_render_data(typed.model, namer))
    return "".join(parts)


def _types(event_type: str) -> str:
    """`a`, or `a`, `b` or `c` for a model shared by several types (written `a|b|c`)."""
    names = [f"`{name}`" for name in event_type.split("|")]
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"


def _render_data(model: type[BaseModel] | None, namer: TypeNamer) -> str:
    if model is None:
        return f"\n{UNTYPED}\n"
    summary = f"\n`data` (`{model.__name__}`): {_summary(model)}\n\n"
    return summary + render_fields(field_rows(model.model_json_schema(), namer))


def main() -> int:
    sys.stdout.write(render(topic_entries()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
