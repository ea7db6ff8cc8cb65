"""Reading what the endpoint answered: the chat completion, or what its error says.

Everything quoted from a server passes through a Redactor first, so an API key a
proxy echoes back never reaches an exception message or a log line.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable

import httpx
from pydantic import JsonValue, ValidationError

from sysward.llm.errors import LlmProtocolError
from sysward.llm.jsontext import decode_json
from sysward.llm.wire import ChatCompletion

MAX_SNIPPET_CHARS = 200
REDACTED = "[REDACTED]"
_SCRIPT_OR_STYLE = re.compile(r"<(script|style)\b.*?</\1\s*>", re.DOTALL | re.IGNORECASE)
_TAG = re.compile(r"<[^>]*>")
_SPACE = re.compile(r"\s+")


class Redactor:
    """Replaces known secrets in text quoted from a server."""

    def __init__(self, secrets: Iterable[str]) -> None:
        self._secrets = tuple(secret for secret in secrets if secret)

    def __call__(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, REDACTED)
        return text

    def __repr__(self) -> str:
        return f"Redactor({len(self._secrets)} secret(s))"


def snippet(text: str, *, max_chars: int = MAX_SNIPPET_CHARS) -> str:
    """A short one-line excerpt of a body; HTML is reduced to its text."""
    if "<" in text and ">" in text:
        text = _TAG.sub(" ", _SCRIPT_OR_STYLE.sub(" ", text))
    text = _SPACE.sub(" ", text).strip()
    if len(text) > max_chars:
        text = text[: max_chars - 1] + "…"
    return text or "(empty body)"


def server_message(response: httpx.Response, redact: Redactor) -> str:
    """What a failing server says: the OpenAI `error.message`, a vendor variant, or text."""
    text = response.text
    try:
        body = decode_json(text)
    except ValueError:
        return snippet(redact(text))
    message = _error_message(body)
    return snippet(redact(message if message is not None else text))


def _error_message(body: JsonValue) -> str | None:
    """`{"error": {"message"}}` (OpenAI, vLLM), `{"error": "..."}` (Ollama, llama.cpp),
    `{"message"}` or `{"detail"}` (FastAPI-based servers)."""
    if not isinstance(body, dict):
        return None
    error = body.get("error")
    if isinstance(error, dict):
        error = error.get("message", error.get("msg"))
    for candidate in (error, body.get("message"), body.get("detail")):
        if isinstance(candidate, str) and candidate.strip():
            return candidate
        if candidate is not None and not isinstance(candidate, str):
            return json.dumps(candidate)
    return None


def read_completion(response: httpx.Response, *, url: str, redact: Redactor) -> ChatCompletion:
    """The chat completion in a 2xx response, or an LlmProtocolError saying what came instead."""
    status = response.status_code
    text = response.text
    try:
        body = decode_json(text)
    except ValueError:
        raise _protocol_error(url, status, "a body that is not JSON", text, redact) from None
    if isinstance(body, dict) and "choices" not in body:
        message = _error_message(body)
        if message is not None:
            reason = f"an error instead of a completion ({snippet(redact(message))})"
            raise _protocol_error(url, status, reason, text, redact)
    try:
        return ChatCompletion.model_validate(body)
    except ValidationError as exc:
        problem = _first_problem(exc)
        reason = f"JSON that is not a chat completion ({problem})"
        raise _protocol_error(url, status, reason, text, redact) from None


def _first_problem(exc: ValidationError) -> str:
    error = exc.errors()[0]
    where = ".".join(str(part) for part in error["loc"]) or "body"
    return f"{where}: {error['msg']}"


def _protocol_error(
    url: str, status: int, reason: str, text: str, redact: Redactor
) -> LlmProtocolError:
    excerpt = snippet(redact(text))
    message = f"LLM endpoint {url} answered HTTP {status} with {reason}: {excerpt}"
    return LlmProtocolError(message, url=url, status=status, snippet=excerpt)
