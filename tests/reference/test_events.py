"""docs/events.md is generated from the topic constants and payload models."""

from __future__ import annotations

from pydantic import BaseModel

from sysward.events import topics
from sysward.reference.events import (
    NO_MODEL,
    REGENERATE,
    TOOL_TOPIC,
    UNDOCUMENTED,
    UNTYPED,
    TopicEntry,
    TypedModel,
    render,
    topic_constants,
    topic_entries,
)

from .conftest import DOCS

DOC = DOCS / "events.md"


class Probe(BaseModel):
    """probe.seen: a model only this test knows."""

    count: int


def test_docs_events_md_matches_the_topics_and_payload_models() -> None:
    assert DOC.read_text(encoding="utf-8") == render(topic_entries()), (
        f"docs/events.md is stale: run `{REGENERATE}` (or `make docs`)"
    )


def test_every_topic_constant_has_a_section() -> None:
    text = DOC.read_text(encoding="utf-8")
    constants = topic_constants()
    assert topics.LOG_CHECKPOINT in constants.values()
    for topic in [*constants.values(), TOOL_TOPIC]:
        assert f"\n### {topic}\n" in text, f"{topic} is missing from docs/events.md"


def test_a_new_topic_constant_is_missing_until_the_page_is_regenerated() -> None:
    entries = [*topic_entries(), TopicEntry("probe.seen", ())]
    assert "\n### probe.seen\n" not in DOC.read_text(encoding="utf-8")
    assert "\n### probe.seen\n" in render(entries)


def test_a_topic_without_a_model_says_so_explicitly() -> None:
    rendered = render([TopicEntry("probe.seen", ())])
    assert f"| [`probe.seen`](#probeseen) | {NO_MODEL} |" in rendered
    assert UNTYPED in rendered


def test_a_model_s_fields_and_types_are_rendered_from_the_model() -> None:
    rendered = render([TopicEntry("probe.seen", (TypedModel("seen", Probe),))])
    assert "#### type `seen`" in rendered
    assert "`data` (`Probe`): A model only this test knows." in rendered
    assert "| `count` | integer | yes |" in rendered


def test_the_tool_result_topic_names_every_tool() -> None:
    text = DOC.read_text(encoding="utf-8")
    for tool in ("bash", "file", "net", "proc", "systemd", "dbus", "udev", "crypto", "inotify"):
        assert f"`tool.{tool}`" in text


def test_every_envelope_field_has_a_meaning() -> None:
    assert UNDOCUMENTED not in DOC.read_text(encoding="utf-8")
