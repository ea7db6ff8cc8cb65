"""What a secret looks like: the patterns of secrets known by shape, and the entropy test.

Each family of shapes has its own regex behind a cheap test (a substring, a
run of token characters), because CPython's `re` tries every branch of one big
alternation at every position: that cost ~740 us per KB. Every pattern but
the private-key block stays within one line.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterator
from enum import StrEnum
from typing import NamedTuple


class SecretKind(StrEnum):
    """Why a span was redacted; shown in its marker, `[REDACTED:<kind>]`."""

    ENV = "env"
    API_KEY = "api_key"
    PRIVATE_KEY = "private_key"
    BEARER = "bearer"
    PASSWORD = "password"
    TOKEN = "token"


MARKER_PREFIX = "[REDACTED:"


def marker(kind: SecretKind) -> str:
    return f"{MARKER_PREFIX}{kind.value}]"


class Found(NamedTuple):
    """A secret's span in a text (only the secret: a key or scheme before it stays)."""

    start: int
    end: int
    kind: SecretKind


# A line break, raw or JSON-escaped: a PEM block inside a JSON string is one line.
_BREAK = r"(?:\r?\n|\\r\\n|\\n)"
_PEM_LABEL = r"[A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?"
# The block runs to its END line; without one (truncated output) it runs over
# every following line that could be key body or header, so a cut-off key is
# still hidden whole. A final line break is left alone: what follows it decides.
PRIVATE_KEY = re.compile(
    rf"-----BEGIN {_PEM_LABEL}-----"
    rf"(?:{_BREAK}(?!-----|\Z)[A-Za-z0-9+/=:,. \t-]*)*"
    rf"(?:{_BREAK}-----END {_PEM_LABEL}-----)?"
)

# The keyword ends the key ("DB_PASSWORD", "api_key", "x-auth-token"), so
# "max_tokens: 5" or "token_type: bearer" are not assignments of a secret.
_SECRET_NAME = (
    r"(?:password|passwd|passphrase|secret|token|api[_-]?key|apikey"
    r"|access[_-]?key|private[_-]?key)"
)
_ASSIGNMENT = re.compile(
    rf"(?ai:{_SECRET_NAME})(?:\\?[\"'])?[ \t]*(?::=|=|:)[ \t]*"
    r"(?!\[REDACTED:)(?!-----BEGIN)"
    # A quote may come escaped (\" in JSON or shell text): the value is what is inside.
    r"(?:\\?\"(?P<dq>(?:[^\"\\\n]|\\[^\"\n])+)\\?\""
    r"|\\?'(?P<sq>(?:[^'\\\n]|\\[^'\n])+)\\?'"
    r"|(?P<bare>[^\s\\\"',;&]+))"
)
# https://user:pass@host: only the password goes.
_USERINFO = re.compile(r"://[^\s/@:\[\]]+:(?P<pw>[^\s/@\[\]]+)@")
# A bearer token has a digit or a symbol in it, so prose ("bearer credentials") is kept.
_BEARER = re.compile(
    r"(?ai:\bbearer)[ \t]+"
    r"(?P<token>(?=[A-Za-z]*(?:[0-9_~+/-]|\.[A-Za-z0-9]))[A-Za-z0-9._~+/-]{8,}=*)"
)
# Every known token and every generic candidate lies in a run of at least
# _MIN_RUN of these characters. Runs are found on a byte copy where each
# character became "a" (in a run) or " ": bytes.find is C speed, re is not.
_RUN_CHARS = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/_.=-"
_RUN_TABLE = bytes(ord("a") if byte in _RUN_CHARS else ord(" ") for byte in range(256))
_MIN_RUN = 13
_RUN_START = b"a" * _MIN_RUN
_GENERIC_MIN = 24
_KNOWN_TOKEN = re.compile(
    r"(?<![A-Za-z0-9_-])"
    r"(?:sk-[A-Za-z0-9_-]{20,}"
    r"|[rs]k_(?:live|test)_[A-Za-z0-9]{16,}"
    r"|gh[pousr]_[A-Za-z0-9]{30,}"
    r"|github_pat_[A-Za-z0-9_]{40,}"
    r"|glpat-[A-Za-z0-9_-]{20,}"
    r"|xox[abposr]-[A-Za-z0-9-]{10,}"
    r"|(?:AKIA|ASIA)[0-9A-Z]{16}"
    r"|AIza[0-9A-Za-z_-]{35}"
    r"|eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,})"
)
# AWS's secret access key has no shape of its own (40 base64 characters, and
# the documented example is not random-looking); it is found by its name in an
# assignment, or as the 40-character field on the line of an access key id
# (the credentials CSV the console hands out: "name,AKIA…,secret").
_AWS_SECRET_BY_ID = re.compile(
    r"(?:AKIA|ASIA)[0-9A-Z]{16}[^\n]{0,200}?"
    r"(?<![A-Za-z0-9/+=])(?P<secret>[A-Za-z0-9/+]{40})(?![A-Za-z0-9/+=])"
)
# Starts with a letter or digit after a non-token character: a path ("/usr/…")
# never yields a candidate from its middle.
_GENERIC = re.compile(r"(?<![A-Za-z0-9+/_=.-])[A-Za-z0-9][A-Za-z0-9+/_-]{23,}=*")
SECRET_NAME = re.compile(rf"(?ai){_SECRET_NAME}$")


