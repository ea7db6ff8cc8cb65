"""Redacting a stream of text chunk by chunk, with the same result as redacting it whole.

Every secret shape except a private-key block lies within one line, so the
stream releases whole lines only; a private-key block that may still go on is
held from the start of its line until it ends. Held text is bounded.
"""

from __future__ import annotations

from sysward.policy.redaction.redactor import Redactor
from sysward.policy.redaction.shapes import PRIVATE_KEY

# Past this much held text (one endless line, a block that never ends) the
# held text is redacted and released as it is: memory stays bounded, at the
# price that a secret straddling that one cut may be missed.
MAX_HELD_CHARS = 256 * 1024


class StreamRedactor:
    """Feed chunks, get back text that can no longer be part of a secret; then flush."""

    def __init__(self, redactor: Redactor, *, max_held_chars: int = MAX_HELD_CHARS) -> None:
        self.redactor = redactor
        self.max_held_chars = max_held_chars
        self.count = 0
        self._held = ""

    def feed(self, chunk: str) -> str:
        """Take one chunk; return the redacted text that is now settled (maybe empty)."""
        self._held += chunk
        cut = self._settled_length()
        if cut == 0 and len(self._held) > self.max_held_chars:
            cut = len(self._held)
        if cut == 0:
            return ""
        settled, self._held = self._held[:cut], self._held[cut:]
        return self._redact(settled)

    def flush(self) -> str:
        """The end of the stream: redact and return everything still held."""
        rest, self._held = self._held, ""
        return self._redact(rest) if rest else ""

    def _settled_length(self) -> int:
        """How much of the held text no further input can change: whole lines, up to an open key."""
        cut = self._held.rfind("\n") + 1
        if cut == 0:
            return 0
        blocks = list(PRIVATE_KEY.finditer(self._held, 0, cut))
        # A block reaching the last line break may continue on the next line.
        if not blocks or self._held[blocks[-1].end() : cut].strip("\r\n"):
            return cut
        cut = self._line_start(blocks[-1].start())
        # Hold from a line start that no earlier block reaches past (an END line
        # can share its line with the next BEGIN).
        for block in reversed(blocks[:-1]):
            if block.end() <= cut:
                break
            cut = self._line_start(block.start())
        return cut

    def _line_start(self, position: int) -> int:
        return self._held.rfind("\n", 0, position) + 1

    def _redact(self, text: str) -> str:
        redacted, count = self.redactor.redact_text(text)
        self.count += count
        return redacted
