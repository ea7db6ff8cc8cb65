"""Replacing secrets in text and JSON before they are written to the event log.

Two passes over a string: first the secret values the daemon knows (the
`[policy] redact_env` variables and every LLM endpoint's API key), then the
secrets known by shape (see `shapes`). Each secret becomes `[REDACTED:<kind>]`;
callers get how many were replaced, never what.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable, Mapping
from pathlib import Path

from pydantic import JsonValue

from sysward.config import Settings
from sysward.policy.redaction.guard import ExitGuard
from sysward.policy.redaction.shapes import (
    MARKER_PREFIX,
    SECRET_NAME,
    SecretKind,
    find_secrets,
    marker,
)

# A known value shorter than this is not redacted where it appears: "admin" or
# "12345" would be replaced inside ordinary words and numbers all over the log.
MIN_SECRET_CHARS = 6

# Values under these keys are public by nature and often look random: only
# known shapes and known values are redacted in them, no entropy guess.
PUBLIC_VALUE_KEYS = frozenset(
    {"public_key", "public_key_pem", "signature", "hex", "sha256", "digest", "checksum", "hash"}
)

_log = logging.getLogger(__name__)


class Redactor:
    """Redacts known secret values and secrets recognised by their shape."""

    def __init__(self, secrets: Mapping[str, SecretKind] | None = None) -> None:
        """`secrets`: value → kind; each line of a value is matched on its own."""
        self._kinds = _by_line(secrets or {})
        longest_first = sorted(self._kinds, key=len, reverse=True)
        self._values = (
            re.compile("|".join(map(re.escape, longest_first))) if longest_first else None
        )

    @classmethod
    def from_settings(cls, settings: Settings, environ: Mapping[str, str]) -> Redactor:
        """The `redact_env` values and every endpoint's API key (from its variable or file)."""
        secrets: dict[str, SecretKind] = {}
        for name in settings.policy.redact_env:
            if value := environ.get(name):
                secrets[value] = SecretKind.ENV
        for endpoint in settings.llm.values():
            if endpoint.api_key_env is not None and (value := environ.get(endpoint.api_key_env)):
                secrets[value] = SecretKind.API_KEY
            if endpoint.api_key_file is not None and (
                value := _read_key_file(endpoint.api_key_file)
            ):
                secrets[value] = SecretKind.API_KEY
        return cls(secrets)

    def exit_guard(self) -> ExitGuard:
        """A guard for encoded bytes, checking for this redactor's known values."""
        return ExitGuard(self._kinds)

    @property
    def known_values(self) -> int:
        """How many secret lines are redacted by value."""
        return len(self._kinds)

    def redact_text(self, text: str) -> tuple[str, int]:
        """`text` with its secrets replaced by markers, and how many were replaced.

        Text that is itself a JSON document (a tool result serialised into a
        message, a JSON file read by a tool, JSON inside a JSON string) is
        decoded and redacted as a structure, then encoded again: patterns run
        over escaped text (``\\"``) would take the escape for the value and
        leave the secret behind.
        """
        decoded = _embedded_json(text)
        if decoded is _NOT_JSON:
            return self._redact(text, guess_random=True)
        redacted, count = self.redact_json(decoded)  # type: ignore[arg-type]
        if not count:
            return text, 0
        return _encode_like(text, redacted), count

    def redact_json(self, value: JsonValue) -> tuple[JsonValue, int]:
        """Redact every string in a JSON value; keys only when they hold a known secret value.

        A string under a key that names a secret ("password", "DB_TOKEN") is
        replaced whole. Unchanged containers are returned as they were.
        """
        if isinstance(value, str):
            return self.redact_text(value)
        if isinstance(value, list):
            return self._redact_list(value)
        if isinstance(value, dict):
            return self._redact_dict(value)
        return value, 0

    def redact_data(self, data: dict[str, JsonValue]) -> tuple[dict[str, JsonValue], int]:
        """An event's data, redacted: the log's scrub."""
        return self._redact_dict(data)

    def _redact_list(self, items: list[JsonValue]) -> tuple[JsonValue, int]:
        total = 0
        redacted: list[JsonValue] = []
        for item in items:
            new, count = self.redact_json(item)
            redacted.append(new)
            total += count
        return (redacted if total else items), total

    def _redact_dict(self, mapping: dict[str, JsonValue]) -> tuple[dict[str, JsonValue], int]:
        total = 0
        redacted: dict[str, JsonValue] = {}
        for key, item in mapping.items():
            new_key, key_count = self._redact_values(key)
            new, count = self._redact_entry(key, item)
            if new_key in redacted:  # two keys redacted to one marker must not merge
                new_key = f"{new_key}#{len(redacted)}"
            redacted[new_key] = new
            total += key_count + count
        return (redacted if total else mapping), total

    def _redact_entry(self, key: str, item: JsonValue) -> tuple[JsonValue, int]:
        if not isinstance(item, str):
            return self.redact_json(item)
        if item and SECRET_NAME.search(key) and not item.startswith(MARKER_PREFIX):
            return marker(SecretKind.PASSWORD), 1
        if key in PUBLIC_VALUE_KEYS:
            return self._redact(item, guess_random=False)
        return self.redact_text(item)

    def _redact(self, text: str, *, guess_random: bool) -> tuple[str, int]:
        if len(text) < MIN_SECRET_CHARS:
            return text, 0
        text, count = self._redact_values(text)
        found = find_secrets(text, guess_random=guess_random)
        if not found:
            return text, count
        pieces: list[str] = []
        position = 0
        for start, end, kind in found:
            pieces += (text[position:start], marker(kind))
            position = end
        pieces.append(text[position:])
        return "".join(pieces), count + len(found)

    def _redact_values(self, text: str) -> tuple[str, int]:
        if self._values is None or not any(value in text for value in self._kinds):
            return text, 0
        return self._values.subn(self._value_marker, text)

    def _value_marker(self, found: re.Match[str]) -> str:
        return marker(self._kinds[found.group()])


_NOT_JSON = object()
# Only containers and encoded strings: "12" or "true" are text, not documents.
_JSON_STARTS = ("{", "[", '"')


def _embedded_json(text: str) -> object:
    """The JSON value `text` encodes, or `_NOT_JSON`."""
    if not text.lstrip().startswith(_JSON_STARTS):
        return _NOT_JSON
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return _NOT_JSON


def _encode_like(original: str, value: JsonValue) -> str:
    """`value` as JSON in roughly the layout of `original`, so a file stays readable."""
    if "\n" in original.strip():
        return json.dumps(value, ensure_ascii=False, indent=2)
    if ": " in original or ", " in original:
        return json.dumps(value, ensure_ascii=False)
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _by_line(secrets: Mapping[str, SecretKind]) -> dict[str, SecretKind]:
    # Line by line, so a secret never has to be matched across a line break (the
    # stream redactor releases whole lines) and a multi-line key file still counts.
    kinds: dict[str, SecretKind] = {}
    for value, kind in secrets.items():
        for line in _lines(value):
            kinds.setdefault(line, kind)
    return kinds


def _lines(value: str) -> Iterable[str]:
    for line in value.splitlines():
        line = line.strip()
        if len(line) >= MIN_SECRET_CHARS:
            yield line


def _read_key_file(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        # The LLM client reports an unreadable key when it needs it; here it
        # only means there is no value to look for.
        _log.warning("cannot read api_key_file %s to redact it: %s", path, type(exc).__name__)
        return None
