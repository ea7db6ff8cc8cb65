"""Retries: transient failures are retried with backoff or Retry-After; others fail at once."""

from __future__ import annotations

import logging
import socket
import time
from email.utils import formatdate

import httpx
import pytest

from sysward.llm import ChatMessage, LlmRejected, LlmReply, LlmUnavailable, OpenAIChatClient
from sysward.llm.retry import RetryPolicy, parse_retry_after
from sysward.llm.scripted import (
    ScriptedDrop,
    ScriptedHang,
    ScriptedLlmServer,
    ScriptedReply,
    error_reply,
    text_completion,
)

from .conftest import MakeClient, SleepRecorder

QUESTION = [ChatMessage(role="user", content="hi")]
NGINX_502 = (
    "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    "<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx/1.24.0</center>\r\n"
    "</body>\r\n</html>\r\n"
)


async def ask(client: OpenAIChatClient) -> LlmReply:
    return await client.complete(QUESTION, [])


# ---- the policy ---------------------------------------------------------------


def test_backoff_doubles_with_half_of_it_jittered() -> None:
    policy = RetryPolicy(max_retries=5, base_delay_s=1.0, max_delay_s=5.0)
    assert [policy.backoff_s(n, lambda: 0.0) for n in (1, 2, 3, 4)] == [0.5, 1.0, 2.0, 2.5]
    assert [policy.backoff_s(n, lambda: 1.0) for n in (1, 2, 3, 4)] == [1.0, 2.0, 4.0, 5.0]


def test_retry_after_wins_over_backoff_but_is_capped() -> None:
    policy = RetryPolicy(max_retries=1, max_retry_after_s=60.0)
    assert policy.delay_s(1, 3.0, lambda: 0.5) == 3.0
    assert policy.delay_s(1, 3600.0, lambda: 0.5) == 60.0


def test_retry_after_in_seconds_in_an_http_date_or_in_milliseconds() -> None:
    now = 1_700_000_000.0
    assert parse_retry_after(httpx.Headers({"retry-after": "7"}), now=now) == 7.0
    date = formatdate(now + 30, usegmt=True)
    assert parse_retry_after(httpx.Headers({"retry-after": date}), now=now) == 30.0
    past = formatdate(now - 30, usegmt=True)
    assert parse_retry_after(httpx.Headers({"retry-after": past}), now=now) == 0.0
    assert parse_retry_after(httpx.Headers({"retry-after-ms": "250"}), now=now) == 0.25


def test_unreadable_retry_after_is_ignored() -> None:
    for value in ("soon", "", "nan", "inf"):
        assert parse_retry_after(httpx.Headers({"retry-after": value}), now=0.0) is None
    assert parse_retry_after(httpx.Headers(), now=0.0) is None


# ---- against the scripted server ------------------------------------------------


async def test_429_waits_for_retry_after_then_succeeds(
    llm_server: ScriptedLlmServer, make_client: MakeClient, sleeps: SleepRecorder
) -> None:
    llm_server.enqueue(
        error_reply(429, "Rate limit reached", headers={"Retry-After": "7"}),
        text_completion("ok"),
    )
    reply = await ask(make_client())
    assert (reply.content, reply.attempts) == ("ok", 2)
    assert sleeps.delays == [7.0]


async def test_retry_after_as_a_far_http_date_is_capped(
    llm_server: ScriptedLlmServer, make_client: MakeClient, sleeps: SleepRecorder
) -> None:
    in_an_hour = formatdate(time.time() + 3600, usegmt=True)
    llm_server.enqueue(
        error_reply(503, "overloaded", headers={"Retry-After": in_an_hour}),
        text_completion("ok"),
    )
    await ask(make_client())
    assert sleeps.delays == [RetryPolicy(max_retries=1).max_retry_after_s]


async def test_500_then_success_backs_off_once(
    llm_server: ScriptedLlmServer, make_client: MakeClient, sleeps: SleepRecorder
) -> None:
    llm_server.enqueue(error_reply(500, "internal error"), text_completion("ok"))
    reply = await ask(make_client())
    assert reply.attempts == 2
    assert sleeps.delays == [0.375]  # base 0.5 s, rng 0.5: 0.25 + 0.125
    assert llm_server.call_count == 2


async def test_backoff_grows_between_attempts(
    llm_server: ScriptedLlmServer, make_client: MakeClient, sleeps: SleepRecorder
) -> None:
    llm_server.enqueue(
        error_reply(502, "a"), error_reply(503, "b"), error_reply(504, "c"), text_completion("ok")
    )
    reply = await ask(make_client(max_retries=3))
    assert reply.attempts == 4
    assert sleeps.delays == [0.375, 0.75, 1.5]


async def test_408_is_retried(
    llm_server: ScriptedLlmServer, make_client: MakeClient, sleeps: SleepRecorder
) -> None:
    llm_server.enqueue(error_reply(408, "request timeout"), text_completion("ok"))
    assert (await ask(make_client())).attempts == 2


