"""The dbus tool (``DbusTool``) and the bus connections it shares with the systemd tool."""

from sysward.tools.dbus.actions import DbusTool
from sysward.tools.dbus.connection import BusAddresses, BusConnections, BusKind

__all__ = ["BusAddresses", "BusConnections", "BusKind", "DbusTool"]
