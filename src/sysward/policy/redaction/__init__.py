"""Secret redaction: nothing written to the event log (and so shown to a model) holds a secret."""

from sysward.policy.redaction.guard import ExitGuard
from sysward.policy.redaction.redactor import MIN_SECRET_CHARS, Redactor
from sysward.policy.redaction.shapes import SecretKind, marker

__all__ = ["MIN_SECRET_CHARS", "ExitGuard", "Redactor", "SecretKind", "marker"]
