"""Bounded capture of one output stream: its first and last bytes, and how many there were.

A command may print gigabytes; only ``max_bytes`` are ever held (the first
half and a rolling last half), so memory stays flat however long it runs. The
rendered text is also kept within a JSON budget: control characters cost six
bytes each once escaped, and the registry refuses results over its cap.
"""

from __future__ import annotations

import codecs

from pydantic_core import to_json

MARKER = "\n[... output truncated: {total} bytes in all, showing the first and last part ...]\n"

# Room for the escaping of ordinary text (a newline is two bytes in JSON).
JSON_SLACK_RATIO = 8


class OutputCapture:
    """Keeps the head and the tail of a byte stream fed to it in chunks."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.total_bytes = 0
        self._head = bytearray()
        self._tail = bytearray()
        self._head_limit = max_bytes // 2
        self._tail_limit = max_bytes - self._head_limit

    @property
    def is_truncated(self) -> bool:
        """True when bytes were dropped between the head and the tail."""
        return self.total_bytes > len(self._head) + len(self._tail)

    def feed(self, chunk: bytes) -> None:
        """Account for one chunk read from the stream."""
        self.total_bytes += len(chunk)
        room = self._head_limit - len(self._head)
        if room > 0:
            self._head += chunk[:room]
            chunk = chunk[room:]
        if chunk:
            self._tail += chunk[-self._tail_limit :]
            del self._tail[: -self._tail_limit]

    def render(self) -> tuple[str, bool]:
        """The captured text (invalid UTF-8 replaced) and whether anything was left out."""
        budget = self.max_bytes + self.max_bytes // JSON_SLACK_RATIO
        if not self.is_truncated:
            text = bytes(self._head + self._tail).decode("utf-8", errors="replace")
            if _json_size(text) <= budget:
                return text, False
            head, tail = text[: len(text) // 2], text[len(text) // 2 :]
        else:
            head, tail = _decode_head(bytes(self._head)), _decode_tail(bytes(self._tail))
        marker = MARKER.format(total=self.total_bytes)
        half = (budget - _json_size(marker)) // 2
        return _fit(head, half, keep_start=True) + marker + _fit(tail, half, keep_start=False), True


def _json_size(text: str) -> int:
    return len(to_json(text))


def _fit(text: str, budget: int, *, keep_start: bool) -> str:
    """The longest start (or end) of ``text`` whose JSON form fits in ``budget`` bytes."""
    size = _json_size(text)
    while size > budget and text:
        # Shrinking in proportion converges in a few rounds even for escape-heavy text.
        keep = max(0, len(text) * budget // size - 1)
        text = text[:keep] if keep_start else text[len(text) - keep :]
        size = _json_size(text)
    return text


def _decode_head(data: bytes) -> str:
    # Not final: a character cut in half at the end is dropped, not replaced.
    return codecs.getincrementaldecoder("utf-8")(errors="replace").decode(data, final=False)


def _decode_tail(data: bytes) -> str:
    # Skip the continuation bytes of a character whose start was dropped.
    start = 0
    while start < min(3, len(data)) and data[start] & 0xC0 == 0x80:
        start += 1
    return data[start:].decode("utf-8", errors="replace")
