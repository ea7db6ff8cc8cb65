"""The daemon's settings: `sysward.toml` parsed into validated pydantic models.

A bad file fails with a ConfigError naming the file, the line, the key path and
what is wrong; callers never see a pydantic traceback.
"""

from __future__ import annotations

import os
import re
import string
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from sysward.errors import ConfigError

DEFAULT_CONFIG_PATH = Path("/etc/sysward/sysward.toml")
DEFAULT_STATE_DIR = Path("/var/lib/sysward")
DEFAULT_SOCKET = Path("/run/sysward/sysward.sock")
SOCKET_FILE_NAME = "sysward.sock"

Name = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")]


class _Section(BaseModel):
    # A typo in a key is an error, not a silently ignored setting.
    model_config = ConfigDict(extra="forbid", frozen=True)


class DaemonSettings(_Section):
    """Where the daemon keeps its state and who may talk to it."""

    socket: Path | None = Field(
        None, description="Control socket path; default /run/sysward/sysward.sock"
    )
    state_dir: Path = Field(DEFAULT_STATE_DIR, description="Event log and keys live here")
    allowed_groups: list[str] = Field(
        default_factory=lambda: ["sysward"],
        description="Groups (besides root) whose members may use the control socket",
    )
    checkpoint_interval_s: float = Field(
        300,
        gt=0,
        le=86400,
        description="Seconds between signed log.checkpoint events (only when new events exist)",
    )

    @property
    def socket_path(self) -> Path:
        return self.socket if self.socket is not None else DEFAULT_SOCKET

    @property
    def events_dir(self) -> Path:
        return self.state_dir / "events"

    @property
    def keys_dir(self) -> Path:
        return self.state_dir / "keys"


class LlmEndpoint(_Section):
    """One OpenAI-compatible `/chat/completions` endpoint."""

    base_url: str = Field(pattern=r"^https?://", description="e.g. http://127.0.0.1:11434/v1")
    model: str = Field(min_length=1, description="Model name sent to the server")
    api_key_env: str | None = Field(None, description="Environment variable holding the key")
    api_key_file: Path | None = Field(None, description="File holding the key (systemd creds)")
    tool_calls: Literal["native", "json"] = Field(
        "native",
        description="native: OpenAI tools/tool_calls; json: the model writes "
        '{"tool", "action", "args"} as its content',
    )
    timeout_s: float = Field(120, gt=0, le=3600, description="Seconds per request")
    max_retries: int = Field(
        4, ge=0, le=20, description="Retries of connect errors, timeouts, 408, 429 and 5xx"
    )

    @model_validator(mode="after")
    def _one_key_source(self) -> LlmEndpoint:
        if self.api_key_env is not None and self.api_key_file is not None:
            raise ValueError("set api_key_env or api_key_file, not both")
        return self


class AgentSettings(_Section):
    """An agent declared in config; it starts with the daemon."""

    role: Name = Field("default", description="A role file name (roles/NAME.toml)")
    llm: Name = Field("default", description="An [llm.NAME] endpoint; must be defined")
    max_steps: int = Field(25, ge=1, le=1000, description="LLM calls per turn at most")
    read_only: bool = Field(False, description="Refuse every write action, whatever the rules")


Decision = Literal["allow", "deny", "ask"]


class PolicyRule(_Section):
    """One policy rule; the first rule that matches a tool call decides it."""

    tool: str = Field("*", description="Glob over the tool name")
    action: str = Field("*", description="Glob over the action name")
    match: dict[str, str] = Field(
        default_factory=dict, description="Globs over the call's named string arguments"
    )
    decision: Decision = Field(description="What a matching call gets")
    reason: str = Field("", description="Shown to the model and the operator, and logged")


def _must_be_absolute(path: Path) -> Path:
    if not path.is_absolute():
        raise ValueError(f"must be an absolute path, got {str(path)!r}")
    return path


AbsolutePath = Annotated[Path, AfterValidator(_must_be_absolute)]


class PolicySettings(_Section):
    """Global policy: rules, approvals, redaction and where the file tool may act."""

    rules: list[PolicyRule] = Field(
        default_factory=list, description="Checked in order; the first match decides"
    )
    approval_timeout_s: float = Field(
        3600, gt=0, description="Seconds a pending ask waits before it expires to deny"
    )
    redact_env: list[str] = Field(
        default_factory=list,
        description="Environment variables whose values are never written to the log",
    )
    read_only: bool = Field(False, description="Refuse every write action for every agent")
    allowed_paths: list[AbsolutePath] = Field(
        default_factory=list,
        description="Roots the file tool is confined to (symlinks and .. resolved); "
        "empty: anywhere",
    )


