"""How the CLI writes: aligned tables, JSON documents and lines, short values."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Sequence

MAX_CELL_CHARS = 60


def print_json(document: object) -> None:
    """One JSON document on stdout, for scripts (`--json`)."""
    sys.stdout.write(json.dumps(document, indent=2, ensure_ascii=False) + "\n")


def print_json_line(document: object) -> None:
    """One compact JSON line, flushed at once (following a stream)."""
    sys.stdout.write(json.dumps(document, ensure_ascii=False, separators=(",", ":")) + "\n")
    sys.stdout.flush()


def say(text: str) -> None:
    """A line of human output on stdout, flushed so progress shows as it happens."""
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def note(text: str) -> None:
    """Progress and diagnostics on stderr, kept out of what a script captures."""
    sys.stderr.write(text + "\n")
    sys.stderr.flush()


def table(headers: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    """Columns aligned with two spaces; cells clipped to one line of MAX_CELL_CHARS."""
    cells = [list(headers)] + [[clip(cell, MAX_CELL_CHARS) for cell in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        for row in cells
    ]
    return "\n".join(line.rstrip() for line in lines)


def clip(text: str, max_chars: int) -> str:
    """The first line of `text`, shortened to `max_chars` with an ellipsis."""
    first, _, rest = text.strip().partition("\n")
    if len(first) > max_chars or rest:
        return first[: max_chars - 1].rstrip() + "…"
    return first


def compact(value: object, max_chars: int = 200) -> str:
    """A value as compact one-line JSON, clipped (tool arguments, event data)."""
    return clip(json.dumps(value, ensure_ascii=False, separators=(", ", ": ")), max_chars)


def duration(seconds: float) -> str:
    """A human duration: `45 s`, `12 m 3 s`, `3 h 12 m`, `2 d 4 h`."""
    whole = int(seconds)
    days, rest = divmod(whole, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes} m"
    if minutes:
        return f"{minutes} m {secs} s"
    return f"{secs} s"


def timestamp(ts: str) -> str:
    """An event's RFC 3339 time as `YYYY-MM-DD HH:MM:SS` (UTC, as logged)."""
    return ts.replace("T", " ")[:19]


def dash(value: object) -> str:
    """A cell for an optional value: `-` when absent."""
    return "-" if value is None or value == "" else str(value)
