"""Byte encodings the crypto tool reads and writes: utf8 text, base16, base64, base64url, base58.

Decoding is strict (no whitespace, no foreign alphabet) so a typo surfaces as
an ``invalid_input`` failure instead of silently different bytes. base64 and
base64url accept missing padding, which JWTs and URLs routinely drop; output
is always padded (RFC 4648).
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Literal

import base58

from sysward.tools.tool import ToolFailed

BinaryEncoding = Literal["base16", "base64", "base64url", "base58"]
DataEncoding = Literal["utf8", "base16", "base64", "base64url", "base58"]

# base58 is a big-integer conversion, quadratic in the length (16 KiB takes
# 0.2 s, 48 KiB 2 s): it is for keys and addresses, so it is kept short.
MAX_BASE58_BYTES = 4096
MAX_BASE58_CHARS = 5600  # ceil(4096 * log(256) / log(58)) rounded up

_BASE64 = re.compile(r"^[A-Za-z0-9+/]*={0,2}$")
_BASE64URL = re.compile(r"^[A-Za-z0-9_-]*={0,2}$")
_BASE58 = re.compile(r"^[1-9A-HJ-NP-Za-km-z]*$")


def encode_bytes(data: bytes, encoding: BinaryEncoding) -> str:
    """``data`` as text in ``encoding``."""
    if encoding == "base16":
        return data.hex()
    if encoding == "base64":
        return base64.b64encode(data).decode("ascii")
    if encoding == "base64url":
        return base64.urlsafe_b64encode(data).decode("ascii")
    if len(data) > MAX_BASE58_BYTES:
        raise ToolFailed(
            "input_too_large",
            f"base58 is for short values such as keys (at most {MAX_BASE58_BYTES} bytes), "
            f"got {len(data)} bytes; use base64 for bulk data",
        )
    return base58.b58encode(data).decode("ascii")


def decode_text(text: str, encoding: BinaryEncoding, what: str = "data") -> bytes:
    """The bytes ``text`` encodes; ``what`` names the argument in the error message."""
    try:
        return _decode(text, encoding)
    except (binascii.Error, ValueError) as exc:
        raise ToolFailed(
            "invalid_input",
            f"{what} is not valid {encoding}: {exc}; check the value or the declared encoding",
            {"argument": what, "encoding": encoding},
        ) from exc


def _decode(text: str, encoding: BinaryEncoding) -> bytes:
    if encoding == "base16":
        return base64.b16decode(text, casefold=True)
    if encoding in ("base64", "base64url"):
        alphabet, altchars = (_BASE64, None) if encoding == "base64" else (_BASE64URL, b"-_")
        if not alphabet.match(text):
            raise ValueError("characters outside its alphabet")
        padded = text.rstrip("=") + "=" * (-len(text.rstrip("=")) % 4)
        return base64.b64decode(padded, altchars=altchars, validate=True)
    if len(text) > MAX_BASE58_CHARS:
        raise ToolFailed(
            "input_too_large",
            f"base58 input is limited to {MAX_BASE58_CHARS} characters, got {len(text)}; "
            "use base64 for bulk data",
        )
    if not _BASE58.match(text):
        raise ValueError("characters outside its alphabet")
    return base58.b58decode(text)


def data_bytes(text: str, encoding: DataEncoding, what: str = "data") -> bytes:
    """The bytes an argument stands for: UTF-8 of the text, or its decoding."""
    if encoding == "utf8":
        return text.encode("utf-8")
    return decode_text(text, encoding, what)


def data_text(data: bytes, encoding: DataEncoding, what: str = "data") -> str:
    """``data`` as text: strict UTF-8, or encoded."""
    if encoding != "utf8":
        return encode_bytes(data, encoding)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ToolFailed(
            "invalid_input",
            f"{what} is not valid UTF-8 text (byte {exc.start}); ask for base16 or base64",
            {"argument": what},
        ) from exc
