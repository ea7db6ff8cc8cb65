"""The daemon's log records carry the request context (journal fields under systemd)."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest

from sysward.daemon.logs import (
    ContextFields,
    RedactingHandler,
    configure_logging,
    is_under_systemd,
    redact_log_records,
)
from sysward.events.context import bound_context
from sysward.policy.redaction.redactor import Redactor
from sysward.policy.redaction.shapes import SecretKind


def record() -> logging.LogRecord:
    return logging.LogRecord("t", logging.INFO, __file__, 1, "message", None, None)


def test_records_in_a_request_carry_its_id_and_peer_uid() -> None:
    with bound_context(request_id="req_1", peer_uid=1000):
        inside = record()
        ContextFields().filter(inside)
    assert inside.SYSWARD_REQUEST_ID == "req_1"
    assert inside.SYSWARD_PEER_UID == 1000


def test_records_outside_a_request_have_no_context_fields() -> None:
    outside = record()
    ContextFields().filter(outside)
    assert not hasattr(outside, "SYSWARD_REQUEST_ID")


def test_systemd_is_recognised_by_its_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("JOURNAL_STREAM", raising=False)
    monkeypatch.delenv("INVOCATION_ID", raising=False)
    assert not is_under_systemd()
    monkeypatch.setenv("INVOCATION_ID", "abc")
    assert is_under_systemd()


@pytest.fixture
def restored_root_logger() -> Iterator[logging.Logger]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        yield root
    finally:
        root.handlers, root.level = handlers, level


def test_under_systemd_logs_go_to_the_journal(
    monkeypatch: pytest.MonkeyPatch, restored_root_logger: logging.Logger
) -> None:
    pytest.importorskip("systemd.journal")
    monkeypatch.setenv("JOURNAL_STREAM", "8:1234")
    assert configure_logging() == "journald"
    (handler,) = restored_root_logger.handlers
    assert isinstance(handler, RedactingHandler)
    assert type(handler.inner).__name__ == "JournalHandler"


def test_otherwise_logs_go_to_stderr(
    monkeypatch: pytest.MonkeyPatch, restored_root_logger: logging.Logger
) -> None:
    monkeypatch.delenv("JOURNAL_STREAM", raising=False)
    monkeypatch.delenv("INVOCATION_ID", raising=False)
    assert configure_logging() == "stderr"
    (handler,) = restored_root_logger.handlers
    assert isinstance(handler, RedactingHandler)
    assert isinstance(handler.inner, logging.StreamHandler)


SECRET = "hunter2-Zq8vX3rT9wLm"


def redact(text: str) -> tuple[str, int]:
    return text.replace(SECRET, "[REDACTED]"), text.count(SECRET)


def test_a_secret_in_a_log_line_s_message_argument_or_traceback_is_replaced(
    restored_root_logger: logging.Logger,
) -> None:
    stream = io.StringIO()
    inner = logging.StreamHandler(stream)
    inner.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    seen: list[logging.LogRecord] = []
    other = logging.Handler()
    other.emit = seen.append  # type: ignore[method-assign]
    restored_root_logger.handlers = [RedactingHandler(inner), other]
    restored_root_logger.setLevel(logging.INFO)
    redact_log_records(redact)

    log = logging.getLogger("sysward.test")
    log.info("connecting with password=%s", SECRET)
    try:
        raise RuntimeError(f"the server said: bad token {SECRET}")
    except RuntimeError:
        log.exception("agent %s crashed", "ops")
    log.warning("where %s", SECRET, stack_info=True)

    written = stream.getvalue()
    assert SECRET not in written
    assert "connecting with password=[REDACTED]" in written
    assert "agent ops crashed" in written
    assert "RuntimeError: the server said: bad token [REDACTED]" in written
    assert "Stack (most recent call last)" in written
    # The daemon's handler redacted a copy: another handler still gets the record as logged.
    assert seen[1].exc_info is not None and seen[0].args == (SECRET,)


def test_a_real_redactor_replaces_a_known_api_key_in_the_daemon_s_log(
    restored_root_logger: logging.Logger,
) -> None:
    key = "sk-live-" + "7f3a9c2e1b8d4f6a0c5e9b2d7a1f3c8e"
    redactor = Redactor({key: SecretKind.API_KEY})
    stream = io.StringIO()
    restored_root_logger.handlers = [RedactingHandler(logging.StreamHandler(stream))]
    redact_log_records(redactor.redact_text)
    logging.getLogger("sysward.llm").error("llm.main refused key %s (401)", key)
    assert key not in stream.getvalue()
    assert "refused key" in stream.getvalue()
