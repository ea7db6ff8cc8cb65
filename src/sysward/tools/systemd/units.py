"""Unit names, and what the systemd tool reports about units: their status and summaries."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from fnmatch import fnmatchcase
from typing import Annotated, Literal, get_args

from dbus_fast import Variant
from pydantic import BaseModel, ConfigDict, Field

UnitType = Literal[
    "service",
    "socket",
    "target",
    "timer",
    "mount",
    "path",
    "slice",
    "scope",
    "device",
    "swap",
    "automount",
]
UNIT_TYPES: tuple[str, ...] = get_args(UnitType)

# Escaped names (\x2d) and instances (getty@tty1) allowed; a leading '-' is refused so a
# unit name can never read as an option, which also refuses the root units -.mount, -.slice.
UNIT_NAME_PATTERN = rf"^[A-Za-z0-9:_.\\@][A-Za-z0-9:_.\\@-]*\.({'|'.join(UNIT_TYPES)})$"
MAX_UNIT_NAME_CHARS = 256

UnitName = Annotated[
    str,
    Field(
        min_length=3,
        max_length=MAX_UNIT_NAME_CHARS,
        pattern=UNIT_NAME_PATTERN,
        description="Full unit name with its type suffix, e.g. nginx.service, backup.timer",
    ),
]

# systemd reports "unset" for these properties with the largest value of their type.
_UINT64_UNSET = 2**64 - 1
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class UnitStatus(BaseModel):
    """The state of one unit as its manager sees it (like ``systemctl status``, as data)."""

    model_config = ConfigDict(frozen=True)

    unit: str
    description: str
    load_state: str = Field(description="loaded, not-found, bad-setting, error or masked")
    load_error: str | None = Field(description="Why loading failed, when it did")
    active_state: str = Field(description="active, inactive, failed, activating, deactivating")
    sub_state: str = Field(description="Type-specific state, e.g. running, exited, dead")
    unit_file_state: str | None = Field(description="enabled, disabled, static, masked, ...")
    result: str | None = Field(description="Result of the last run: success, exit-code, ...")
    main_pid: int | None
    n_restarts: int | None
    memory_current_bytes: int | None
    active_enter_ts: str | None = Field(description="When it last became active (UTC)")
    active_exit_ts: str | None = Field(description="When it last stopped being active (UTC)")
    state_change_ts: str | None
    fragment_path: str | None = Field(description="The unit file it was loaded from")


def unit_status(unit: Mapping[str, Variant], typed: Mapping[str, Variant]) -> UnitStatus:
    """Build the status from the Unit properties and those of its type's interface."""
    return UnitStatus(
        unit=_text(unit, "Id") or "",
        description=_text(unit, "Description") or "",
        load_state=_text(unit, "LoadState") or "",
        load_error=_load_error(unit),
        active_state=_text(unit, "ActiveState") or "",
        sub_state=_text(unit, "SubState") or "",
        unit_file_state=_text(unit, "UnitFileState"),
        result=_text(typed, "Result"),
        main_pid=_number(typed, "MainPID") or None,  # 0 means no main process
        n_restarts=_number(typed, "NRestarts"),
        memory_current_bytes=_number(typed, "MemoryCurrent"),
        active_enter_ts=_timestamp(unit, "ActiveEnterTimestamp"),
        active_exit_ts=_timestamp(unit, "ActiveExitTimestamp"),
        state_change_ts=_timestamp(unit, "StateChangeTimestamp"),
        fragment_path=_text(unit, "FragmentPath"),
    )


def iso_utc(moment: datetime) -> str:
    """``2026-11-22T18:15:38.123456Z``: the timestamp form of events and tool results."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


class UnitSummary(BaseModel):
    """One loaded unit in a listing; ``job_*`` describe a queued job, if any."""

    model_config = ConfigDict(frozen=True)

    unit: str
    description: str
    load_state: str
    active_state: str
    sub_state: str
    job_id: int | None
    job_type: str | None


def unit_summary(row: tuple[object, ...]) -> UnitSummary:
    """A summary from one ``ListUnits`` row, D-Bus type (ssssssouso)."""
    name, description, load, active, sub, _following, _path, job_id, job_type, _job = row
    return UnitSummary(
        unit=str(name),
        description=str(description),
        load_state=str(load),
        active_state=str(active),
        sub_state=str(sub),
        job_id=int(str(job_id)) or None,
        job_type=str(job_type) or None,
    )


def select_units(
    units: Iterable[UnitSummary],
    *,
    state: str | None,
    pattern: str | None,
    type_: str | None,
) -> list[UnitSummary]:
    """The units that pass every given filter, sorted by name."""
    return sorted(
        (
            unit
            for unit in units
            if (state is None or state in (unit.active_state, unit.sub_state))
            and (pattern is None or fnmatchcase(unit.unit, pattern))
            and (type_ is None or unit.unit.endswith(f".{type_}"))
        ),
        key=lambda unit: unit.unit,
    )


def _value(props: Mapping[str, Variant], name: str) -> object:
    variant = props.get(name)
    return variant.value if isinstance(variant, Variant) else None


def _text(props: Mapping[str, Variant], name: str) -> str | None:
    value = _value(props, name)
    return value if isinstance(value, str) and value else None


def _number(props: Mapping[str, Variant], name: str) -> int | None:
    value = _value(props, name)
    if not isinstance(value, int) or isinstance(value, bool) or value == _UINT64_UNSET:
        return None
    return value


def _timestamp(props: Mapping[str, Variant], name: str) -> str | None:
    microseconds = _number(props, name)
    if not microseconds:  # 0: it never happened
        return None
    return iso_utc(_EPOCH + timedelta(microseconds=microseconds))


def _load_error(props: Mapping[str, Variant]) -> str | None:
    value = _value(props, "LoadError")  # (ss): D-Bus error name and message, empty if none
    if isinstance(value, list | tuple) and len(value) == 2 and value[0]:
        return f"{value[0]}: {value[1]}"
    return None
