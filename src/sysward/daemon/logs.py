"""Where the daemon's own log lines go: journald with structured fields under systemd,
else stderr. The request context (request id, peer uid) rides on every record."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable

from sysward.events.context import current_context

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
IDENTIFIER = "syswardd"


class ContextFields(logging.Filter):
    """Adds SYSWARD_REQUEST_ID / SYSWARD_PEER_UID (journal fields) when a request is running."""

    def filter(self, record: logging.LogRecord) -> bool:
        context = current_context()
        if context.request_id is not None:
            record.SYSWARD_REQUEST_ID = context.request_id
        if context.peer_uid is not None:
            record.SYSWARD_PEER_UID = context.peer_uid
        return True


RedactText = Callable[[str], tuple[str, int]]


class RedactedRecords(logging.Filter):
    """Replaces secrets in a record's message, traceback and stack before any handler sees it.

    The daemon logs what went wrong with a tool, a request or a model reply;
    an exception's text can quote a file line, a URL with its password or an
    API key, and the journal is read by more people than the event log.
    The message is formatted here (and `args` emptied) because a secret can
    sit in an argument as easily as in the format string; `exc_info` is
    dropped once its text is redacted so no handler formats the raw one again.
    """

    def __init__(self, redact: RedactText) -> None:
        super().__init__()
        self._redact = redact

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg, _ = self._redact(record.getMessage())
        record.args = ()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        record.exc_info = None
        if record.exc_text:
            record.exc_text, _ = self._redact(record.exc_text)
        if record.stack_info:
            record.stack_info, _ = self._redact(record.stack_info)
        return True


def redact_log_records(redact: RedactText) -> None:
    """Run every record of the root logger's handlers via `redact` (replacing a former one)."""
    for handler in logging.getLogger().handlers:
        for old in [f for f in handler.filters if isinstance(f, RedactedRecords)]:
            handler.removeFilter(old)
        handler.addFilter(RedactedRecords(redact))


def is_under_systemd() -> bool:
    return "JOURNAL_STREAM" in os.environ or "INVOCATION_ID" in os.environ


def _journal_handler() -> logging.Handler | None:
    try:
        from systemd.journal import JournalHandler
    except ImportError:
        return None
    handler: logging.Handler = JournalHandler(SYSLOG_IDENTIFIER=IDENTIFIER)
    return handler


def configure_logging(level: int = logging.INFO) -> str:
    """Install the daemon's one log handler on the root logger; returns where logs go."""
    handler = _journal_handler() if is_under_systemd() else None
    target = "journald"
    if handler is None:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter(FORMAT))
        target = "stderr"
    handler.addFilter(ContextFields())
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(level)
    return target
