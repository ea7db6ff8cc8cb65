"""What a host argument may be: an IP address or a DNS name, never something read as an option.

The net tool passes hosts to ``ping`` on its command line, so a value that
starts with ``-`` or holds spaces must never get that far. Accepted: an IPv4
address in dotted-quad form, an IPv6 address (optionally ``%zone``), or a name
of letters, digits, ``-`` and ``_`` in dot-separated labels. Internationalised
names are converted to their ASCII (punycode) form. Names whose last label is
all digits are refused: ``ping`` and ``inet_aton`` would read ``10.1`` or
``0x7f.1`` as an address, not as the name the caller meant.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Annotated, Literal

from pydantic import AfterValidator, Field

MAX_HOST_CHARS = 253  # the longest DNS name in text form (RFC 1035)

_LABEL = re.compile(r"^(?!-)[A-Za-z0-9_-]{1,63}(?<!-)$")
_ZONE = re.compile(r"^[A-Za-z0-9_.-]{1,15}$")  # an interface name or index

Family = Literal["any", "ipv4", "ipv6"]


def ip_version(host: str) -> Literal[4, 6] | None:
    """4 or 6 when ``host`` is an IP address literal, else None."""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return None
    return 6 if isinstance(address, ipaddress.IPv6Address) else 4


def checked_host(value: str) -> str:
    """``value`` as a safe host string (punycode for IDN), or ValueError saying why not."""
    if not value:
        raise ValueError("host is empty")
    if value.startswith("-"):
        raise ValueError("host must not start with '-'")
    if value != value.strip() or any(char.isspace() for char in value):
        raise ValueError("host must not contain spaces")
    if ip_version(value) is not None:
        _check_zone(value)
        return value
    return _checked_name(value)


def _check_zone(address: str) -> None:
    _, has_zone, zone = address.partition("%")
    if has_zone and not _ZONE.match(zone):
        raise ValueError("an IPv6 zone must be an interface name, e.g. fe80::1%eth0")


def _checked_name(value: str) -> str:
    name = _ascii_name(value)
    if len(name) > MAX_HOST_CHARS:
        raise ValueError(f"host name is longer than {MAX_HOST_CHARS} characters")
    labels = name.removesuffix(".").split(".")
    if not all(_LABEL.match(label) for label in labels):
        raise ValueError(
            "host must be an IP address or a name of letters, digits, '-' and '_' "
            "in dot-separated labels of 1-63 characters"
        )
    if labels[-1].isdigit():
        raise ValueError("not a valid IP address, and a host name cannot end in a numeric label")
    return name


def _ascii_name(value: str) -> str:
    if value.isascii():
        return value
    try:
        return value.encode("idna").decode("ascii")
    except UnicodeError as exc:
        raise ValueError("host is not a valid internationalised domain name") from exc


Host = Annotated[
    str,
    Field(min_length=1, max_length=MAX_HOST_CHARS),
    AfterValidator(checked_host),
]