def find_secrets(text: str, *, guess_random: bool = True) -> list[Found]:
    """The secrets in `text` by shape, in order, not overlapping.

    `guess_random=False` leaves out the entropy guess (for values that are
    public by name). A private-key block wins over anything overlapping it;
    otherwise the leftmost match wins.
    """
    lower = text.lower()
    found: list[Found] = []
    if "-----begin" in lower:
        found += (Found(*m.span(), SecretKind.PRIVATE_KEY) for m in PRIVATE_KEY.finditer(text))
    # `or` chains, not any(...): this runs on every string of every event.
    if (
        "pass" in lower
        or "secret" in lower
        or "token" in lower
        or "key" in lower
        or "bearer" in lower
    ):
        found += _groups(_BEARER, text, ("token",), SecretKind.BEARER)
        found += _groups(_ASSIGNMENT, text, ("dq", "sq", "bare"), SecretKind.PASSWORD)
    if "://" in text:
        found += _groups(_USERINFO, text, ("pw",), SecretKind.PASSWORD)
    if "AKIA" in text or "ASIA" in text:
        found += _groups(_AWS_SECRET_BY_ID, text, ("secret",), SecretKind.TOKEN)
    for start, end in _runs(text):
        found += _tokens(text, start, end, guess_random=guess_random)
    return _without_overlaps(found)


def _runs(text: str) -> Iterator[tuple[int, int]]:
    # latin-1 with "replace" keeps one byte per character, so positions match.
    marked = text.encode("latin-1", "replace").translate(_RUN_TABLE)
    start = marked.find(_RUN_START)
    while start >= 0:
        end = marked.find(b" ", start)
        end = len(marked) if end < 0 else end
        yield start, end
        start = marked.find(_RUN_START, end)


def _groups(
    pattern: re.Pattern[str], text: str, names: tuple[str, ...], kind: SecretKind
) -> list[Found]:
    spans = []
    for match in pattern.finditer(text):
        name = next(name for name in names if match.group(name) is not None)
        spans.append(Found(*match.span(name), kind))
    return spans


def _tokens(text: str, start: int, end: int, *, guess_random: bool) -> list[Found]:
    run = text[start:end]
    spans: list[Found] = []
    if _has_known_prefix(run):
        spans += (
            Found(*m.span(), SecretKind.TOKEN) for m in _KNOWN_TOKEN.finditer(text, start, end)
        )
    # A random candidate mixes cases and digits, so its run does too.
    if guess_random and end - start >= _GENERIC_MIN and run.lower() != run != run.upper():
        spans += (
            Found(*m.span(), SecretKind.TOKEN)
            for m in _GENERIC.finditer(text, start, end)
            if is_random_token(m.group())
        )
    return spans


def _has_known_prefix(run: str) -> bool:
    """Whether `run` may hold a token of _KNOWN_TOKEN (a necessary test, not a sufficient one)."""
    return (
        "sk-" in run
        or "k_live_" in run
        or "k_test_" in run
        or "gh" in run
        or "github_pat_" in run
        or "glpat-" in run
        or "xox" in run
        or "AKIA" in run
        or "ASIA" in run
        or "AIza" in run
        or "eyJ" in run
    )


def _without_overlaps(found: list[Found]) -> list[Found]:
    if len(found) < 2:
        return found
    ordered = sorted(found, key=lambda f: (f.kind is not SecretKind.PRIVATE_KEY, f.start))
    kept: list[Found] = []
    for candidate in ordered:
        if all(candidate.end <= k.start or candidate.start >= k.end for k in kept):
            kept.append(candidate)
    return sorted(kept)


_HEXISH = re.compile(r"[0-9a-fA-F-]+")
# Ids that services mint: their random tail is not a secret, and redacting it
# would break the link between a tool call and its result.
_ID_PREFIXES = ("call_", "toolu_", "chatcmpl-", "req_", "trace_", "msg_", "run_")
_TAG = re.compile(r"^[a-z]{1,12}[_-]")
_WORD = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|[0-9]+")
# Measured on 120,000 runs of 24+ token characters from /usr, /etc and our
# source: with these two thresholds identifiers (CamelCase, snake_case, paths)
# are kept, and about 9 in 10 random base64/base62 strings of 24-64 chars are
# caught (the rest have too few digits or too regular a mix to tell apart).
_ENTROPY_PER_LOG2_LENGTH = 0.8
_MIN_WORDS_PER_CHAR = 0.42


def is_random_token(candidate: str) -> bool:
    """True for a long string that looks random (base64/base62), not for hashes, UUIDs or words."""
    if _HEXISH.fullmatch(candidate) or candidate.startswith(_ID_PREFIXES):
        return False
    # "t_01JBC8…", "ap_01JBC8…": a lowercase tag before an uppercase id is no mix of cases.
    candidate = _TAG.sub("", candidate, count=1)
    if not (_has_lower(candidate) and _has_upper(candidate) and _has_digit(candidate)):
        return False
    if _shannon_entropy(candidate) < _ENTROPY_PER_LOG2_LENGTH * math.log2(len(candidate)):
        return False
    # Random text breaks into many short "words"; identifiers into few long ones.
    alnum = sum(char.isalnum() for char in candidate)
    return len(_WORD.findall(candidate)) >= _MIN_WORDS_PER_CHAR * alnum


def _has_lower(text: str) -> bool:
    return any("a" <= char <= "z" for char in text)


def _has_upper(text: str) -> bool:
    return any("A" <= char <= "Z" for char in text)


def _has_digit(text: str) -> bool:
    return any("0" <= char <= "9" for char in text)


def _shannon_entropy(text: str) -> float:
    length = len(text)
    return -sum(n / length * math.log2(n / length) for n in Counter(text).values())
