"""JSON values to D-Bus values by signature, and D-Bus replies back to capped JSON.

The JSON forms, the same in both directions:

==========================  =============================================
D-Bus type                  JSON
==========================  =============================================
y n q i u x t               integer, range-checked
b / d                       true/false / number
s o g                       string (o and g validated)
ay                          base64 string
a{KV}                       object; keys are strings ("42", "true" for
                            integer and boolean key types)
aT                          array
(T1T2...)                   array of the members
v                           {"signature": "<one type>", "value": <JSON>}
==========================  =============================================
"""

from __future__ import annotations

import base64
import binascii
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from dbus_fast import Variant, is_object_path_valid
from dbus_fast.signature import SignatureType
from pydantic import JsonValue

from sysward.tools.dbus.names import parse_signature

# D-Bus allows 64 levels of containers (arrays, structs, variants) in one message.
MAX_DEPTH = 64
MAX_STRING_CHARS = 4096
MAX_BYTES = 3072  # 4096 characters of base64

_INT_RANGES = {
    "y": (0, 2**8 - 1),
    "n": (-(2**15), 2**15 - 1),
    "q": (0, 2**16 - 1),
    "i": (-(2**31), 2**31 - 1),
    "u": (0, 2**32 - 1),
    "x": (-(2**63), 2**63 - 1),
    "t": (0, 2**64 - 1),
}


_Cuttable = TypeVar("_Cuttable", str, bytes, list[object], list[tuple[object, object]])


class ConversionError(ValueError):
    """A JSON value does not fit its D-Bus type; the message names where and why."""


def to_dbus(type_: SignatureType, value: JsonValue, where: str, depth: int = 0) -> object:
    """The dbus-fast value for ``value`` as D-Bus type ``type_``; ``where`` locates errors."""
    if depth > MAX_DEPTH:
        raise ConversionError(f"{where}: nested deeper than {MAX_DEPTH} levels")
    return _ENCODERS[type_.token](type_, value, where, depth)


def _int(type_: SignatureType, value: JsonValue, where: str, depth: int) -> int:
    low, high = _INT_RANGES[type_.token]
    if isinstance(value, bool) or not isinstance(value, int):
        raise _mismatch(where, type_, value, f"an integer in [{low}, {high}]")
    if not low <= value <= high:  # the value itself is not echoed: it may be 4000 digits long
        raise ConversionError(f"{where}: out of range for '{type_.token}' [{low}, {high}]")
    return value


def _bool(type_: SignatureType, value: JsonValue, where: str, depth: int) -> bool:
    if not isinstance(value, bool):
        raise _mismatch(where, type_, value, "true or false")
    return value


def _double(type_: SignatureType, value: JsonValue, where: str, depth: int) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _mismatch(where, type_, value, "a number")
    return float(value)


def _string(type_: SignatureType, value: JsonValue, where: str, depth: int) -> str:
    if not isinstance(value, str):
        raise _mismatch(where, type_, value, "a string")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ConversionError(f"{where}: not valid Unicode (a lone surrogate?)") from None
    if type_.token == "o" and not is_object_path_valid(value):
        raise ConversionError(f"{where}: not a valid object path")
    if type_.token == "g":
        try:
            parse_signature(value)
        except ValueError as exc:
            raise ConversionError(f"{where}: {exc}") from exc
    return value


def _variant(type_: SignatureType, value: JsonValue, where: str, depth: int) -> Variant:
    if not isinstance(value, dict) or set(value) != {"signature", "value"}:
        raise _mismatch(where, type_, value, 'an object {"signature": "...", "value": ...}')
    signature = value["signature"]
    if not isinstance(signature, str):
        raise ConversionError(f"{where}.signature: must be a string")
    try:
        tree = parse_signature(signature)
    except ValueError as exc:
        raise ConversionError(f"{where}.signature: {exc}") from exc
    if len(tree.types) != 1:
        raise ConversionError(f"{where}.signature: must be a single complete type")
    inner = to_dbus(tree.types[0], value["value"], f"{where}.value", depth + 1)
    return Variant(tree.types[0], inner, verify=False)


def _struct(type_: SignatureType, value: JsonValue, where: str, depth: int) -> list[object]:
    members = type_.children
    if not isinstance(value, list) or len(value) != len(members):
        raise _mismatch(where, type_, value, f"an array of {len(members)} members")
    return [
        to_dbus(member, item, f"{where}[{index}]", depth + 1)
        for index, (member, item) in enumerate(zip(members, value, strict=True))
    ]