async def test_html_502_from_a_proxy_is_retried_and_reported_readably(
    llm_server: ScriptedLlmServer, make_client: MakeClient, sleeps: SleepRecorder
) -> None:
    page = ScriptedReply(status=502, text=NGINX_502, headers={"Content-Type": "text/html"})
    llm_server.enqueue(page, page)
    with pytest.raises(LlmUnavailable) as caught:
        await ask(make_client(max_retries=1))
    error = caught.value
    assert (error.attempts, error.last_status) == (2, 502)
    assert "HTTP 502: 502 Bad Gateway 502 Bad Gateway nginx/1.24.0" in str(error)
    assert "<html>" not in str(error)
    assert llm_server.base_url in str(error)


async def test_response_slower_than_the_timeout_is_retried(
    llm_server: ScriptedLlmServer, make_client: MakeClient, sleeps: SleepRecorder
) -> None:
    llm_server.enqueue(ScriptedReply(body=text_completion("late"), delay_s=1.0))
    llm_server.enqueue(text_completion("in time"))
    reply = await ask(make_client(timeout_s=0.2))
    assert (reply.content, reply.attempts) == ("in time", 2)


async def test_a_hung_endpoint_is_bounded_by_the_timeout(
    llm_server: ScriptedLlmServer, make_client: MakeClient
) -> None:
    llm_server.enqueue(ScriptedHang())
    started = time.monotonic()
    with pytest.raises(LlmUnavailable) as caught:
        await ask(make_client(timeout_s=0.2, max_retries=0))
    assert time.monotonic() - started < 2.0
    assert caught.value.attempts == 1
    assert caught.value.last_status is None
    assert "Timeout" in caught.value.cause or "within 0.2 s" in caught.value.cause


async def test_a_dropped_connection_is_retried(
    llm_server: ScriptedLlmServer, make_client: MakeClient, sleeps: SleepRecorder
) -> None:
    llm_server.enqueue(ScriptedDrop(), text_completion("ok"))
    reply = await ask(make_client())
    assert reply.attempts == 2
    assert len(sleeps.delays) == 1


async def test_connection_refused_exhausts_the_retries(
    make_client: MakeClient, sleeps: SleepRecorder
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    client = make_client(base_url=f"http://127.0.0.1:{closed_port}/v1", max_retries=2)
    with pytest.raises(LlmUnavailable) as caught:
        await ask(client)
    assert (caught.value.attempts, caught.value.last_status) == (3, None)
    assert "ConnectError" in caught.value.cause
    assert len(sleeps.delays) == 2


async def test_retries_exhausted_report_the_last_status_and_message(
    llm_server: ScriptedLlmServer, make_client: MakeClient, sleeps: SleepRecorder
) -> None:
    llm_server.enqueue(error_reply(503, "busy"), error_reply(503, "busy"), error_reply(503, "busy"))
    with pytest.raises(LlmUnavailable) as caught:
        await ask(make_client(max_retries=2))
    assert (caught.value.attempts, caught.value.last_status) == (3, 503)
    assert str(caught.value).endswith("unavailable after 3 attempt(s): HTTP 503: busy")
    assert len(sleeps.delays) == 2


async def test_401_fails_at_once_with_the_server_message(
    llm_server: ScriptedLlmServer, make_client: MakeClient, sleeps: SleepRecorder
) -> None:
    llm_server.enqueue(error_reply(401, "Incorrect API key provided"))
    with pytest.raises(LlmRejected) as caught:
        await ask(make_client())
    assert (caught.value.status, caught.value.server_message) == (401, "Incorrect API key provided")
    assert "HTTP 401: Incorrect API key provided" in str(caught.value)
    assert (llm_server.call_count, sleeps.delays) == (1, [])


async def test_400_with_a_plain_text_body_surfaces_the_text(
    llm_server: ScriptedLlmServer, make_client: MakeClient, sleeps: SleepRecorder
) -> None:
    llm_server.enqueue(ScriptedReply(status=400, text="context length exceeded: 9000 > 8192"))
    with pytest.raises(LlmRejected) as caught:
        await ask(make_client())
    assert caught.value.server_message == "context length exceeded: 9000 > 8192"
    assert sleeps.delays == []


async def test_vendor_error_bodies_surface_their_message(
    llm_server: ScriptedLlmServer, make_client: MakeClient
) -> None:
    llm_server.enqueue(
        ScriptedReply(status=404, body={"error": "model 'qwen9' not found, try pulling it"}),
        ScriptedReply(status=400, body={"object": "error", "message": "bad tool schema"}),
        ScriptedReply(status=422, body={"detail": [{"loc": ["body"], "msg": "field required"}]}),
    )
    client = make_client()
    messages = []
    for _ in range(3):
        with pytest.raises(LlmRejected) as caught:
            await ask(client)
        messages.append(caught.value.server_message)
    assert messages[0] == "model 'qwen9' not found, try pulling it"
    assert messages[1] == "bad tool schema"
    assert "field required" in messages[2]


async def test_each_retry_is_logged_with_its_cause(
    llm_server: ScriptedLlmServer,
    make_client: MakeClient,
    caplog: pytest.LogCaptureFixture,
) -> None:
    llm_server.enqueue(error_reply(503, "warming up"), text_completion("ok"))
    with caplog.at_level(logging.WARNING, logger="sysward.llm"):
        await ask(make_client())
    [record] = [r for r in caplog.records if r.name == "sysward.llm.retry"]
    assert "HTTP 503: warming up; retry 1 of 2 in 0.38 s" in record.getMessage()
