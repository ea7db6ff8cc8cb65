"""The edge of every request: peer check, request context, stopping, body size, last resort.

One pure-ASGI middleware, so it also wraps streaming responses:
- refuses peers that are not allowed (403, and a `control.auth` event);
- binds `request_id` and `peer_uid` into the event context, so every event a
  request causes carries them, and echoes `X-Request-ID`;
- answers 503 `stopping` to mutating requests once the daemon is stopping;
- caps request bodies (413) and reads every body as JSON (`curl -d` works);
- turns any exception that escaped the handlers into a 500 `internal_error`
  (logged with its traceback, never sent to the client).
"""

from __future__ import annotations

import logging
import re
import secrets

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sysward.control.errors import MAX_BODY_BYTES, BodyTooLarge, error_response
from sysward.control.peer import peer_of
from sysward.control.state import ControlState
from sysward.events.context import bound_context

READ_ONLY_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# POSTs that change nothing, still served while stopping.
READ_ONLY_POSTS = frozenset({"/v1/log/verify"})
_REQUEST_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$")

_log = logging.getLogger(__name__)


class ControlEdge:
    """The outermost middleware of the control API (see the module docstring)."""

    def __init__(self, app: ASGIApp, state: ControlState) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        peer = peer_of(scope)
        request_id = _request_id(scope)
        send = _with_header(send, b"x-request-id", request_id.encode())
        with bound_context(request_id=request_id, peer_uid=peer.uid if peer else None):
            if await self._refused(scope, receive, send):
                return
            await self._guarded(scope, receive, send)

    async def _refused(self, scope: Scope, receive: Receive, send: Send) -> bool:
        """Answer the request here when it must not reach a handler."""
        peer = peer_of(scope)
        runtime = self.state.runtime
        decision = await self.state.gate.decide(peer, runtime.settings.daemon.allowed_groups)
        method, path = scope["method"], scope["path"]
        if not decision.is_allowed:
            await self.state.audit.record_refusal(peer, decision, method, path)
            message = f"permission denied: {decision.reason}"
            await error_response(403, "forbidden", message)(scope, receive, send)
            return True
        is_mutating = method not in READ_ONLY_METHODS and path not in READ_ONLY_POSTS
        if runtime.is_stopping and is_mutating:
            message = "the daemon is stopping; retry once it is back"
            response = error_response(503, "stopping", message, headers={"Retry-After": "5"})
            await response(scope, receive, send)
            return True
        if _declared_length(scope) > MAX_BODY_BYTES:
            await _too_large(scope, receive, send)
            return True
        return False

    async def _guarded(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(_as_json_body(scope), _capped(receive), tracking_send)
        except BodyTooLarge:
            if not started:
                await _too_large(scope, receive, send)
        except Exception:
            _log.exception("control API: unhandled error in %s %s", scope["method"], scope["path"])
            if not started:
                message = "internal error; the daemon logged the details"
                await error_response(500, "internal_error", message)(scope, receive, send)


async def _too_large(scope: Scope, receive: Receive, send: Send) -> None:
    message = str(BodyTooLarge())
    await error_response(413, "body_too_large", message)(scope, receive, send)


def _request_id(scope: Scope) -> str:
    for name, value in scope["headers"]:
        if name == b"x-request-id":
            text = str(value.decode("latin-1"))
            if _REQUEST_ID.match(text):
                return text
    return f"req_{secrets.token_hex(10)}"


def _declared_length(scope: Scope) -> int:
    for name, value in scope["headers"]:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return 0
    return 0


def _as_json_body(scope: Scope) -> Scope:
    """Every body of this API is JSON: read it as JSON whatever Content-Type says.

    `curl -d` declares form encoding unless told otherwise; refusing that would
    make the API needlessly awkward to drive by hand from a shell.
    """
    headers = [(name, value) for name, value in scope["headers"] if name != b"content-type"]
    return {**scope, "headers": [*headers, (b"content-type", b"application/json")]}


def _capped(receive: Receive) -> Receive:
    received = 0

    async def capped() -> Message:
        nonlocal received
        message = await receive()
        if message["type"] == "http.request":
            received += len(message.get("body", b""))
            if received > MAX_BODY_BYTES:
                raise BodyTooLarge
        return message

    return capped


def _with_header(send: Send, name: bytes, value: bytes) -> Send:
    async def sending(message: Message) -> None:
        if message["type"] == "http.response.start":
            message = {**message, "headers": [*message.get("headers", []), (name, value)]}
        await send(message)

    return sending
