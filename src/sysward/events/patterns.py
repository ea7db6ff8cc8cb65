"""Topic names and subscription patterns: `*` matches one segment, `>` the rest."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sysward.errors import SyswardError

_SEGMENT = re.compile(r"[A-Za-z0-9_\-]+")
MAX_TOPIC_LENGTH = 255
# A whole topic: dot-separated segments. Also used as a pydantic `pattern`, so
# envelope validation runs in pydantic-core rather than in a Python validator.
TOPIC_PATTERN = r"^[A-Za-z0-9_\-]+(\.[A-Za-z0-9_\-]+)*$"


class InvalidTopicError(SyswardError, ValueError):
    """A topic name or pattern is malformed."""


def validate_topic(topic: str) -> str:
    """Check a concrete topic: dot-separated segments of letters, digits, `_` and `-`."""
    if not topic or len(topic) > MAX_TOPIC_LENGTH:
        raise InvalidTopicError(f"topic must be 1..{MAX_TOPIC_LENGTH} characters, got {topic!r}")
    for segment in topic.split("."):
        if not _SEGMENT.fullmatch(segment):
            raise InvalidTopicError(
                f"topic {topic!r}: segment {segment!r} must be letters, digits, '_' or '-'"
            )
    return topic


@dataclass(frozen=True, slots=True)
class TopicPattern:
    """A compiled subscription pattern such as `tool.*` or `agent.>`."""

    text: str
    segments: tuple[str, ...]

    @classmethod
    def parse(cls, text: str) -> TopicPattern:
        if not text or len(text) > MAX_TOPIC_LENGTH:
            raise InvalidTopicError(f"pattern must be 1..{MAX_TOPIC_LENGTH} characters")
        segments = tuple(text.split("."))
        for index, segment in enumerate(segments):
            if segment == ">" and index != len(segments) - 1:
                raise InvalidTopicError(f"pattern {text!r}: '>' may only be the last segment")
            if segment not in ("*", ">") and not _SEGMENT.fullmatch(segment):
                raise InvalidTopicError(
                    f"pattern {text!r}: segment {segment!r} must be a name, '*' or '>'"
                )
        return cls(text, segments)

    def matches(self, topic: str) -> bool:
        parts = topic.split(".")
        for index, segment in enumerate(self.segments):
            if segment == ">":
                return len(parts) > index
            if index >= len(parts):
                return False
            if segment != "*" and segment != parts[index]:
                return False
        return len(parts) == len(self.segments)


MATCH_ALL = TopicPattern.parse(">")
