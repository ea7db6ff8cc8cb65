"""Arguments and results of the proc tool's actions, with their bounds."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator

from sysward.tools.tool import ToolArgs

# Linux's PID_MAX_LIMIT (2^22): no pid is ever larger, so anything above is a typo or a probe.
PID_MAX_LIMIT = 4 * 1024 * 1024
MAX_LIST_LIMIT = 500
MAX_TREE_NODES = 500
MAX_TREE_DEPTH = 32
MAX_WAIT_S = 30.0

SignalName = Literal["TERM", "KILL", "HUP", "INT", "QUIT", "USR1", "USR2", "STOP", "CONT"]
SortKey = Literal["cpu", "memory", "pid", "name"]


def _refuse_bool(value: object) -> object:
    # JSON `true` would otherwise become pid 1; a model that sends it meant something else.
    if isinstance(value, bool):
        raise ValueError("a pid is an integer, not a boolean")
    return value


# The bounds come before the validator so the JSON Schema shows them as minimum/maximum.
Pid = Annotated[
    int,
    Field(ge=1, le=PID_MAX_LIMIT, description="Process id, as listed by proc.list"),
    BeforeValidator(_refuse_bool),
]


class ListArgs(ToolArgs):
    """Which processes to list, and in what order."""

    sort_by: SortKey = Field(
        "cpu",
        description="Order: cpu (highest cpu_percent first), memory (largest rss first), "
        "pid (ascending) or name (alphabetical)",
    )
    limit: int = Field(50, ge=1, le=MAX_LIST_LIMIT, description="Most processes to return")
    name: str | None = Field(
        None,
        min_length=1,
        max_length=256,
        description="Keep processes whose name contains this text (case-insensitive), "
        "or matches it as a shell glob when it has *, ? or [ (e.g. 'nginx*')",
    )
    user: str | None = Field(
        None,
        min_length=1,
        max_length=64,
        pattern=r"^[A-Za-z0-9_][A-Za-z0-9_.@$-]*$",
        description="Keep processes owned by this user name (exact match)",
    )


class ProcessEntry(BaseModel):
    """One process in a listing; a null field could not be read (access denied, zombie)."""

    model_config = ConfigDict(frozen=True)

    pid: int
    ppid: int | None
    name: str | None
    user: str | None
    status: str | None
    cpu_percent: float | None
    rss_bytes: int | None
    memory_percent: float | None
    num_threads: int | None
    create_time: str | None
    cmdline: str | None


class ProcessList(BaseModel):
    """The processes that matched, the first ``limit`` in ``sort_by`` order."""

    model_config = ConfigDict(frozen=True)

    processes: list[ProcessEntry]
    total: int = Field(description="Processes that matched the filters")
    truncated: bool = Field(description="True when fewer than `total` are returned")
    cpu_sample_s: float = Field(description="Interval cpu_percent was measured over")
    cmdline_max_chars: int


class InfoArgs(ToolArgs):
    """The process to describe."""

    pid: Pid


class MemoryInfo(BaseModel):
    """Memory of a process, in bytes (``/proc/PID/statm``)."""

    model_config = ConfigDict(frozen=True)

    rss_bytes: int
    vms_bytes: int
    shared_bytes: int
    text_bytes: int
    data_bytes: int
    percent: float


class CpuTimes(BaseModel):
    """CPU time a process (and its waited-for children) used, in seconds."""

    model_config = ConfigDict(frozen=True)

    user_s: float
    system_s: float
    children_user_s: float
    children_system_s: float
    iowait_s: float


class IdSet(BaseModel):
    """Real, effective and saved user or group ids."""

    model_config = ConfigDict(frozen=True)

    real: int
    effective: int
    saved: int


class CgroupEntry(BaseModel):
    """One line of ``/proc/PID/cgroup``: hierarchy id, controllers, path."""

    model_config = ConfigDict(frozen=True)

    hierarchy_id: int
    controllers: list[str]
    path: str


class ProcessInfo(BaseModel):
    """Details of one process; null means it could not be read. The environment is omitted."""

    model_config = ConfigDict(frozen=True)

    pid: int
    name: str | None
    status: str | None
    exe: str | None
    cmdline: list[str] | None
    cmdline_truncated: bool
    cwd: str | None
    user: str | None
    uids: IdSet | None
    gids: IdSet | None
    terminal: str | None
    ppid: int | None
    parent_name: str | None
    children: list[int]
    children_truncated: bool
    memory: MemoryInfo | None
    cpu_times: CpuTimes | None
    num_threads: int | None
    num_fds: int | None
    open_files_count: int | None
    connections_count: int | None
    cgroups: list[CgroupEntry] | None
    create_time: str | None
    nice: int | None


class TreeArgs(ToolArgs):
    """Where the tree starts and how much of it to return."""

    pid: Pid = Field(1, description="Root of the tree (default 1: every user-space process)")
    max_depth: int = Field(
        8, ge=1, le=MAX_TREE_DEPTH, description="Levels of descendants below the root to show"
    )
    limit: int = Field(200, ge=1, le=MAX_TREE_NODES, description="Most nodes to return")


class TreeNode(BaseModel):
    """A process and the children shown below it."""

    model_config = ConfigDict(frozen=True)

    pid: int
    name: str | None
    children: list[TreeNode]
    hidden_children: int = Field(description="Children not shown (depth or node limit)")


class ProcessTree(BaseModel):
    """The tree below ``root``, breadth-first up to the depth and node limits."""

    model_config = ConfigDict(frozen=True)

    root: TreeNode
    nodes: int = Field(description="Nodes returned")
    truncated: bool = Field(description="True when some descendants were left out")


class SignalArgs(ToolArgs):
    """The process to signal, the signal, and how long to wait for it to exit."""

    pid: Annotated[int, BeforeValidator(_refuse_bool)] = Field(
        ge=-PID_MAX_LIMIT,
        le=PID_MAX_LIMIT,
        description="Process id; pid 1, pid <= 0 (process groups), the daemon and its "
        "ancestors are refused",
    )
    signal: SignalName = Field(
        "TERM",
        description="Signal name (TERM asks to exit, KILL forces it, HUP often reloads, "
        "STOP/CONT pause/resume); numbers are refused",
    )
    wait_s: float = Field(
        2.0,
        ge=0,
        le=MAX_WAIT_S,
        description="For TERM, KILL, INT and QUIT: seconds to wait for the process to exit",
    )

    @field_validator("signal", mode="before")
    @classmethod
    def _canonical_name(cls, value: object) -> object:
        # "SIGTERM" and "term" are what people write; numbers stay refused by the Literal.
        if isinstance(value, str):
            upper = value.strip().upper()
            return upper.removeprefix("SIG")
        return value


class SignalSent(BaseModel):
    """The signal that was sent, and what became of the process."""

    model_config = ConfigDict(frozen=True)

    pid: int
    name: str | None
    signal: SignalName
    is_alive: bool = Field(description="False once the process has exited (zombies count)")
    waited_ms: int
    status: str | None = Field(description="Process status read after sending, if alive")


def iso_utc(timestamp: float | None) -> str | None:
    """A Unix time as ISO 8601 in UTC, the form every time in a result takes."""
    if timestamp is None:
        return None
    return datetime.fromtimestamp(timestamp, UTC).isoformat()
