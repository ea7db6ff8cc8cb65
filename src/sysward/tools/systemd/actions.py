"""The systemd tool: unit status, jobs, unit files, listings and journal, over D-Bus."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sysward.tools.dbus.connection import DEFAULT_CONNECT_TIMEOUT_S, BusAddresses, BusConnections
from sysward.tools.requirement import Requirement
from sysward.tools.systemd.journal import (
    JournalEntries,
    JournalQuery,
    missing_reader_reason,
    parse_since,
    read_journal,
)
from sysward.tools.systemd.manager import SystemdManager
from sysward.tools.systemd.models import (
    JobArgs,
    JobOutcome,
    JournalArgs,
    ListArgs,
    UnitArgs,
    UnitFileChanges,
    UnitList,
)
from sysward.tools.systemd.units import UnitStatus, select_units
from sysward.tools.tool import Effect, Tool, action

# journalctl or systemd-python: either reads the journal (see journal.py).
JOURNAL_READER = Requirement(
    "a journal reader (journalctl or systemd-python)",
    "install journalctl (Debian/Ubuntu: apt install systemd) or systemd-python "
    "(apt install python3-systemd, or pip install 'sysward[systemd]')",
    lambda: missing_reader_reason() is None,
)


class SystemdTool(Tool):
    """Inspect and control systemd units of the host (system) or of the daemon user (user).

    Talks to the manager over D-Bus (org.freedesktop.systemd1) and reads the
    journal; unit names always carry their type suffix (nginx.service).
    """

    name = "systemd"

    def __init__(
        self,
        addresses: BusAddresses | None = None,
        *,
        journal_path: Path | None = None,
        connect_timeout_s: float = DEFAULT_CONNECT_TIMEOUT_S,
    ) -> None:
        self.manager = SystemdManager(
            BusConnections(
                addresses or BusAddresses.from_environment(), connect_timeout_s=connect_timeout_s
            )
        )
        # None reads the host's journal; a directory of journal files otherwise (tests).
        self.journal_path = journal_path

    async def aclose(self) -> None:
        """Close the bus connections."""
        await self.manager.connections.aclose()

    @action(effect=Effect.READ)
    async def status(self, args: UnitArgs) -> UnitStatus:
        """Load, active and sub state, unit file state, main PID, last result, memory, times."""
        return await self.manager.status(args.bus, args.unit)

    @action(effect=Effect.WRITE)
    async def start(self, args: JobArgs) -> JobOutcome:
        """Start a unit, wait for the job and report its result and the unit's status."""
        return await self.manager.run_job(args.bus, "start", args.unit, args.timeout_s)

    @action(effect=Effect.WRITE)
    async def stop(self, args: JobArgs) -> JobOutcome:
        """Stop a unit, wait for the job and report its result and the unit's status."""
        return await self.manager.run_job(args.bus, "stop", args.unit, args.timeout_s)

    @action(effect=Effect.WRITE)
    async def restart(self, args: JobArgs) -> JobOutcome:
        """Restart a unit (start it if stopped), wait for the job, report the result and status."""
        return await self.manager.run_job(args.bus, "restart", args.unit, args.timeout_s)

    @action(effect=Effect.WRITE)
    async def reload(self, args: JobArgs) -> JobOutcome:
        """Reload a unit's configuration (its ExecReload); not_applicable if it has none."""
        return await self.manager.run_job(args.bus, "reload", args.unit, args.timeout_s)

    @action(effect=Effect.WRITE)
    async def enable(self, args: UnitArgs) -> UnitFileChanges:
        """Enable a unit file (start at boot per its [Install] section); lists the links made."""
        return await self.manager.enable(args.bus, args.unit)

    @action(effect=Effect.WRITE)
    async def disable(self, args: UnitArgs) -> UnitFileChanges:
        """Disable a unit file; lists the links removed. Does not stop a running unit."""
        return await self.manager.disable(args.bus, args.unit)

    @action(effect=Effect.READ)
    async def list(self, args: ListArgs) -> UnitList:
        """Units the manager has loaded, filtered by state, name glob and type."""
        units = select_units(
            await self.manager.list_units(args.bus),
            state=args.state,
            pattern=args.pattern,
            type_=args.type,
        )
        return UnitList(
            units=units[: args.limit], total=len(units), truncated=len(units) > args.limit
        )

    @action(effect=Effect.READ, requires=(JOURNAL_READER,))
    async def journal(self, args: JournalArgs) -> JournalEntries:
        """The newest journal entries of a unit (its output and its manager's messages about it).

        Fails with unavailable on hosts without a journal.
        """
        query = JournalQuery(
            unit=args.unit,
            is_user_unit=args.bus == "user",
            since=parse_since(args.since, datetime.now(UTC)) if args.since else None,
            priority=args.priority,
            limit=args.limit,
        )
        return await read_journal(self.journal_path, query)
