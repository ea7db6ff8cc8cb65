"""One module per trigger source; each watches a real interface and emits SourceEvents.

Each module is imported when a trigger of its kind starts: a source whose library
(pyudev) or binary (journalctl, systemd-analyze) is missing fails only its triggers.
"""

from __future__ import annotations

from sysward.config import (
    JournalTrigger,
    PathTrigger,
    ScheduleTrigger,
    TriggerSettings,
    UdevTrigger,
    UnitTrigger,
)
from sysward.tools.dbus.connection import BusAddresses
from sysward.triggers.ledger import TriggerRecord
from sysward.triggers.source import Source


def source_for(settings: TriggerSettings, record: TriggerRecord, addresses: BusAddresses) -> Source:
    """The watcher of one trigger, resuming where its record says it stopped."""
    match settings:
        case UnitTrigger():
            from sysward.triggers.sources.unit import UnitSource

            return UnitSource(settings, addresses)
        case UdevTrigger():
            from sysward.triggers.sources.udev import UdevSource

            return UdevSource(settings)
        case PathTrigger():
            from sysward.triggers.sources.path import PathSource

            return PathSource(settings)
        case JournalTrigger():
            from sysward.triggers.sources.journal import JournalSource

            return JournalSource(settings, record.cursor)
        case ScheduleTrigger():
            from sysward.triggers.sources.schedule import ScheduleSource

            return ScheduleSource(settings, record.last_due)
