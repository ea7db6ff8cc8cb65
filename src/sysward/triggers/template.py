"""A trigger's prompt: its template filled from the source event's fields.

Only plain `{name}` placeholders (config validation refuses conversions, format
specs and attribute access, so a template cannot reach into Python objects); a
field the event does not have renders as `(none)` rather than failing the firing.
"""

from __future__ import annotations

import string
from collections.abc import Mapping

MISSING = "(none)"
MAX_PROMPT_CHARS = 16_000


def render(template: str, fields: Mapping[str, str]) -> str:
    out: list[str] = []
    for literal, name, _, _ in string.Formatter().parse(template):
        out.append(literal)
        if name is not None:
            out.append(fields.get(name) or MISSING)
    text = "".join(out)
    return text if len(text) <= MAX_PROMPT_CHARS else text[:MAX_PROMPT_CHARS] + "…"
