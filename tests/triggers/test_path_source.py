"""PathSource with real inotify watches on tmp_path.

Waits are conditions with a bound: ``Seen.first`` wakes on each emitted event
until the expected one arrived or the deadline passed.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from sysward.config import PathTrigger
from sysward.tools.inotify import InotifyTool
from sysward.tools.tool import NoArgs
from sysward.triggers.source import SourceEvent, SourceUnavailable
from sysward.triggers.sources.path import PathSource

DEADLINE_S = 10.0
STORM_FILES = 5000
# Generous: a slow CI machine, not the source, is what could take long.
STORM_DEADLINE_S = 60.0


def trigger(path: Path, *, recursive: bool = False) -> PathTrigger:
    return PathTrigger(
        source="path", agent="ops", prompt="{path} changed", path=path, recursive=recursive
    )


class Seen:
    """The events a source emitted, and a wait for the one a test expects."""

    def __init__(self) -> None:
        self.events: list[SourceEvent] = []
        self._changed = asyncio.Event()

    def emit(self, event: SourceEvent) -> None:
        self.events.append(event)
        self._changed.set()

    async def first(self, condition: Callable[[SourceEvent], bool]) -> SourceEvent:
        """The first event for which ``condition`` holds; fails after DEADLINE_S."""
        async with asyncio.timeout(DEADLINE_S):
            while True:
                for event in self.events:
                    if condition(event):
                        return event
                self._changed.clear()
                await self._changed.wait()


async def watching_tool(source: PathSource) -> InotifyTool:
    """The source's tool, once its watch is in place."""
    async with asyncio.timeout(DEADLINE_S):
        # No event tells that the watch is in place: the tool's list shows it.
        while source.tool is None or not (await source.tool.list(NoArgs())).watches:  # noqa: ASYNC110
            await asyncio.sleep(0.01)
    return source.tool


@asynccontextmanager
async def running(source: PathSource, seen: Seen) -> AsyncIterator[InotifyTool]:
    """Run the source in a task, its watch in place; cancel it and check it ended cleanly."""
    task = asyncio.create_task(source.run(seen.emit))
    try:
        yield await watching_tool(source)
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    assert source.tool is None


async def test_creating_a_file_emits_its_path_and_create(tmp_path: Path) -> None:
    seen = Seen()
    created = tmp_path / "new.conf"
    async with running(PathSource(trigger(tmp_path)), seen):
        created.write_text("x")
        event = await seen.first(lambda e: e.fields["path"] == str(created))
    assert event.key is None
    assert "create" in event.fields["kinds"].split(",")
    assert event.fields["is_dir"] == "false"
    assert event.fields["watched"] == str(tmp_path)


async def test_a_missing_path_is_unavailable(tmp_path: Path) -> None:
    missing = tmp_path / "gone"
    missing.mkdir()
    settings = trigger(missing)
    missing.rmdir()
    with pytest.raises(SourceUnavailable, match="does not exist"):
        await asyncio.wait_for(PathSource(settings).run(lambda event: None), DEADLINE_S)


async def test_deleting_the_watched_path_makes_the_source_unavailable(tmp_path: Path) -> None:
    watched = tmp_path / "watched"
    watched.mkdir()
    source = PathSource(trigger(watched))
    task = asyncio.create_task(source.run(lambda event: None))
    await watching_tool(source)
    watched.rmdir()
    with pytest.raises(SourceUnavailable, match="deleted"):
        await asyncio.wait_for(task, DEADLINE_S)
    assert source.tool is None


async def test_a_storm_is_delivered_with_the_tool_buffer_capped(tmp_path: Path) -> None:
    storm = tmp_path / "storm"
    storm.mkdir()
    paths = [str(storm / f"f{i}") for i in range(STORM_FILES)]
    pending = set(paths)
    source = PathSource(trigger(storm, recursive=True))
    task = asyncio.create_task(source.run(lambda event: pending.discard(event.fields["path"])))
    try:
        tool = await watching_tool(source)
        cap = tool.max_buffered_events
        assert cap <= 100, "the source must not let the tool keep what it already emitted"
        # Files are made in a thread so the loop reads events while the storm goes on.
        writing = asyncio.create_task(asyncio.to_thread(_create_files, paths))
        largest = 0
        async with asyncio.timeout(STORM_DEADLINE_S):
            while pending or not writing.done():
                watch = (await tool.list(NoArgs())).watches[0]
                largest = max(largest, watch.buffered)
                assert not watch.overflow, "the loop fell behind the kernel queue"
                await asyncio.sleep(0.005)
        await writing
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    assert largest <= cap


def _create_files(paths: list[str]) -> None:
    for path in paths:
        Path(path).touch()
