"""D-Bus bus names, object paths, interface and member names and signatures as checked types.

Each is a ``str`` that pydantic validates with dbus-fast's own validators, so
a bad name is an ``invalid_args`` result before anything is sent on a bus.
"""

from __future__ import annotations

from typing import Annotated

from dbus_fast import (
    InvalidSignatureError,
    is_bus_name_valid,
    is_interface_name_valid,
    is_member_name_valid,
    is_object_path_valid,
)
from dbus_fast.signature import SignatureTree, get_signature_tree
from pydantic import AfterValidator, Field

MAX_NAME_CHARS = 255  # the D-Bus limit for bus, interface and member names and signatures
MAX_PATH_CHARS = 1024


def _bus_name(value: str) -> str:
    # Valid D-Bus names may not start with '-' anyway; say so plainly for option-like input.
    if value.startswith("-") or not is_bus_name_valid(value):
        raise ValueError(
            "not a D-Bus bus name: dot-separated elements of [A-Za-z0-9_-], not starting "
            "with a digit or '-', e.g. org.freedesktop.systemd1, or a unique name like :1.42"
        )
    return value


def _object_path(value: str) -> str:
    if not is_object_path_valid(value):
        raise ValueError(
            "not a D-Bus object path: '/' or '/'-separated elements of [A-Za-z0-9_], "
            "no trailing '/', e.g. /org/freedesktop/systemd1"
        )
    return value


def _interface_name(value: str) -> str:
    if not is_interface_name_valid(value):
        raise ValueError(
            "not a D-Bus interface name: at least two dot-separated elements of "
            "[A-Za-z0-9_], e.g. org.freedesktop.DBus.Properties"
        )
    return value


def _member_name(value: str) -> str:
    if not is_member_name_valid(value):
        raise ValueError("not a D-Bus member name: [A-Za-z0-9_], not starting with a digit")
    return value


def parse_signature(value: str) -> SignatureTree:
    """The parsed signature; ``ValueError`` with the parser's reason when it is invalid."""
    try:
        tree = get_signature_tree(value)
    except InvalidSignatureError as exc:
        raise ValueError(f"not a valid D-Bus signature: {exc}") from exc
    if "h" in value:
        raise ValueError("unix file descriptors (type 'h') cannot be passed through this tool")
    return tree


def _signature(value: str) -> str:
    parse_signature(value)
    return value


def _single_type(value: str) -> str:
    if len(parse_signature(value).types) != 1:
        raise ValueError("must be a single complete type, e.g. 's', 'as' or 'a{sv}'")
    return value


BusName = Annotated[str, Field(min_length=1, max_length=MAX_NAME_CHARS), AfterValidator(_bus_name)]
ObjectPath = Annotated[
    str, Field(min_length=1, max_length=MAX_PATH_CHARS), AfterValidator(_object_path)
]
InterfaceName = Annotated[
    str, Field(min_length=1, max_length=MAX_NAME_CHARS), AfterValidator(_interface_name)
]
MemberName = Annotated[
    str, Field(min_length=1, max_length=MAX_NAME_CHARS), AfterValidator(_member_name)
]
Signature = Annotated[str, Field(max_length=MAX_NAME_CHARS), AfterValidator(_signature)]
SingleTypeSignature = Annotated[
    str, Field(min_length=1, max_length=MAX_NAME_CHARS), AfterValidator(_single_type)
]
