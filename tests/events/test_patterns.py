"""Topic names and subscription patterns: `*` is one segment, `>` is the rest."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sysward.events.patterns import (
    MATCH_ALL,
    MAX_TOPIC_LENGTH,
    InvalidTopicError,
    TopicPattern,
    validate_topic,
)

SEGMENT_CHARS = re.compile(r"[A-Za-z0-9_\-]+")


def reference_matches(pattern: list[str], topic: list[str]) -> bool:
    """The SPEC.md rule, written as plainly as possible."""
    if not pattern:
        return not topic
    head, *rest = pattern
    if head == ">":
        return len(topic) >= 1
    if not topic:
        return False
    return head in ("*", topic[0]) and reference_matches(rest, topic[1:])


names = st.sampled_from(["a", "b", "tool", "agent", "x-1", "_"])
topics = st.lists(names, min_size=1, max_size=5)
patterns = st.tuples(st.lists(names | st.just("*"), min_size=0, max_size=5), st.booleans()).map(
    lambda parts: [*parts[0], ">"] if parts[1] or not parts[0] else parts[0]
)


@settings(max_examples=500)
@given(patterns, topics)
def test_pattern_matching_agrees_with_the_reference(pattern: list[str], topic: list[str]) -> None:
    compiled = TopicPattern.parse(".".join(pattern))
    assert compiled.matches(".".join(topic)) == reference_matches(pattern, topic)


@settings(max_examples=300)
@given(st.text(max_size=40))
def test_a_topic_is_either_rejected_or_made_only_of_valid_segments(text: str) -> None:
    try:
        validate_topic(text)
    except InvalidTopicError:
        return
    assert all(SEGMENT_CHARS.fullmatch(segment) for segment in text.split("."))


@settings(max_examples=300)
@given(st.text(alphabet="ab*>.\n -", max_size=12))
def test_a_pattern_is_either_rejected_or_made_of_names_stars_and_a_final_rest(text: str) -> None:
    try:
        pattern = TopicPattern.parse(text)
    except InvalidTopicError:
        return
    for index, segment in enumerate(pattern.segments):
        is_last = index == len(pattern.segments) - 1
        assert segment == "*" or (segment == ">" and is_last) or SEGMENT_CHARS.fullmatch(segment)


@pytest.mark.parametrize(
    ("pattern", "topic", "expected"),
    [
        ("tool.*", "tool.bash", True),
        ("tool.*", "tool.inotify.event", False),
        ("tool.*", "tool", False),
        ("agent.>", "agent.prompt", True),
        ("agent.>", "agent.a.b.c", True),
        ("agent.>", "agent", False),
        ("*", "daemon", True),
        ("*", "daemon.started", False),
        (">", "anything.at.all", True),
        ("*.started", "daemon.started", True),
        ("tool.bash", "tool.bash", True),
        ("tool.bash", "tool.bashful", False),
    ],
)
def test_spec_examples(pattern: str, topic: str, *, expected: bool) -> None:
    assert TopicPattern.parse(pattern).matches(topic) is expected


def test_match_all_matches_every_topic() -> None:
    assert MATCH_ALL.matches("a")
    assert MATCH_ALL.matches("tool.inotify.event")


@pytest.mark.parametrize(
    "topic",
    ["", "tool..bash", ".tool", "tool.", "tool bash", "tool.*", "agent.>", "tool.bash\n", "é"],
)
def test_invalid_topic_is_rejected(topic: str) -> None:
    with pytest.raises(InvalidTopicError):
        validate_topic(topic)


def test_topic_length_is_bounded() -> None:
    assert validate_topic("a" * MAX_TOPIC_LENGTH) == "a" * MAX_TOPIC_LENGTH
    with pytest.raises(InvalidTopicError, match=str(MAX_TOPIC_LENGTH)):
        validate_topic("a" * (MAX_TOPIC_LENGTH + 1))


@pytest.mark.parametrize("pattern", ["", ">.a", "a.>.b", "a..b", "a.b*", "**", "a.>\n", "a b"])
def test_invalid_pattern_is_rejected(pattern: str) -> None:
    with pytest.raises(InvalidTopicError):
        TopicPattern.parse(pattern)


def test_invalid_topic_error_is_a_value_error_so_pydantic_reports_it() -> None:
    assert issubclass(InvalidTopicError, ValueError)
