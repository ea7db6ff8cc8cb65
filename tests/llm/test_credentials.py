"""The API key: read from env or file, sent as a bearer token, never shown anywhere else."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pytest

from sysward.config import LlmEndpoint
from sysward.llm import (
    ChatMessage,
    LlmCredentialError,
    LlmProtocolError,
    LlmRejected,
    LlmUnavailable,
    OpenAIChatClient,
)
from sysward.llm.scripted import ScriptedLlmServer, ScriptedReply, error_reply, text_completion

from .conftest import MakeClient

SECRET = "sk-test-4f9c2b7e1d3a5f8e0b6c"
QUESTION = [ChatMessage(role="user", content="hi")]


@pytest.fixture
def key_in_env(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("SYSWARD_TEST_LLM_KEY", SECRET)
    return "SYSWARD_TEST_LLM_KEY"


async def test_key_from_env_is_sent_as_bearer_token(
    llm_server: ScriptedLlmServer, make_client: MakeClient, key_in_env: str
) -> None:
    llm_server.enqueue(text_completion("ok"))
    await make_client(api_key_env=key_in_env).complete(QUESTION, [])
    request = llm_server.requests[0]
    assert request.headers["authorization"] == f"Bearer {SECRET}"
    assert SECRET not in request.text


async def test_key_from_file_is_stripped_and_sent(
    llm_server: ScriptedLlmServer, make_client: MakeClient, tmp_path: Path
) -> None:
    key_file = tmp_path / "llm-key"
    key_file.write_text(f"  {SECRET}\n")
    llm_server.enqueue(text_completion("ok"))
    await make_client(api_key_file=key_file).complete(QUESTION, [])
    assert llm_server.requests[0].headers["authorization"] == f"Bearer {SECRET}"


async def test_no_key_configured_sends_no_authorization(
    llm_server: ScriptedLlmServer, make_client: MakeClient
) -> None:
    llm_server.enqueue(text_completion("ok"))
    await make_client().complete(QUESTION, [])
    assert "authorization" not in llm_server.requests[0].headers


def endpoint(**fields: object) -> LlmEndpoint:
    return LlmEndpoint.model_validate({"base_url": "http://127.0.0.1:9/v1", "model": "m", **fields})


def test_unset_env_var_is_an_error_naming_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SYSWARD_NO_SUCH_KEY", raising=False)
    with pytest.raises(LlmCredentialError, match="SYSWARD_NO_SUCH_KEY, which is not set"):
        OpenAIChatClient(endpoint(api_key_env="SYSWARD_NO_SUCH_KEY"))


def test_empty_env_var_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SYSWARD_EMPTY_KEY", "  ")
    with pytest.raises(
        LlmCredentialError, match=re.escape("SYSWARD_EMPTY_KEY (api_key_env) is empty")
    ):
        OpenAIChatClient(endpoint(api_key_env="SYSWARD_EMPTY_KEY"))


def test_missing_key_file_is_an_error_naming_it(tmp_path: Path) -> None:
    missing = tmp_path / "nope"
    with pytest.raises(
        LlmCredentialError, match=re.escape(f"api_key_file {missing} does not exist")
    ):
        OpenAIChatClient(endpoint(api_key_file=missing))


def test_empty_key_file_is_an_error(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.write_text("\n")
    with pytest.raises(LlmCredentialError, match="is empty"):
        OpenAIChatClient(endpoint(api_key_file=empty))


async def test_key_is_not_in_the_repr(make_client: MakeClient, key_in_env: str) -> None:
    client = make_client(api_key_env=key_in_env)
    assert SECRET not in repr(client)
    assert "model='test-model'" in repr(client)


async def test_key_echoed_in_a_rejection_is_redacted(
    llm_server: ScriptedLlmServer, make_client: MakeClient, key_in_env: str
) -> None:
    llm_server.enqueue(error_reply(401, f"Incorrect API key provided: {SECRET}"))
    with pytest.raises(LlmRejected) as caught:
        await make_client(api_key_env=key_in_env).complete(QUESTION, [])
    assert SECRET not in str(caught.value)
    assert SECRET not in caught.value.server_message
    assert "Incorrect API key provided: [REDACTED]" in str(caught.value)


async def test_key_echoed_by_a_failing_proxy_is_redacted_from_errors_and_logs(
    llm_server: ScriptedLlmServer,
    make_client: MakeClient,
    key_in_env: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    echo = ScriptedReply(status=500, text=f"upstream said: bad header Bearer {SECRET}")
    llm_server.enqueue(echo, echo)
    with caplog.at_level(logging.DEBUG), pytest.raises(LlmUnavailable) as caught:
        await make_client(api_key_env=key_in_env, max_retries=1).complete(QUESTION, [])
    assert SECRET not in str(caught.value)
    assert SECRET not in caught.value.cause
    assert caplog.records, "the retry was logged"
    assert all(SECRET not in record.getMessage() for record in caplog.records)


async def test_key_in_a_non_completion_body_is_redacted(
    llm_server: ScriptedLlmServer, make_client: MakeClient, key_in_env: str
) -> None:
    llm_server.enqueue(ScriptedReply(text=f"<html>token {SECRET}</html>"))
    with pytest.raises(LlmProtocolError) as caught:
        await make_client(api_key_env=key_in_env).complete(QUESTION, [])
    assert SECRET not in str(caught.value)
    assert SECRET not in caught.value.snippet
