"""D-Bus error replies as ``ToolFailed``: a short code to branch on, the error name in details."""

from __future__ import annotations

from collections.abc import Mapping

from dbus_fast import Message

from sysward.tools.tool import ToolFailed

MAX_ERROR_TEXT_CHARS = 500
DEFAULT_CODE = "dbus_error"

_E = "org.freedesktop.DBus.Error."

# Error names of the bus daemon and of common peers, by what the caller should do next.
DBUS_ERROR_CODES: Mapping[str, str] = {
    **dict.fromkeys(
        (
            _E + "ServiceUnknown",
            _E + "NameHasNoOwner",
            _E + "UnknownMethod",
            _E + "UnknownObject",
            _E + "UnknownInterface",
            _E + "UnknownProperty",
            _E + "FileNotFound",
        ),
        "not_found",
    ),
    **dict.fromkeys(
        (
            _E + "AccessDenied",
            _E + "AuthFailed",
            _E + "InteractiveAuthorizationRequired",
            _E + "PropertyReadOnly",
        ),
        "permission_denied",
    ),
    **dict.fromkeys(
        (_E + "InvalidArgs", _E + "InvalidSignature", _E + "MatchRuleInvalid"), "invalid_input"
    ),
    **dict.fromkeys((_E + "NoReply", _E + "Timeout", _E + "TimedOut"), "timeout"),
    **dict.fromkeys(
        (_E + "NoServer", _E + "Disconnected", _E + "LimitsExceeded", _E + "NoMemory"),
        "unavailable",
    ),
}


def failure_from_reply(reply: Message, what: str, codes: Mapping[str, str]) -> ToolFailed:
    """The ``ToolFailed`` for an error reply to the call described by ``what``."""
    name = reply.error_name or "unknown"
    text = reply.body[0] if reply.signature.startswith("s") and reply.body else ""
    text = text if len(text) <= MAX_ERROR_TEXT_CHARS else text[:MAX_ERROR_TEXT_CHARS] + "…"
    return ToolFailed(
        codes.get(name, DEFAULT_CODE),
        f"{what} failed: {name}: {text}",
        {"dbus_error": name, "dbus_message": text},
    )
