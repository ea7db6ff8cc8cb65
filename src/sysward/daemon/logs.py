"""Where the daemon's own log lines go: journald with structured fields under systemd,
else stderr. The request context (request id, peer uid) rides on every record."""

from __future__ import annotations

import logging
import os
import sys

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
