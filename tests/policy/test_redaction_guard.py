"""The exit guard: known secret values never leave in encoded bytes, however escaped.

Each test that makes the guard fire restores `ExitGuard.refusals` (monkeypatch),
so the suite-wide check in tests/conftest.py still sees only unplanned refusals.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from sysward.config import LlmEndpoint
from sysward.events.log import EventLog
from sysward.events.record import NewEvent
from sysward.llm import ChatMessage, OpenAIChatClient
from sysward.llm.scripted import ScriptedLlmServer, text_completion
from sysward.policy.redaction import ExitGuard
from sysward.policy.redaction.guard import UNVERIFIED

SECRET = 'pa"ss\\w0rd-Ünïcode-123'


@pytest.fixture(autouse=True)
def planned_refusals(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ExitGuard, "refusals", 0)


@pytest.mark.parametrize(
    "form",
    [
        SECRET,
        json.dumps(SECRET)[1:-1],
        json.dumps(SECRET, ensure_ascii=False)[1:-1],
        json.dumps(json.dumps(SECRET)[1:-1])[1:-1],
        json.dumps(SECRET)[1:-1].replace('\\"', "\\u0022"),
    ],
    ids=["raw", "escaped", "escaped-utf8", "escaped-twice", "u0022"],
)
def test_every_encoded_form_of_a_known_value_is_replaced(form: str) -> None:
    encoded = f'{{"text":"before {form} after"}}'.encode()
    checked, count = ExitGuard([SECRET]).check(encoded, where="a test")
    assert count == 1 and form.encode() not in checked
    assert UNVERIFIED in checked and ExitGuard.refusals == 1


def test_clean_bytes_pass_unchanged_and_count_nothing() -> None:
    encoded = b'{"text":"nothing secret here"}'
    assert ExitGuard([SECRET]).check(encoded, where="a test") == (encoded, 0)
    assert ExitGuard.refusals == 0


def test_a_guard_without_values_is_false() -> None:
    assert not ExitGuard([]) and ExitGuard([SECRET])


async def test_the_log_refuses_a_secret_its_scrub_missed(tmp_path: Path) -> None:
    guard = ExitGuard(["hunter2-very-secret"])
    log = await EventLog.open(
        tmp_path / "events", guard=lambda data: guard.check(data, where="the event log")
    )
    try:
        draft = NewEvent(
            topic="agent.message",
            type="tool",
            source="test",
            data={"content": json.dumps({"out": "key is hunter2-very-secret"})},
        )
        stored = await log.append(draft)
        report = await log.verify()
    finally:
        await log.close()
    assert stored.context.redacted == 1
    assert "hunter2-very-secret" not in json.dumps(stored.data)
    assert report.ok
    raw = b"".join(path.read_bytes() for path in (tmp_path / "events").iterdir())
    assert b"hunter2-very-secret" not in raw
    assert base64.b64encode(b"hunter2-very-secret") not in raw


async def test_an_llm_request_body_never_carries_a_known_secret() -> None:
    async with ScriptedLlmServer() as server:
        server.enqueue(text_completion("fine"))
        endpoint = LlmEndpoint(base_url=server.base_url, model="m", timeout_s=2)
        guard = ExitGuard(["hunter2-very-secret"])
        client = OpenAIChatClient(endpoint, guard=lambda body: guard.check(body, where="a test"))
        try:
            messages = [ChatMessage(role="user", content="my key is hunter2-very-secret")]
            await client.complete(messages, [])
        finally:
            await client.aclose()
    (request,) = server.requests
    assert b"hunter2-very-secret" not in request.body
    assert UNVERIFIED in request.body and ExitGuard.refusals == 1
