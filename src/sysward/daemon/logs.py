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


def _unredacted(text: str) -> tuple[str, int]:
    return text, 0


class RedactingHandler(logging.Handler):
    """Hands `inner` a copy of each record with secrets replaced in its message and traceback.

    The daemon logs what went wrong with a tool, a request or a model reply;
    an exception's text can quote a file line, a URL with its password or an
    API key, and the journal is read by more people than the event log. The
    message is formatted before redaction (a secret sits in an argument as
    easily as in the format string) and the copy has no `exc_info`, only its
    redacted text: the journal handler would store the raw exception's repr.
    A copy, so other handlers of the same record (pytest's) see it unchanged.
    """

    def __init__(self, inner: logging.Handler) -> None:
        super().__init__()
        self.inner = inner
        self.redact: RedactText = _unredacted

    def emit(self, record: logging.LogRecord) -> None:
        copy = logging.makeLogRecord(record.__dict__)
        copy.msg, _ = self.redact(record.getMessage())
        copy.args = ()
        text = record.exc_text
        if record.exc_info and not text:
            text = logging.Formatter().formatException(record.exc_info)
        copy.exc_info = None
        copy.exc_text = self.redact(text)[0] if text else None
        if record.stack_info:
            copy.stack_info, _ = self.redact(record.stack_info)
        self.inner.handle(copy)

    def close(self) -> None:
        self.inner.close()
        super().close()


def redact_log_records(redact: RedactText) -> None:
    """From now on the daemon's log handler replaces what `redact` finds."""
    for handler in logging.getLogger().handlers:
        if isinstance(handler, RedactingHandler):
            handler.redact = redact


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
    redacting = RedactingHandler(handler)
    redacting.addFilter(ContextFields())
    root = logging.getLogger()
    root.handlers = [redacting]
    root.setLevel(level)
    return target
