"""Introspection XML of a D-Bus object as plain data: interfaces, their members, child nodes."""

from __future__ import annotations

from xml.etree.ElementTree import ParseError

from dbus_fast import DBusFastError
from dbus_fast import introspection as intr
from pydantic import BaseModel, ConfigDict

from sysward.tools.tool import ToolFailed

# Interfaces every object has; listed only on request, they are noise otherwise.
STANDARD_INTERFACES = frozenset(
    {
        "org.freedesktop.DBus.Introspectable",
        "org.freedesktop.DBus.Peer",
        "org.freedesktop.DBus.Properties",
    }
)


class ArgInfo(BaseModel):
    """One argument of a method or signal."""

    model_config = ConfigDict(frozen=True)

    name: str | None
    signature: str


class MethodInfo(BaseModel):
    """A method: call it with ``in_signature`` and args; it replies with ``out_signature``."""

    model_config = ConfigDict(frozen=True)

    name: str
    in_signature: str
    out_signature: str
    in_args: list[ArgInfo]
    out_args: list[ArgInfo]


class SignalInfo(BaseModel):
    """A signal the object emits."""

    model_config = ConfigDict(frozen=True)

    name: str
    signature: str
    args: list[ArgInfo]


class PropertyInfo(BaseModel):
    """A property; ``access`` is read, write or readwrite."""

    model_config = ConfigDict(frozen=True)

    name: str
    signature: str
    access: str


class InterfaceInfo(BaseModel):
    """One interface of the object."""

    model_config = ConfigDict(frozen=True)

    name: str
    methods: list[MethodInfo]
    signals: list[SignalInfo]
    properties: list[PropertyInfo]


def parse_node(xml: str) -> intr.Node:
    """The parsed introspection XML; a peer's malformed XML is ``ToolFailed("bad_reply")``."""
    try:
        # Lenient on property names: real services (NetworkManager, ...) break the rules.
        return intr.Node.parse(xml, validate_property_names=False)
    except (ParseError, DBusFastError, ValueError) as exc:
        raise ToolFailed(
            "bad_reply",
            f"the object's introspection data is not valid XML or D-Bus introspection: {exc}",
        ) from exc


def interfaces_of(
    node: intr.Node, *, interface: str | None, include_standard: bool
) -> list[InterfaceInfo]:
    """The node's interfaces, optionally only ``interface``, standard ones on request."""
    return [
        _interface_info(item)
        for item in node.interfaces
        if (interface is None or item.name == interface)
        and (include_standard or interface == item.name or item.name not in STANDARD_INTERFACES)
    ]


def children_of(node: intr.Node) -> list[str]:
    """Names of the child nodes (relative path elements), sorted."""
    return sorted(child.name for child in node.nodes if child.name)


def _interface_info(interface: intr.Interface) -> InterfaceInfo:
    return InterfaceInfo(
        name=interface.name,
        methods=[
            MethodInfo(
                name=method.name,
                in_signature=method.in_signature,
                out_signature=method.out_signature,
                in_args=[_arg(arg) for arg in method.in_args],
                out_args=[_arg(arg) for arg in method.out_args],
            )
            for method in interface.methods
        ],
        signals=[
            SignalInfo(
                name=signal.name,
                signature=signal.signature,
                args=[_arg(arg) for arg in signal.args],
            )
            for signal in interface.signals
        ],
        properties=[
            PropertyInfo(name=prop.name, signature=prop.signature, access=prop.access.value)
            for prop in interface.properties
        ],
    )


def _arg(arg: intr.Arg) -> ArgInfo:
    return ArgInfo(name=arg.name, signature=arg.signature)
