"""Arguments and results of the file tool's actions, with their bounds."""

from __future__ import annotations

import base64
import binascii
import re
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from sysward.tools.tool import ToolArgs

MAX_PATH_CHARS = 4096
# A chunk stays under the registry's 64 KiB result cap even base64-encoded (4/3).
MAX_READ_BYTES = 32 * 1024
MAX_CONTENT_BYTES = 10 * 1024 * 1024
MAX_CONTENT_CHARS = (MAX_CONTENT_BYTES + 2) // 3 * 4 + 1024  # base64 of the cap, some newlines
DEFAULT_LIST_LIMIT = 200
MAX_LIST_LIMIT = 1000

Encoding = Literal["utf-8", "base64"]
FileType = Literal["file", "dir", "symlink", "fifo", "socket", "block", "char", "unknown"]

_BASE64 = re.compile(r"^[A-Za-z0-9+/]*={0,2}$")
_PATH = "Absolute path (starts with /); symlinks and .. are resolved"
_ENCODING = "How `content` maps to bytes: utf-8 (the text itself) or base64 (binary data)"


def shown(path: str | Path) -> str:
    """A path as JSON-safe text: bytes that are not UTF-8 become U+FFFD."""
    return str(path).encode("utf-8", "surrogateescape").decode("utf-8", "replace")


_KINDS: tuple[tuple[Callable[[int], bool], FileType], ...] = (
    (stat.S_ISREG, "file"),
    (stat.S_ISDIR, "dir"),
    (stat.S_ISLNK, "symlink"),
    (stat.S_ISFIFO, "fifo"),
    (stat.S_ISSOCK, "socket"),
    (stat.S_ISBLK, "block"),
    (stat.S_ISCHR, "char"),
)


def file_type(mode: int) -> FileType:
    """The kind of entry a ``st_mode`` describes."""
    return next((kind for is_kind, kind in _KINDS if is_kind(mode)), "unknown")


def octal_mode(mode: int) -> str:
    """Permission bits as the four octal digits chmod takes, e.g. "0644"."""
    return f"{stat.S_IMODE(mode):04o}"


def _absolute(path: str) -> str:
    try:
        path.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError("path is not valid UTF-8 text (lone surrogate)") from exc
    if not path.startswith("/"):
        raise ValueError("path must be absolute (start with /)")
    return path


def _names_a_file(path: str) -> str:
    if path.endswith("/"):
        raise ValueError("path ends with /: it must name a file, not a directory")
    return path


AbsolutePath = Annotated[
    str, Field(min_length=1, max_length=MAX_PATH_CHARS), AfterValidator(_absolute)
]
FilePath = Annotated[AbsolutePath, AfterValidator(_names_a_file)]


def content_bytes(content: str, encoding: Encoding) -> bytes:
    """The bytes ``content`` stands for; raises ``ValueError`` for malformed base64."""
    if encoding == "utf-8":
        return content.encode("utf-8")
    # Line breaks are tolerated: base64 is commonly wrapped at 76 columns.
    compact = "".join(content.split())
    if len(compact) % 4 or not _BASE64.match(compact):
        raise ValueError(
            "content is not valid base64 (RFC 4648 standard alphabet A-Z a-z 0-9 + /, "
            "padded with = to a multiple of 4 characters)"
        )
    try:
        return base64.b64decode(compact, validate=True)
    except binascii.Error as exc:
        raise ValueError(f"content is not valid base64: {exc}") from exc


class ReadArgs(ToolArgs):
    """A byte range of a regular file to read."""

    path: AbsolutePath = Field(description=_PATH)
    offset: int = Field(0, ge=0, le=2**62, description="Byte offset to start reading at")
    length: int = Field(
        MAX_READ_BYTES,
        ge=1,
        le=MAX_READ_BYTES,
        description=f"Bytes to read (at most {MAX_READ_BYTES}); continue from next_offset",
    )


class ReadOutput(BaseModel):
    """One chunk of a file: text, or base64 when the bytes are binary."""

    model_config = ConfigDict(frozen=True)

    path: str = Field(description="The real path that was read")
    encoding: Encoding
    content: str
    offset: int
    length: int = Field(description="Bytes in this chunk")
    next_offset: int = Field(description="Offset to read the next chunk from")
    size: int = Field(description="File size as stat reports it (0 for many /proc files)")
    truncated: bool = Field(description="True when the file goes on after this chunk")


