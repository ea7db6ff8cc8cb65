"""The ChatModel for OpenAI-compatible servers: `POST {base_url}/chat/completions`.

Non-streaming, one endpoint per client. Works with OpenAI, vLLM, llama.cpp,
Ollama, LiteLLM and the like; their differences are absorbed by the codecs.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable, Sequence
from types import TracebackType

import httpx

from sysward.config import LlmEndpoint
from sysward.llm.credentials import read_api_key
from sysward.llm.decoding import decode_completion
from sysward.llm.endpoint import completions_url, display_url
from sysward.llm.functions import FunctionTable
from sysward.llm.jsonmode import encode_json_mode
from sysward.llm.messages import ChatMessage, LlmReply, ToolSpec
from sysward.llm.native import NativeEncoder
from sysward.llm.responses import Redactor, read_completion
from sysward.llm.retry import Random, Retrier, RetryPolicy, Sleep

# Rewrites an encoded request body that still holds a known secret (sysward.policy's
# exit guard); a callable so this package needs nothing of sysward.policy.
BodyGuard = Callable[[bytes], tuple[bytes, int]]


class OpenAIChatClient:
    """Asks one OpenAI-compatible endpoint for chat completions, with retries.

    The API key is read once, here; it is sent only in the Authorization header
    and never appears in an exception, a repr or a log line.
    """

    def __init__(
        self,
        endpoint: LlmEndpoint,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Sleep = asyncio.sleep,
        rng: Random = random.random,
        guard: BodyGuard | None = None,
    ) -> None:
        """`guard` checks each encoded request body last (the daemon's known secrets)."""
        self._endpoint = endpoint
        self._url = completions_url(endpoint.base_url)
        shown_url = display_url(self._url)
        api_key = read_api_key(endpoint)
        redact = Redactor([api_key] if api_key else [])
        self._guard = guard
        self._native = NativeEncoder()
        headers = {"Accept": "application/json"}
        if api_key:
            headers["Authorization"] = f"Bearer {api_key}"
        self._http = httpx.AsyncClient(
            transport=transport,
            headers=headers,
            timeout=httpx.Timeout(endpoint.timeout_s),
            follow_redirects=False,
        )
        self._retrier = Retrier(
            policy=RetryPolicy(max_retries=endpoint.max_retries),
            url=shown_url,
            timeout_s=endpoint.timeout_s,
            redact=redact,
            sleep=sleep,
            rng=rng,
        )

    def __repr__(self) -> str:
        return (
            f"OpenAIChatClient(url={self._retrier.url!r}, model={self._endpoint.model!r}, "
            f"tool_calls={self._endpoint.tool_calls!r})"
        )

    async def complete(
        self, messages: Sequence[ChatMessage], tools: Sequence[ToolSpec]
    ) -> LlmReply:
        """The model's next step; raises LlmRejected, LlmUnavailable or LlmProtocolError."""
        table = FunctionTable(tools)
        body = self._body(messages, table)
        if self._guard is not None:
            # The conversation comes redacted from the log; this catches a path that was not.
            body, _ = self._guard(body)
        started = time.monotonic()
        response, attempts = await self._retrier.send(lambda: self._post(body))
        completion = read_completion(response, url=self._retrier.url, redact=self._retrier.redact)
        latency_ms = (time.monotonic() - started) * 1000
        return decode_completion(completion, table, latency_ms=latency_ms, attempts=attempts)

    def _body(self, messages: Sequence[ChatMessage], table: FunctionTable) -> bytes:
        if self._endpoint.tool_calls == "json":
            return encode_json_mode(self._endpoint.model, messages, table).to_json()
        return self._native.encode(self._endpoint.model, messages, table)

    async def _post(self, body: bytes) -> httpx.Response:
        return await self._http.post(
            self._url, content=body, headers={"Content-Type": "application/json"}
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> OpenAIChatClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()
