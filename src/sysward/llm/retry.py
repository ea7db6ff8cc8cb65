"""When and how long to retry a chat completion request.

Transient failures (connection errors, timeouts, 408/429/5xx) are retried with
exponential backoff and jitter, or after the server's `Retry-After`, up to
`max_retries` times; any other non-2xx status fails at once with the server's
message. Each attempt is bounded by the endpoint's timeout.
"""

from __future__ import annotations

import asyncio
import logging
import math
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC
from email.utils import parsedate_to_datetime

import httpx

from sysward.llm.errors import LlmRejected, LlmUnavailable
from sysward.llm.responses import Redactor, server_message

log = logging.getLogger(__name__)

Sleep = Callable[[float], Awaitable[object]]
Random = Callable[[], float]
Send = Callable[[], Awaitable[httpx.Response]]

RETRYABLE_STATUSES = frozenset({408, 429})
TRANSIENT_ERRORS = (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError)


@dataclass(frozen=True)
class RetryPolicy:
    """How many times to retry and how long to wait between attempts."""

    max_retries: int
    base_delay_s: float = 0.5
    max_delay_s: float = 20.0
    max_retry_after_s: float = 60.0

    def backoff_s(self, retry: int, rng: Random) -> float:
        """The delay before retry number `retry` (1-based): exponential, half of it jittered."""
        ceiling = min(self.max_delay_s, self.base_delay_s * 2.0 ** (retry - 1))
        return ceiling / 2 + ceiling / 2 * rng()

    def delay_s(self, retry: int, retry_after_s: float | None, rng: Random) -> float:
        """The server's Retry-After when it gave one (capped), else the backoff."""
        if retry_after_s is not None:
            return min(retry_after_s, self.max_retry_after_s)
        return self.backoff_s(retry, rng)


@dataclass(frozen=True)
class _Transient:
    cause: str
    status: int | None = None
    retry_after_s: float | None = None


def is_retryable_status(status: int) -> bool:
    return status in RETRYABLE_STATUSES or 500 <= status <= 599


def parse_retry_after(headers: httpx.Headers, *, now: float) -> float | None:
    """Seconds to wait from `retry-after-ms`, or `Retry-After` as seconds or an HTTP-date."""
    millis = _finite(headers.get("retry-after-ms"))
    if millis is not None:
        return max(0.0, millis / 1000)
    value = headers.get("retry-after")
    if value is None:
        return None
    seconds = _finite(value)
    if seconds is None:
        seconds = _seconds_until(value, now)
    return None if seconds is None else max(0.0, seconds)


def _finite(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        number = float(value.strip())
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _seconds_until(http_date: str, now: float) -> float | None:
    try:
        when = parsedate_to_datetime(http_date.strip())
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.timestamp() - now


@dataclass(frozen=True)
class Retrier:
    """Sends a request until it succeeds, fails for good, or retries run out."""

    policy: RetryPolicy
    url: str
    timeout_s: float
    redact: Redactor
    sleep: Sleep = asyncio.sleep
    rng: Random = random.random
    clock: Callable[[], float] = time.time

    async def send(self, send: Send) -> tuple[httpx.Response, int]:
        """The 2xx response and how many attempts it took."""
        attempts = self.policy.max_retries + 1
        failure = _Transient("no attempt was made")
        for attempt in range(1, attempts + 1):
            outcome = await self._attempt(send)
            if isinstance(outcome, httpx.Response):
                return outcome, attempt
            failure = outcome
            if attempt < attempts:
                await self._wait_before_retry(attempt, failure)
        raise LlmUnavailable(
            f"LLM endpoint {self.url} unavailable after {attempts} attempt(s): {failure.cause}",
            url=self.url,
            attempts=attempts,
            last_status=failure.status,
            cause=failure.cause,
        )

    async def _attempt(self, send: Send) -> httpx.Response | _Transient:
        try:
            async with asyncio.timeout(self.timeout_s):
                response = await send()
        except TimeoutError:
            return _Transient(f"no complete response within {self.timeout_s:g} s")
        except TRANSIENT_ERRORS as exc:
            return _Transient(self.redact(_describe(exc)))
        status = response.status_code
        if 200 <= status <= 299:
            return response
        message = server_message(response, self.redact)
        if is_retryable_status(status):
            retry_after = parse_retry_after(response.headers, now=self.clock())
            return _Transient(f"HTTP {status}: {message}", status, retry_after)
        raise LlmRejected(
            f"LLM endpoint {self.url} rejected the request: HTTP {status}: {message}",
            url=self.url,
            status=status,
            server_message=message,
        )

    async def _wait_before_retry(self, attempt: int, failure: _Transient) -> None:
        delay = self.policy.delay_s(attempt, failure.retry_after_s, self.rng)
        log.warning(
            "LLM endpoint %s: %s; retry %d of %d in %.2f s",
            self.url,
            failure.cause,
            attempt,
            self.policy.max_retries,
            delay,
        )
        await self.sleep(delay)


def _describe(exc: Exception) -> str:
    detail = str(exc).strip()
    name = type(exc).__name__
    return f"{name}: {detail}" if detail else name
