"""The last line of defence: bytes about to be written or sent never hold a known secret.

The redactor works on structures, before anything is serialised. This guard
checks what came out of the encoder (an event's data, an LLM request body) for
every secret value the daemon knows (`redact_env` values, API keys), raw and in
the escaped forms an encoder or a nested JSON string gives it. A hit means a
code path skipped the redactor: the value is replaced by `[REDACTED:unverified]`,
counted, and logged without the value. `ExitGuard.refusals` counts hits in
this process so the test suite can assert that no path ever needs the guard.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from typing import ClassVar

from sysward.policy.redaction.shapes import MARKER_PREFIX

UNVERIFIED = f"{MARKER_PREFIX}unverified]".encode()

_log = logging.getLogger(__name__)


class ExitGuard:
    """Replaces known secret values, raw or escaped, in encoded bytes."""

    refusals: ClassVar[int] = 0

    def __init__(self, values: Iterable[str]) -> None:
        forms = {form for value in values for form in _encoded_forms(value)}
        # Longest first: a value's escaped form may contain its raw form.
        self._forms = sorted(forms, key=len, reverse=True)

    def __bool__(self) -> bool:
        return bool(self._forms)

    def check(self, encoded: bytes, *, where: str) -> tuple[bytes, int]:
        """`encoded` with every known secret form replaced, and how many were replaced."""
        total = 0
        for form in self._forms:
            if form in encoded:
                total += encoded.count(form)
                encoded = encoded.replace(form, UNVERIFIED)
        if total:
            ExitGuard.refusals += total
            _log.error(
                "%d known secret value(s) reached %s unredacted and were replaced by "
                "[REDACTED:unverified]; this is a redaction bug, please report it",
                total,
                where,
            )
        return encoded, total


def _encoded_forms(value: str) -> set[bytes]:
    """The value as it can appear inside JSON text: raw, escaped, escaped twice, ASCII-only."""
    once = json.dumps(value)[1:-1]
    twice = json.dumps(once)[1:-1]
    unicode_escaped = json.dumps(value, ensure_ascii=True)[1:-1].replace('\\"', "\\u0022")
    texts = {value, json.dumps(value, ensure_ascii=False)[1:-1], once, twice, unicode_escaped}
    return {text.encode("utf-8", errors="surrogatepass") for text in texts}