def _array(type_: SignatureType, value: JsonValue, where: str, depth: int) -> object:
    element = type_.children[0]
    if element.token == "y":
        return _bytes(type_, value, where)
    if element.token == "{":
        return _dict(element, value, where, depth)
    if not isinstance(value, list):
        raise _mismatch(where, type_, value, "an array")
    return [to_dbus(element, item, f"{where}[{i}]", depth + 1) for i, item in enumerate(value)]


def _bytes(type_: SignatureType, value: JsonValue, where: str) -> bytes:
    if not isinstance(value, str):
        raise _mismatch(where, type_, value, "a base64 string")
    try:
        return base64.b64decode(value, validate=True)
    except binascii.Error as exc:
        raise ConversionError(f"{where}: not valid base64 ({exc})") from exc


def _dict(entry: SignatureType, value: JsonValue, where: str, depth: int) -> dict[object, object]:
    key_type, value_type = entry.children
    if not isinstance(value, dict):
        raise _mismatch(where, entry, value, "an object")
    converted: dict[object, object] = {}
    for key, item in value.items():
        # Error locations must be valid Unicode themselves (pydantic refuses surrogates).
        at = f"{where}.{key[:64].encode('utf-8', 'backslashreplace').decode('utf-8')}"
        converted[_key(key_type, key, at)] = to_dbus(value_type, item, at, depth + 1)
    return converted


def _key(type_: SignatureType, key: str, where: str) -> object:
    """A dict key: JSON object keys are strings, so numbers and booleans arrive spelled out."""
    token = type_.token
    parsed: JsonValue = key
    if token in _INT_RANGES:
        try:
            parsed = int(key)
        except ValueError:
            raise ConversionError(f"{where}: the key is not an integer") from None
    elif token == "b":
        if key not in ("true", "false"):
            raise ConversionError(f"{where}: a boolean key must be 'true' or 'false'")
        parsed = key == "true"
    elif token == "d":
        try:
            parsed = float(key)
        except ValueError:
            raise ConversionError(f"{where}: the key is not a number") from None
    return to_dbus(type_, parsed, where)


def _mismatch(where: str, type_: SignatureType, value: JsonValue, expected: str) -> ConversionError:
    got = "null" if value is None else type(value).__name__
    return ConversionError(f"{where}: D-Bus type '{type_.signature}' needs {expected}, got {got}")


_Encoder = Callable[[SignatureType, JsonValue, str, int], object]
_ENCODERS: dict[str, _Encoder] = {
    **dict.fromkeys(_INT_RANGES, _int),
    "b": _bool,
    "d": _double,
    **dict.fromkeys("sog", _string),
    "v": _variant,
    "(": _struct,
    "a": _array,
}


@dataclass
class ReplyDecoder:
    """Turns values of a D-Bus reply into JSON, cutting long arrays, dicts and strings.

    ``truncated`` turns true when anything was cut.
    """

    max_items: int
    truncated: bool = False

    def decode(self, value: object) -> JsonValue:
        """The JSON form of one dbus-fast value (see the module docstring)."""
        if isinstance(value, bool | int | str) or value is None:
            return self._text(value) if isinstance(value, str) else value
        if isinstance(value, float):
            return value if math.isfinite(value) else str(value)  # JSON has no NaN or Infinity
        if isinstance(value, bytes):
            return base64.b64encode(self._cut(value, MAX_BYTES)).decode("ascii")
        if isinstance(value, Variant):
            return {"signature": value.signature, "value": self.decode(value.value)}
        if isinstance(value, dict):
            items = self._cut(list(value.items()), self.max_items)
            return {_key_text(key): self.decode(item) for key, item in items}
        if isinstance(value, list | tuple):
            return [self.decode(item) for item in self._cut(list(value), self.max_items)]
        raise TypeError(f"unexpected D-Bus value of type {type(value).__name__}")

    def _text(self, value: str) -> str:
        return self._cut(value, MAX_STRING_CHARS)

    def _cut(self, value: _Cuttable, limit: int) -> _Cuttable:
        if len(value) <= limit:
            return value
        self.truncated = True
        return value[:limit]


def _key_text(key: object) -> str:
    if isinstance(key, bool):
        return "true" if key else "false"
    return str(key)