class ContentArgs(ToolArgs):
    """Content to put in a file, as text or base64."""

    path: FilePath = Field(description=_PATH)
    content: str = Field(
        max_length=MAX_CONTENT_CHARS,
        description="The content, as text in `encoding` (at most 10 MiB once decoded)",
    )
    encoding: Encoding = Field("utf-8", description=_ENCODING)

    @model_validator(mode="after")
    def _content_decodes_within_cap(self) -> ContentArgs:
        size = len(self.data())
        if size > MAX_CONTENT_BYTES:
            raise ValueError(f"content is {size} bytes, over the {MAX_CONTENT_BYTES}-byte cap")
        return self

    def data(self) -> bytes:
        """The content's bytes."""
        try:
            return content_bytes(self.content, self.encoding)
        except UnicodeEncodeError as exc:
            raise ValueError("content is not valid UTF-8 text (lone surrogate)") from exc


class WriteArgs(ContentArgs):
    """A whole file to write atomically."""

    create_parents: bool = Field(False, description="Create missing parent directories")
    mode: str | None = Field(
        None,
        pattern=r"^[0-7]{3,4}$",
        description='Octal permissions for a new file, e.g. "0600" (default "0644"); '
        "ignored for an existing file, which keeps its own mode and owner",
    )


class WriteOutput(BaseModel):
    """What was written where."""

    model_config = ConfigDict(frozen=True)

    path: str = Field(description="The real path that was written")
    bytes_written: int
    created: bool = Field(description="True when the file did not exist before")
    mode: str = Field(description='Octal permissions of the file, e.g. "0644"')
    sha256: str = Field(description="SHA-256 of the content written, hex")


class AppendArgs(ContentArgs):
    """Content to add at the end of a file."""

    create: bool = Field(False, description="Create the file (mode 0644) if it does not exist")


class AppendOutput(BaseModel):
    """What was appended where."""

    model_config = ConfigDict(frozen=True)

    path: str
    bytes_appended: int
    size: int = Field(description="File size after the append")
    created: bool


class PathArgs(ToolArgs):
    """One file to act on."""

    path: FilePath = Field(description="Absolute path; a final symlink is deleted, not followed")


class DeleteOutput(BaseModel):
    """What was deleted."""

    model_config = ConfigDict(frozen=True)

    path: str
    type: FileType


class StatArgs(ToolArgs):
    """A path to describe."""

    path: AbsolutePath = Field(description="Absolute path")
    follow_symlinks: bool = Field(
        False, description="Describe what a final symlink points to instead of the link itself"
    )


class StatOutput(BaseModel):
    """Metadata of one filesystem entry."""

    model_config = ConfigDict(frozen=True)

    path: str
    type: FileType
    size: int
    mode: str = Field(description='Octal permissions, e.g. "0644"')
    uid: int
    gid: int
    user: str | None = Field(description="Owner's name, null when uid has no passwd entry")
    group: str | None
    mtime: str = Field(description="Last modification, ISO 8601 UTC")
    ctime: str = Field(description="Last status change, ISO 8601 UTC")
    symlink_target: str | None = Field(description="Where a symlink points, as stored")
    inode: int
    nlink: int


class ListArgs(ToolArgs):
    """A directory to list."""

    path: AbsolutePath = Field(description="Absolute path of a directory")
    limit: int = Field(
        DEFAULT_LIST_LIMIT, ge=1, le=MAX_LIST_LIMIT, description="Most entries to return"
    )
    offset: int = Field(
        0, ge=0, le=10**9, description="Skip this many matching entries (for paging)"
    )
    pattern: str | None = Field(
        None, min_length=1, max_length=256, description="Glob on names, e.g. *.conf"
    )
    include_hidden: bool = Field(True, description="Include names starting with a dot")


class ListEntry(BaseModel):
    """One entry of a directory (a symlink is described, not followed)."""

    model_config = ConfigDict(frozen=True)

    name: str
    type: FileType
    size: int
    mode: str
    mtime: str
    symlink_target: str | None = None


class ListOutput(BaseModel):
    """A page of a directory's entries, sorted by name."""

    model_config = ConfigDict(frozen=True)

    path: str
    entries: list[ListEntry]
    total: int = Field(description="Entries matching the filters in all")
    truncated: bool = Field(description="True when more matching entries follow")
    next_offset: int | None = Field(description="Offset for the next page, when truncated")
