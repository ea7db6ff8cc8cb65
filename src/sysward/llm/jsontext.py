"""JSON text from servers and models, made safe to decode into storable strings.

A `\\ud800`-style escape of an unpaired surrogate decodes into a Python string
that cannot be encoded as UTF-8, so a reply holding one could never be sent
back or logged as an event; such escapes become U+FFFD before decoding.
"""

from __future__ import annotations

import json
import re

from pydantic import JsonValue

_SURROGATE_ESCAPE = re.compile(
    r"\\\\"  # an escaped backslash: what follows it is not an escape
    r"|\\u[dD][89abAB][0-9a-fA-F]{2}\\u[dD][c-fC-F][0-9a-fA-F]{2}"  # a pair
    r"|\\u[dD][89a-fA-F][0-9a-fA-F]{2}"  # a lone half
)


def without_lone_surrogates(json_text: str) -> str:
    """JSON text with escapes of unpaired surrogates replaced by `\\ufffd`."""

    def replace(match: re.Match[str]) -> str:
        token = match.group()
        return "\\ufffd" if len(token) == 6 else token

    return _SURROGATE_ESCAPE.sub(replace, json_text)


def _reject_constant(name: str) -> JsonValue:
    raise ValueError(f"{name} is not valid JSON")


# Python's decoder accepts NaN and Infinity, which are not JSON and not storable.
STRICT_JSON = json.JSONDecoder(parse_constant=_reject_constant)


def decode_json(text: str) -> JsonValue:
    """Strictly decoded JSON; any problem (nesting too deep included) is a ValueError."""
    try:
        value: JsonValue = STRICT_JSON.decode(without_lone_surrogates(text))
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None
    return value
