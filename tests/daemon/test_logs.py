"""The daemon's log records carry the request context (journal fields under systemd)."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from sysward.daemon.logs import ContextFields, configure_logging, is_under_systemd
from sysward.events.context import bound_context


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
    assert type(restored_root_logger.handlers[0]).__name__ == "JournalHandler"


def test_otherwise_logs_go_to_stderr(
    monkeypatch: pytest.MonkeyPatch, restored_root_logger: logging.Logger
) -> None:
    monkeypatch.delenv("JOURNAL_STREAM", raising=False)
    monkeypatch.delenv("INVOCATION_ID", raising=False)
    assert configure_logging() == "stderr"
    assert isinstance(restored_root_logger.handlers[0], logging.StreamHandler)
