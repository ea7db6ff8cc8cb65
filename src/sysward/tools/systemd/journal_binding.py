"""Reading the journal in-process with systemd-python's Reader (blocking: run it in a thread).

Imported only when this reader is used: systemd-python is an optional extra.
"""

from __future__ import annotations

import os
from pathlib import Path

from systemd.journal import Reader

from sysward.tools.systemd.journal import EntryCollector, JournalEntries, JournalQuery


def read_entries(directory: Path | None, query: JournalQuery) -> JournalEntries:
    """The newest matching entries of ``directory`` (None: the host's journal)."""
    reader = Reader() if directory is None else Reader(path=str(directory))
    collector = EntryCollector(query)
    with reader:
        _add_matches(reader, query)
        reader.seek_tail()
        while raw := reader.get_previous():
            if not collector.offer(raw):
                break
    return collector.result()


def _add_matches(reader: Reader, query: JournalQuery) -> None:
    """(what the unit logged) OR (what its manager logged about it) [AND priority <= max]."""
    if query.is_user_unit:
        uid = f"_UID={os.getuid()}"
        reader.add_match(f"_SYSTEMD_USER_UNIT={query.unit}", uid)
        reader.add_disjunction()
        reader.add_match(f"USER_UNIT={query.unit}", uid)
    else:
        reader.add_match(f"_SYSTEMD_UNIT={query.unit}")
        reader.add_disjunction()
        reader.add_match(f"UNIT={query.unit}", "_PID=1")
    if query.priority is not None:
        reader.add_conjunction()
        for level in range(query.priority + 1):
            reader.add_match(f"PRIORITY={level}")
