"""Arguments and results of the dbus tool's actions, with their bounds."""

from __future__ import annotations

import json

from pydantic import BaseModel, ConfigDict, Field, JsonValue, model_validator

from sysward.tools.dbus.connection import BusKind
from sysward.tools.dbus.introspection import InterfaceInfo
from sysward.tools.dbus.names import (
    MAX_NAME_CHARS,
    BusName,
    InterfaceName,
    MemberName,
    ObjectPath,
    Signature,
    parse_signature,
)
from sysward.tools.dbus.values import to_dbus
from sysward.tools.tool import ToolArgs

MAX_ARGS = 64
MAX_ARGS_JSON_BYTES = 256 * 1024

BUS = "Which bus: system (services of the host) or user (the daemon user's session bus)"
SERVICE = "Bus name of the peer, e.g. org.freedesktop.systemd1 (see dbus.list)"
PATH = "Object path, e.g. /org/freedesktop/systemd1 (see dbus.introspect for child nodes)"
MAX_ITEMS = "Arrays and dicts in the result are cut to this many items (truncated is then true)"
TIMEOUT = "Seconds to wait for the reply"


class ListArgs(ToolArgs):
    """Which bus names to list."""

    bus: BusKind = Field("system", description=BUS)
    prefix: str = Field(
        "",
        max_length=MAX_NAME_CHARS,
        pattern=r"^[A-Za-z0-9_.:]*$",
        description="Only names starting with this, e.g. org.freedesktop. (empty: all)",
    )
    include_unique: bool = Field(
        False, description="Also list unique connection names such as :1.42"
    )
    limit: int = Field(200, ge=1, le=1000, description="At most this many names")


class BusNameInfo(BaseModel):
    """A name on the bus: owned now (active), startable on demand (activatable), or both."""

    model_config = ConfigDict(frozen=True)

    name: str
    is_active: bool
    is_activatable: bool


class BusNames(BaseModel):
    """Names on a bus, sorted; ``total`` counts all that matched before the limit."""

    model_config = ConfigDict(frozen=True)

    bus: BusKind
    names: list[BusNameInfo]
    total: int
    truncated: bool


class IntrospectArgs(ToolArgs):
    """The object to describe."""

    bus: BusKind = Field("system", description=BUS)
    service: BusName = Field(description=SERVICE)
    path: ObjectPath = Field("/", description=PATH)
    interface: InterfaceName | None = Field(
        None, description="Describe only this interface (default: all of the object's)"
    )
    include_standard: bool = Field(
        False,
        description="Also describe org.freedesktop.DBus.Introspectable, Peer and Properties",
    )
    limit: int = Field(200, ge=1, le=1000, description="At most this many child nodes")


class Introspection(BaseModel):
    """What an object offers, and the names of its child nodes (append them to the path)."""

    model_config = ConfigDict(frozen=True)

    service: str
    path: str
    interfaces: list[InterfaceInfo]
    children: list[str]
    truncated: bool


class CallArgs(ToolArgs):
    """A method call: where, what, and the arguments with their D-Bus signature."""

    bus: BusKind = Field("system", description=BUS)
    service: BusName = Field(description=SERVICE)
    path: ObjectPath = Field(description=PATH)
    interface: InterfaceName = Field(description="Interface of the method (see dbus.introspect)")
    method: MemberName = Field(description="Method name, e.g. GetUnit")
    signature: Signature = Field(
        "",
        description="D-Bus signature of args, the method's in_signature, e.g. 'ss' or 'a{sv}'",
    )
    args: list[JsonValue] = Field(
        default_factory=list,
        max_length=MAX_ARGS,
        description=(
            "One JSON value per signature type: integers, booleans, strings; ay as a base64 "
            'string; arrays/structs as arrays; a{..} as objects; v as {"signature": "s", '
            '"value": ...}'
        ),
    )
    timeout_s: float = Field(30, gt=0, le=300, description=TIMEOUT)
    max_items: int = Field(100, ge=1, le=1000, description=MAX_ITEMS)

    @model_validator(mode="after")
    def _args_fit_signature(self) -> CallArgs:
        if len(json.dumps(self.args)) > MAX_ARGS_JSON_BYTES:
            raise ValueError(f"args are over {MAX_ARGS_JSON_BYTES} bytes of JSON")
        encode_args(self.signature, self.args)
        return self


def encode_args(signature: str, args: list[JsonValue]) -> list[object]:
    """The message body for ``args``; ``ValueError`` says which arg does not fit and why."""
    types = parse_signature(signature).types
    if len(types) != len(args):
        raise ValueError(
            f"signature {signature!r} has {len(types)} type(s) but {len(args)} arg(s) were given"
        )
    # ConversionError is a ValueError: in a validator it becomes an invalid_args result.
    return [
        to_dbus(type_, arg, f"args[{index}]")
        for index, (type_, arg) in enumerate(zip(types, args, strict=True))
    ]


class CallResult(BaseModel):
    """The reply: one JSON value per type of ``signature`` (same JSON forms as args)."""

    model_config = ConfigDict(frozen=True)

    signature: str
    values: list[JsonValue]
    truncated: bool


class GetPropertyArgs(ToolArgs):
    """The property to read."""

    bus: BusKind = Field("system", description=BUS)
    service: BusName = Field(description=SERVICE)
    path: ObjectPath = Field(description=PATH)
    interface: InterfaceName = Field(description="Interface that has the property")
    property: MemberName = Field(description="Property name, e.g. ActiveState")
    timeout_s: float = Field(10, gt=0, le=300, description=TIMEOUT)
    max_items: int = Field(100, ge=1, le=1000, description=MAX_ITEMS)


class PropertyValue(BaseModel):
    """A property's value in JSON form (see dbus.call) and its D-Bus signature."""

    model_config = ConfigDict(frozen=True)

    interface: str
    property: str
    signature: str
    value: JsonValue
    truncated: bool
