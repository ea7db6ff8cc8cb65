"""Arguments and results of the systemd tool's actions, with their bounds."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from sysward.tools.dbus.connection import BusKind
from sysward.tools.systemd.journal import parse_since
from sysward.tools.systemd.units import UnitName, UnitStatus, UnitSummary, UnitType
from sysward.tools.tool import ToolArgs

BUS = "Which manager: system (PID 1, host services) or user (the daemon user's systemd --user)"


class UnitArgs(ToolArgs):
    """One unit of one manager."""

    bus: BusKind = Field("system", description=BUS)
    unit: UnitName


class JobArgs(ToolArgs):
    """A unit to start, stop, restart or reload, and how long to wait for the job."""

    bus: BusKind = Field("system", description=BUS)
    unit: UnitName
    timeout_s: float = Field(
        60,
        gt=0,
        le=600,
        description="Seconds to wait for the job to finish; it keeps running after that",
    )


JobOperation = Literal["start", "stop", "restart", "reload"]


class JobOutcome(BaseModel):
    """How a job ended and the unit's status after it.

    ``result`` is systemd's: done, failed, timeout, canceled, dependency, skipped;
    or still_running when ``timeout_s`` passed first (``is_finished`` false).
    """

    model_config = ConfigDict(frozen=True)

    unit: str
    operation: JobOperation
    job_id: int | None
    result: str
    is_finished: bool
    status: UnitStatus


class UnitFileChange(BaseModel):
    """One change to the unit file links: ``type`` is symlink or unlink (or masked, ...)."""

    model_config = ConfigDict(frozen=True)

    type: str
    file: str
    destination: str | None


class UnitFileChanges(BaseModel):
    """What enable/disable changed; the manager reloaded when anything did."""

    model_config = ConfigDict(frozen=True)

    unit: str
    operation: Literal["enable", "disable"]
    changes: list[UnitFileChange]
    carries_install_info: bool | None = Field(
        description="enable only: false when the unit file has no [Install] section to act on"
    )
    unit_file_state: str | None = Field(description="After the change: enabled, disabled, ...")


class ListArgs(ToolArgs):
    """Filters on the units a manager has loaded."""

    bus: BusKind = Field("system", description=BUS)
    state: str | None = Field(
        None,
        pattern=r"^[a-z][a-z-]{0,31}$",
        description="Only units in this active state or sub state, e.g. failed, running",
    )
    pattern: str | None = Field(
        None,
        max_length=256,
        pattern=r"^[A-Za-z0-9:_.\\@*?\[\]][A-Za-z0-9:_.\\@*?\[\]-]*$",
        description="Glob over unit names, e.g. nginx*, *.timer, getty@*",
    )
    type: UnitType | None = Field(None, description="Only units of this type")
    limit: int = Field(200, ge=1, le=1000, description="At most this many units")


class UnitList(BaseModel):
    """Loaded units that matched, sorted by name; ``total`` counts them before the limit."""

    model_config = ConfigDict(frozen=True)

    units: list[UnitSummary]
    total: int
    truncated: bool


class JournalArgs(ToolArgs):
    """Which unit's log entries to read, and how many."""

    bus: BusKind = Field(
        "system", description="system for system units, user for the daemon user's units"
    )
    unit: UnitName
    since: str | None = Field(
        None,
        max_length=64,
        description=(
            "Oldest entry time: ISO 8601 (2026-01-31T12:00:00Z; no offset means UTC) or "
            "relative: -30s, -15m, -2h, -7d, -1w. Default: no lower bound"
        ),
    )
    priority: int | None = Field(
        None,
        ge=0,
        le=7,
        description="Only entries this severe or worse: 0 emerg ... 3 err, 4 warning ... 7 debug",
    )
    limit: int = Field(
        100, ge=1, le=1000, description="At most this many entries: the most recent ones"
    )

    @field_validator("since")
    @classmethod
    def _since_parses(cls, value: str | None) -> str | None:
        if value is not None:
            parse_since(value, datetime.now(UTC))
        return value
