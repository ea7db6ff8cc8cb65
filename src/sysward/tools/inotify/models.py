"""Arguments and results of the inotify tool's actions, and the event kinds it reports."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from inotify_simple import flags
from pydantic import BaseModel, ConfigDict, Field

from sysward.tools.tool import ToolArgs

EventName = Literal["create", "delete", "modify", "move", "attrib", "close_write", "all"]
EventKind = Literal[
    "create",
    "delete",
    "modify",
    "moved_from",
    "moved_to",
    "attrib",
    "close_write",
    "delete_self",
    "move_self",
    "unmount",
]

# What each requested name subscribes to. The *_SELF bits matter for the watched
# path itself (a watched file being deleted is a delete_self, not a delete).
EVENT_MASKS: dict[EventName, int] = {
    "create": flags.CREATE,
    "delete": flags.DELETE | flags.DELETE_SELF,
    "modify": flags.MODIFY,
    "move": flags.MOVED_FROM | flags.MOVED_TO | flags.MOVE_SELF,
    "attrib": flags.ATTRIB,
    "close_write": flags.CLOSE_WRITE,
}
EVENT_MASKS["all"] = sum(EVENT_MASKS.values())

EVENT_KINDS: tuple[tuple[int, EventKind], ...] = (
    (flags.CREATE, "create"),
    (flags.DELETE, "delete"),
    (flags.MODIFY, "modify"),
    (flags.MOVED_FROM, "moved_from"),
    (flags.MOVED_TO, "moved_to"),
    (flags.ATTRIB, "attrib"),
    (flags.CLOSE_WRITE, "close_write"),
    (flags.DELETE_SELF, "delete_self"),
    (flags.MOVE_SELF, "move_self"),
    (flags.UNMOUNT, "unmount"),
)

DEFAULT_EVENTS: tuple[EventName, ...] = ("create", "delete", "modify", "move")
WATCH_ID_PATTERN = r"^w_[0-9a-f]{8}$"
MAX_POLL_LIMIT = 1000


def kinds_of(mask: int) -> list[EventKind]:
    """The names of the event bits set in ``mask``."""
    return [kind for bit, kind in EVENT_KINDS if mask & bit]


def display_path(path: str) -> str:
    """A path safe for JSON: undecodable bytes (kept as surrogates) become \\xNN escapes."""
    return path.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


class Frozen(BaseModel):
    """Base of results: immutable data."""

    model_config = ConfigDict(frozen=True)


WatchId = Annotated[
    str, Field(pattern=WATCH_ID_PATTERN, description="A watch_id returned by inotify.watch")
]


class WatchArgs(ToolArgs):
    """A path to watch and what to watch it for."""

    path: str = Field(
        max_length=4096,
        pattern=r"^/",
        description="Absolute path of an existing directory (or file) to watch",
    )
    events: list[EventName] = Field(
        default=list(DEFAULT_EVENTS),
        min_length=1,
        max_length=7,
        description=(
            "What to report: create, delete, modify, move (moved_from/moved_to), attrib, "
            "close_write, or all of them"
        ),
    )
    recursive: bool = Field(
        False,
        description="Also watch subdirectories, existing ones and those created later",
    )


class WatchStarted(Frozen):
    """A new watch; poll it with its watch_id."""

    watch_id: str
    path: str = Field(description="The watched path, symlinks resolved")
    events: list[EventName]
    recursive: bool
    kernel_watches: int = Field(description="Directories (and files) watched for this id")
    is_complete: bool = Field(
        description="False when some subdirectories could not be watched (a cap or an error)"
    )


class InotifyEventOut(Frozen):
    """One change under a watched path."""

    watch_id: str
    ts: datetime = Field(description="When sysward read the event (UTC)")
    path: str = Field(description="Full path of the file or directory the event is about")
    kinds: list[EventKind]
    is_dir: bool
    cookie: int | None = Field(description="Pairs a moved_from with its moved_to; else null")
    synthetic: bool = Field(
        description=(
            "True for a create reported because a new directory's listing found the entry "
            "(it may have appeared before the directory was watched, or repeat a real create)"
        )
    )


class PollArgs(ToolArgs):
    """Which watch to read events from, and how long to wait for them."""

    watch_id: WatchId
    timeout_s: float = Field(
        0, ge=0, le=30, description="Seconds to wait when nothing is buffered (0: do not wait)"
    )
    limit: int = Field(
        100, ge=1, le=MAX_POLL_LIMIT, description=f"Most events to return (1..{MAX_POLL_LIMIT})"
    )


class Polled(Frozen):
    """Events taken from a watch's buffer, oldest first."""

    watch_id: str
    events: list[InotifyEventOut]
    remaining: int = Field(description="Events still buffered; poll again to get them")
    truncated: bool = Field(description="True when events remain buffered after this batch")
    overflow: bool = Field(
        description="The kernel queue overflowed since the last poll: events were lost"
    )
    dropped: int = Field(
        description="Oldest events discarded since the last poll because the buffer was full"
    )
    gone: bool = Field(description="The watched path was deleted or unmounted; stop the watch")


class StopArgs(ToolArgs):
    """The watch to remove."""

    watch_id: WatchId


class Stopped(Frozen):
    """A removed watch."""

    watch_id: str
    kernel_watches_removed: int = Field(
        description="Kernel watches the watch held (one another watch shares stays in place)"
    )
    discarded_events: int = Field(description="Buffered events that were never polled")


class WatchInfo(Frozen):
    """An active watch."""

    watch_id: str
    path: str
    events: list[EventName]
    recursive: bool
    created: datetime
    buffered: int
    kernel_watches: int
    is_complete: bool
    overflow: bool
    dropped: int
    gone: bool


class WatchList(Frozen):
    """Every watch this tool holds."""

    watches: list[WatchInfo]
