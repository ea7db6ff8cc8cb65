"""A fix for a bashlex 0.18 defect that hangs the parser on an unclosed `${`.

`bashlex.subst._paramexpand` looks for the `}` of `${…}` with `str.find` and uses
the -1 it returns when there is none as the end of the expansion, so the word
scanner moves backwards and loops forever, growing a list: `{'${'` takes a
whole machine's memory. The command line comes from a model, so that would let
any model stop the daemon. The guard makes it the parse error bash itself
gives ("bad substitution"), which the policy treats as a line it cannot read.
"""

from __future__ import annotations

from typing import Any

import bashlex.errors
import bashlex.subst

_original_paramexpand = bashlex.subst._paramexpand


def _paramexpand(parserobj: Any, string: str, sindex: int) -> Any:
    if string.startswith("${", sindex) and string.find("}", sindex + 2) == -1:
        raise bashlex.errors.ParsingError("bad substitution: no closing `}`", string, sindex)
    return _original_paramexpand(parserobj, string, sindex)


def install() -> None:
    """Patch bashlex's parameter expansion (idempotent); its callers look it up by name."""
    bashlex.subst._paramexpand = _paramexpand
