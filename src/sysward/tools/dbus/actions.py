"""The dbus tool: list bus names, introspect objects, call methods, read properties."""

from __future__ import annotations

import asyncio

from dbus_fast import Message, Variant
from pydantic import JsonValue

from sysward.tools.dbus.connection import DEFAULT_CONNECT_TIMEOUT_S, BusAddresses, BusConnections
from sysward.tools.dbus.introspection import children_of, interfaces_of, parse_node
from sysward.tools.dbus.models import (
    BusNameInfo,
    BusNames,
    CallArgs,
    CallResult,
    GetPropertyArgs,
    IntrospectArgs,
    Introspection,
    ListArgs,
    PropertyValue,
    encode_args,
)
from sysward.tools.dbus.values import ReplyDecoder
from sysward.tools.tool import Effect, Tool, ToolFailed, action

BUS_DAEMON = ("org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus")
READ_TIMEOUT_S = 10.0


class DbusTool(Tool):
    """Inspect and call D-Bus services on the system bus or the daemon user's session bus.

    Values are JSON, shaped by D-Bus signatures: ay as base64, a{..} as objects,
    structs as arrays, variants as {"signature": ..., "value": ...}.
    """

    name = "dbus"

    def __init__(
        self,
        addresses: BusAddresses | None = None,
        *,
        connect_timeout_s: float = DEFAULT_CONNECT_TIMEOUT_S,
    ) -> None:
        self.connections = BusConnections(
            addresses or BusAddresses.from_environment(), connect_timeout_s=connect_timeout_s
        )

    async def aclose(self) -> None:
        """Close the bus connections."""
        await self.connections.aclose()

    @action(effect=Effect.READ)
    async def list(self, args: ListArgs) -> BusNames:
        """Names on the bus: services running now (active) and startable on demand (activatable)."""
        active = await self._names(args, "ListNames")
        activatable = await self._names(args, "ListActivatableNames")
        matching = sorted(
            name
            for name in active | activatable
            if name.startswith(args.prefix) and (args.include_unique or not name.startswith(":"))
        )
        return BusNames(
            bus=args.bus,
            names=[
                BusNameInfo(name=name, is_active=name in active, is_activatable=name in activatable)
                for name in matching[: args.limit]
            ],
            total=len(matching),
            truncated=len(matching) > args.limit,
        )

    @action(effect=Effect.READ)
    async def introspect(self, args: IntrospectArgs) -> Introspection:
        """An object's interfaces (methods with signatures, signals, properties) and children."""
        message = Message(
            destination=args.service,
            path=args.path,
            interface="org.freedesktop.DBus.Introspectable",
            member="Introspect",
        )
        reply = await self.connections.call(
            args.bus, message, is_idempotent=True, timeout_s=READ_TIMEOUT_S
        )
        xml = _single(reply, "s", "Introspect")
        node = await asyncio.to_thread(parse_node, str(xml))
        interfaces = interfaces_of(
            node, interface=args.interface, include_standard=args.include_standard
        )
        if args.interface is not None and not interfaces:
            raise ToolFailed(
                "not_found",
                f"{args.service} {args.path} has no interface {args.interface}; "
                "introspect without `interface` to see its interfaces",
                {"interfaces": list[JsonValue](item.name for item in node.interfaces[:100])},
            )
        children = children_of(node)
        return Introspection(
            service=args.service,
            path=args.path,
            interfaces=interfaces,
            children=children[: args.limit],
            truncated=len(children) > args.limit,
        )

    @action(effect=Effect.WRITE)
    async def call(self, args: CallArgs) -> CallResult:
        """Call a method with args converted by `signature`; returns the reply values as JSON."""
        message = Message(
            destination=args.service,
            path=args.path,
            interface=args.interface,
            member=args.method,
            signature=args.signature,
            body=encode_args(args.signature, args.args),
        )
        reply = await self.connections.call(
            args.bus, message, is_idempotent=False, timeout_s=args.timeout_s
        )
        decoder = ReplyDecoder(max_items=args.max_items)
        values = [decoder.decode(value) for value in reply.body]
        return CallResult(signature=reply.signature, values=values, truncated=decoder.truncated)

    @action(effect=Effect.READ)
    async def get_property(self, args: GetPropertyArgs) -> PropertyValue:
        """Read one property (org.freedesktop.DBus.Properties.Get) as JSON with its signature."""
        message = Message(
            destination=args.service,
            path=args.path,
            interface="org.freedesktop.DBus.Properties",
            member="Get",
            signature="ss",
            body=[args.interface, args.property],
        )
        reply = await self.connections.call(
            args.bus, message, is_idempotent=True, timeout_s=args.timeout_s
        )
        variant = _single(reply, "v", "Get")
        assert isinstance(variant, Variant)  # dbus-fast decodes type 'v' as Variant
        decoder = ReplyDecoder(max_items=args.max_items)
        return PropertyValue(
            interface=args.interface,
            property=args.property,
            signature=variant.signature,
            value=decoder.decode(variant.value),
            truncated=decoder.truncated,
        )

    async def _names(self, args: ListArgs, method: str) -> set[str]:
        destination, path, interface = BUS_DAEMON
        message = Message(destination=destination, path=path, interface=interface, member=method)
        reply = await self.connections.call(
            args.bus, message, is_idempotent=True, timeout_s=READ_TIMEOUT_S
        )
        names = _single(reply, "as", method)
        assert isinstance(names, list)  # dbus-fast decodes type 'as' as list[str]
        return set(names)


def _single(reply: Message, signature: str, method: str) -> object:
    """The one value of a reply that must have ``signature``."""
    if reply.signature != signature:
        raise ToolFailed(
            "bad_reply",
            f"{method} replied with signature {reply.signature!r}, expected {signature!r}",
        )
    value: object = reply.body[0]
    return value