_FIELD = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
TriggerEventName = Literal["create", "delete", "modify", "move", "attrib", "close_write", "all"]
UdevAction = Literal["add", "remove", "change", "move", "bind", "unbind"]
_DEFAULT_UDEV_ACTIONS: tuple[UdevAction, ...] = ("add",)
_DEFAULT_PATH_EVENTS: tuple[TriggerEventName, ...] = ("create", "delete", "modify", "move")


class _TriggerBase(_Section):
    """What every trigger has: whose turn it starts, with what prompt, how often at most."""

    agent: Name = Field(description="The agent whose turn a firing starts")
    prompt: str = Field(
        min_length=1,
        max_length=8000,
        description="The turn's prompt; {field} is replaced by the source event's field",
    )
    debounce_s: float = Field(
        60, ge=0, le=86400, description="After a firing, matching events are suppressed this long"
    )
    max_per_hour: int = Field(6, ge=1, le=3600, description="Firings in any rolling hour at most")
    enabled: bool = Field(True, description="A disabled trigger watches nothing")

    @field_validator("prompt")
    @classmethod
    def _plain_placeholders(cls, prompt: str) -> str:
        try:
            parts = list(string.Formatter().parse(prompt))
        except ValueError as exc:
            raise ValueError(f"prompt is not a valid template ({exc}); write {{{{ for {{") from None
        for _, name, spec, conversion in parts:
            if name is not None and (spec or conversion or not _FIELD.match(name)):
                raise ValueError(
                    f"prompt placeholder {{{name}}} must be a plain field name like {{unit}}"
                )
        return prompt


class UnitTrigger(_TriggerBase):
    """A systemd unit entering an ActiveState (PropertiesChanged on the manager's bus)."""

    source: Literal["unit"]
    unit: str = Field("*", min_length=1, description="Glob over the unit name, e.g. *.service")
    states: list[str] = Field(
        default_factory=lambda: ["failed"],
        min_length=1,
        description="ActiveState values that fire (failed, active, inactive, ...)",
    )
    bus: Literal["system", "user"] = Field("system", description="Which manager to watch")


class UdevTrigger(_TriggerBase):
    """A kernel device event (pyudev monitor) by subsystem, action and properties."""

    source: Literal["udev"]
    subsystem: str | None = Field(None, description="e.g. usb, block, net; None: any")
    actions: list[UdevAction] = Field(
        default_factory=lambda: list(_DEFAULT_UDEV_ACTIONS),
        min_length=1,
        description="Device actions that fire",
    )
    properties: dict[str, str] = Field(
        default_factory=dict, description="Globs over the device's properties (e.g. DEVTYPE)"
    )


class PathTrigger(_TriggerBase):
    """Changes under a path (inotify)."""

    source: Literal["path"]
    path: AbsolutePath = Field(description="An existing file or directory")
    events: list[TriggerEventName] = Field(
        default_factory=lambda: list(_DEFAULT_PATH_EVENTS),
        min_length=1,
        description="Kinds of change that fire; `all` is every kind",
    )
    recursive: bool = Field(False, description="Also watch subdirectories")


class JournalTrigger(_TriggerBase):
    """Journal entries matching fields, followed from where the last run stopped."""

    source: Literal["journal"]
    unit: str | None = Field(None, description="Glob over the unit that logged the entry")
    priority: int | None = Field(
        None, ge=0, le=7, description="Entries at this priority or more severe"
    )
    message: str | None = Field(None, description="A regular expression searched in MESSAGE")
    identifier: str | None = Field(None, description="SYSLOG_IDENTIFIER, exactly")
    directory: AbsolutePath | None = Field(
        None, description="A journal directory to read instead of the host's journal"
    )

    @model_validator(mode="after")
    def _message_compiles(self) -> JournalTrigger:
        if self.message is not None:
            try:
                re.compile(self.message)
            except re.error as exc:
                raise ValueError(f"message is not a valid regular expression: {exc}") from None
        return self


class ScheduleTrigger(_TriggerBase):
    """A calendar expression in systemd's OnCalendar= syntax, optionally with a disk check."""

    source: Literal["schedule"]
    on_calendar: str = Field(min_length=1, description="e.g. daily, *:0/5, Mon *-*-* 09:00")
    disk_path: AbsolutePath | None = Field(
        None, description="Fire only when the filesystem holding this path is fuller than..."
    )
    disk_above_percent: float | None = Field(
        None, gt=0, lt=100, description="...this percentage of its blocks are used"
    )

    @model_validator(mode="after")
    def _disk_check_is_whole(self) -> ScheduleTrigger:
        if (self.disk_path is None) != (self.disk_above_percent is None):
            raise ValueError("set disk_path and disk_above_percent together")
        return self


TRIGGER_SOURCES = ("unit", "udev", "path", "journal", "schedule")
TriggerSettings = Annotated[
    UnitTrigger | UdevTrigger | PathTrigger | JournalTrigger | ScheduleTrigger,
    Field(discriminator="source"),
]


