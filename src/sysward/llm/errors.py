"""Why a chat completion failed, sorted by what the caller should do about it.

Every message names the endpoint URL (never the API key) and what the server said.
"""

from __future__ import annotations

from sysward.errors import SyswardError


class LlmError(SyswardError):
    """The LLM endpoint did not produce a usable reply."""

    def __init__(self, message: str, *, url: str) -> None:
        super().__init__(message)
        self.url = url


class LlmCredentialError(LlmError):
    """The endpoint's API key cannot be read (env var unset, file missing or empty)."""


class LlmRejected(LlmError):
    """The server refused the request (a 4xx other than 408/429); retrying will not help."""

    def __init__(self, message: str, *, url: str, status: int, server_message: str) -> None:
        super().__init__(message, url=url)
        self.status = status
        self.server_message = server_message


class LlmUnavailable(LlmError):
    """Every attempt failed with a transient error (timeout, connection, 408/429/5xx)."""

    def __init__(
        self, message: str, *, url: str, attempts: int, last_status: int | None, cause: str
    ) -> None:
        super().__init__(message, url=url)
        self.attempts = attempts
        self.last_status = last_status
        self.cause = cause


class LlmProtocolError(LlmError):
    """The server answered 2xx with a body that is not a chat completion."""

    def __init__(self, message: str, *, url: str, status: int, snippet: str) -> None:
        super().__init__(message, url=url)
        self.status = status
        self.snippet = snippet
