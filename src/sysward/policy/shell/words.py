"""Quote removal for one shell word, as bash does it.

bashlex's own word values lose quotes that sit inside other quotes
(`'a'"'"'b'` is `a'b` to bash), so the policy dequotes the word's source text.
Expansions (`$X`, `$(…)`) are kept as written: their value is unknown anyway.
"""

from __future__ import annotations

import codecs

# Inside double quotes a backslash escapes only these.
_DOUBLE_QUOTE_ESCAPES = '$`"\\\n'


def dequote(raw: str) -> str:
    """The value of the word `raw` after quote removal (no expansion)."""
    out: list[str] = []
    i = 0
    while i < len(raw):
        char = raw[i]
        if char == "'":
            end = _find(raw, "'", i + 1)
            out.append(raw[i + 1 : end])
            i = end + 1
        elif char == '"' or raw.startswith('$"', i):
            i = _double_quoted(raw, i + (2 if char == "$" else 1), out)
        elif raw.startswith("$'", i):
            i = _ansi_c(raw, i + 2, out)
        elif char == "\\":
            if raw[i + 1 : i + 2] not in ("", "\n"):
                out.append(raw[i + 1])
            i += 2
        else:
            out.append(char)
            i += 1
    return "".join(out)


def _find(raw: str, char: str, start: int) -> int:
    end = raw.find(char, start)
    return len(raw) if end < 0 else end


def _double_quoted(raw: str, i: int, out: list[str]) -> int:
    while i < len(raw) and raw[i] != '"':
        if raw[i] == "\\" and raw[i + 1 : i + 2] and raw[i + 1] in _DOUBLE_QUOTE_ESCAPES:
            if raw[i + 1] != "\n":
                out.append(raw[i + 1])
            i += 2
        else:
            out.append(raw[i])
            i += 1
    return i + 1


def _ansi_c(raw: str, i: int, out: list[str]) -> int:
    start = i
    while i < len(raw) and raw[i] != "'":
        i += 2 if raw[i] == "\\" else 1
    body = raw[start : min(i, len(raw))]
    try:
        out.append(codecs.decode(body, "unicode_escape"))
    except ValueError:  # a malformed escape, or a character past U+00FF
        out.append(body)
    return i + 1
