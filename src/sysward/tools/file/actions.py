"""The file tool: read, write, append, delete, stat and list files on the host."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import TypeVar

from sysward.tools.file.confinement import Confinement
from sysward.tools.file.entries import list_directory, stat_path
from sysward.tools.file.failures import os_failure
from sysward.tools.file.models import (
    AppendArgs,
    AppendOutput,
    DeleteOutput,
    ListArgs,
    ListOutput,
    PathArgs,
    ReadArgs,
    ReadOutput,
    StatArgs,
    StatOutput,
    WriteArgs,
    WriteOutput,
)
from sysward.tools.file.reading import read_chunk
from sysward.tools.file.writing import append_file, delete_file, write_file
from sysward.tools.tool import Effect, Tool, action

_Result = TypeVar("_Result")


class FileTool(Tool):
    """Read, write, append, delete, stat and list files by absolute path.

    Paths are resolved (symlinks, ..) before use; when the daemon configures
    roots, only paths that really lead inside them are allowed. Binary data
    travels base64-encoded. Writes are atomic and synced to disk.
    """

    name = "file"

    def __init__(self, roots: Sequence[Path] | None = None) -> None:
        self.confinement = Confinement(roots)

    @action(effect=Effect.READ)
    async def read(self, args: ReadArgs) -> ReadOutput:
        """Read part of a regular file: text as utf-8, binary data as base64.

        Read on from next_offset while truncated is true.
        """
        return await self._blocking(args.path, partial(read_chunk, self.confinement, args))

    @action(effect=Effect.WRITE)
    async def write(self, args: WriteArgs) -> WriteOutput:
        """Replace a file's whole content (or create it), atomically.

        An existing file keeps its owner and mode; a crash never leaves it half-written.
        """
        return await self._blocking(args.path, partial(write_file, self.confinement, args))

    @action(effect=Effect.WRITE)
    async def append(self, args: AppendArgs) -> AppendOutput:
        """Add content at the end of a file; creates it only with create: true."""
        return await self._blocking(args.path, partial(append_file, self.confinement, args))

    @action(effect=Effect.WRITE)
    async def delete(self, args: PathArgs) -> DeleteOutput:
        """Delete a file or a symlink (not its target). Directories are refused."""
        return await self._blocking(args.path, partial(delete_file, self.confinement, args))

    @action(effect=Effect.READ)
    async def stat(self, args: StatArgs) -> StatOutput:
        """Type, size, mode, owner, times, inode and link target of a path."""
        return await self._blocking(args.path, partial(stat_path, self.confinement, args))

    @action(effect=Effect.READ)
    async def list(self, args: ListArgs) -> ListOutput:
        """Entries of a directory sorted by name, with type, size, mode and mtime.

        Page with offset while truncated is true.
        """
        return await self._blocking(args.path, partial(list_directory, self.confinement, args))

    async def _blocking(self, path: str, operation: Callable[[], _Result]) -> _Result:
        # Filesystem calls can stall (NFS, a busy disk): never on the event loop.
        try:
            return await asyncio.to_thread(operation)
        except OSError as exc:
            raise os_failure(exc, path) from exc