class Settings(_Section):
    """The whole of `sysward.toml`."""

    daemon: DaemonSettings = Field(default_factory=DaemonSettings)
    llm: dict[Name, LlmEndpoint] = Field(default_factory=dict)
    agents: dict[Name, AgentSettings] = Field(default_factory=dict)
    policy: PolicySettings = Field(default_factory=PolicySettings)
    triggers: dict[Name, TriggerSettings] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _agents_use_known_llms(self) -> Settings:
        known = ", ".join(sorted(self.llm)) or "none"
        errors = [
            InitErrorDetails(
                type=PydanticCustomError(
                    "unknown_llm",
                    "names endpoint {llm}, which is not defined (defined: {known})",
                    {"llm": repr(agent.llm), "known": known},
                ),
                loc=("agents", name, "llm"),
                input=agent.llm,
            )
            for name, agent in self.agents.items()
            if agent.llm not in self.llm
        ]
        if errors:
            # A ValidationError keeps each error's location (agents.<name>.llm), so the
            # message can name its line; a ValueError would land at the top level.
            raise ValidationError.from_exception_data(type(self).__name__, errors)
        return self

    def with_state_dir(self, state_dir: Path) -> Settings:
        """Dev mode: everything (log, keys, socket) under one unprivileged directory."""
        daemon = self.daemon.model_copy(
            update={"state_dir": state_dir, "socket": state_dir / SOCKET_FILE_NAME}
        )
        return self.model_copy(update={"daemon": daemon})


def config_path_from_env(explicit: Path | None = None) -> Path:
    """The config file to read: `--config`, then `$SYSWARD_CONFIG`, then the default."""
    if explicit is not None:
        return explicit
    env = os.environ.get("SYSWARD_CONFIG")
    return Path(env) if env else DEFAULT_CONFIG_PATH


def load_settings(path: Path, *, missing_ok: bool = False) -> Settings:
    """Read and validate a config file; `missing_ok` gives defaults when it is absent."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        if missing_ok:
            return Settings()
        raise ConfigError(f"{path}: config file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read config file: {exc}") from None
    return parse_settings(text, source=str(path))


def parse_settings(text: str, *, source: str = "<config>") -> Settings:
    """Validate TOML text as Settings, with errors located at file:line."""
    raw = parse_toml(text, source=source)
    try:
        return Settings.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(describe_validation_error(exc, text, source)) from None


def parse_toml(text: str, *, source: str) -> dict[str, Any]:
    """Parse TOML, turning syntax errors into a ConfigError with the position."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source}: invalid TOML: {exc}") from None


def describe_validation_error(exc: ValidationError, text: str, source: str) -> str:
    """One line per problem: `file:line: key.path: message`."""
    lines = []
    for error in exc.errors():
        loc = [str(part) for part in error["loc"]]
        if len(loc) > 2 and loc[0] == "triggers" and loc[2] in TRIGGER_SOURCES:
            del loc[2]  # the union's tag, not a key of the file
        key = ".".join(loc) or "(top level)"
        line = locate_key(text, loc)
        where = f"{source}:{line}" if line else source
        lines.append(f"{where}: {key}: {error['msg']}")
    return "\n".join(lines)


_TABLE = re.compile(r"^\s*(\[\[?)\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")
_KEY = re.compile(r"^\s*([A-Za-z0-9_\-\"'.]+)\s*=")


def locate_key(text: str, loc: list[str]) -> int | None:
    """Best-effort line number of a key path in TOML text (1-based), for error messages.

    Finds the deepest prefix of `loc` that names a table header or a key inside
    the matching table; good enough to point an operator at the right line.
    """
    best: tuple[int, int] | None = None  # (depth matched, line number)
    table: list[str] = []
    array_counts: dict[str, int] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        header = _TABLE.match(line)
        if header:
            table = _split_dotted(header.group(2))
            if header.group(1) == "[[":
                # Arrays of tables are addressed by index in pydantic's error locations.
                index = array_counts.get(header.group(2), 0)
                array_counts[header.group(2)] = index + 1
                table.append(str(index))
            depth = _common_prefix(table, loc)
            if depth == len(table) and (best is None or depth > best[0]):
                best = (depth, number)
            continue
        key = _KEY.match(line)
        if key:
            path = table + _split_dotted(key.group(1))
            depth = _common_prefix(path, loc)
            if depth == len(path) and (best is None or depth > best[0]):
                best = (depth, number)
    return best[1] if best else None


def _split_dotted(name: str) -> list[str]:
    return [part.strip().strip("\"'") for part in name.split(".")]


def _common_prefix(path: list[str], loc: list[str]) -> int:
    depth = 0
    for a, b in zip(path, loc, strict=False):
        if a != b:
            break
        depth += 1
    return depth
