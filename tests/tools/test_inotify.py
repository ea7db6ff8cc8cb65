"""The inotify tool with real kernel watches on tmp_path, called through the registry.

Nothing here sleeps to wait for events: ``poll`` with a timeout is the wait,
and ``collect`` repeats it until the expected events arrived or a deadline passed.
"""

import asyncio
import os
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from pydantic import JsonValue

from sysward.tools import TOOL_RESULT, ToolErr, ToolOk, ToolRegistry
from sysward.tools.inotify import InotifyEventOut, InotifyTool

Event = dict[str, JsonValue]
DEADLINE_S = 5.0


@pytest.fixture
async def tool() -> AsyncIterator[InotifyTool]:
    tool = InotifyTool()
    try:
        yield tool
    finally:
        await tool.aclose()


@pytest.fixture
def registry(tool: InotifyTool) -> ToolRegistry:
    return ToolRegistry([tool])


async def call(registry: ToolRegistry, action: str, **args: object) -> dict[str, JsonValue]:
    result = await registry.invoke("inotify", action, args)
    assert isinstance(result, ToolOk), result
    assert isinstance(result.output, dict)
    return result.output


async def fail(registry: ToolRegistry, action: str, args: dict[str, object]) -> ToolErr:
    result = await registry.invoke("inotify", action, args)
    assert isinstance(result, ToolErr), result
    return result


async def watch(registry: ToolRegistry, path: Path, **args: object) -> str:
    output = await call(registry, "watch", path=str(path), **args)
    return str(output["watch_id"])


def events_of(output: dict[str, JsonValue]) -> list[Event]:
    events = output["events"]
    assert isinstance(events, list)
    return [event for event in events if isinstance(event, dict)]


async def collect(
    registry: ToolRegistry, watch_id: str, until: Callable[[list[Event]], bool]
) -> list[Event]:
    """Poll until ``until(events so far)`` holds; fails after DEADLINE_S."""
    seen: list[Event] = []
    async with asyncio.timeout(DEADLINE_S):
        while not until(seen):
            seen += events_of(await call(registry, "poll", watch_id=watch_id, timeout_s=1))
    return seen


def has(path: Path, kind: str) -> Callable[[list[Event]], bool]:
    def check(events: list[Event]) -> bool:
        return any(e["path"] == str(path) and kind in str(e["kinds"]) for e in events)

    return check


def kinds_at(events: list[Event], path: Path) -> list[str]:
    return [str(kind) for e in events if e["path"] == str(path) for kind in _list(e["kinds"])]


async def watches(registry: ToolRegistry) -> dict[str, Event]:
    listed = (await call(registry, "list"))["watches"]
    assert isinstance(listed, list)
    return {str(info["watch_id"]): info for info in listed if isinstance(info, dict)}


def _list(value: JsonValue) -> list[JsonValue]:
    assert isinstance(value, list)
    return value


def open_fds() -> int:
    return sum(1 for _ in Path("/proc/self/fd").iterdir())


# --- catalogue ---------------------------------------------------------------------------


def test_inotify_offers_the_spec_actions_with_their_effects(registry: ToolRegistry) -> None:
    effects = {spec.action: spec.effect.value for spec in registry.actions()}
    assert effects == {"watch": "write", "poll": "read", "stop": "write", "list": "read"}


# --- watch and poll ----------------------------------------------------------------------


async def test_create_modify_delete_of_a_file_are_polled_in_order(
    registry: ToolRegistry, tmp_path: Path
) -> None:
    watch_id = await watch(registry, tmp_path)
    target = tmp_path / "a.txt"
    target.write_text("one")
    target.unlink()
    events = await collect(registry, watch_id, has(target, "delete"))
    assert kinds_at(events, target) == ["create", "modify", "delete"]
    first = events[0]
    assert first["watch_id"] == watch_id and first["is_dir"] is False
    assert first["cookie"] is None and first["synthetic"] is False
    assert str(first["ts"]).endswith("Z")


async def test_a_rename_is_a_moved_from_and_moved_to_pair_with_one_cookie(
    registry: ToolRegistry, tmp_path: Path
) -> None:
    source = tmp_path / "old"
    source.touch()
    watch_id = await watch(registry, tmp_path)
    source.rename(tmp_path / "new")
    events = await collect(registry, watch_id, has(tmp_path / "new", "moved_to"))
    moved_from, moved_to = events
    assert (moved_from["path"], moved_from["kinds"]) == (str(source), ["moved_from"])
    assert moved_to["kinds"] == ["moved_to"]
    assert moved_from["cookie"] == moved_to["cookie"] and moved_from["cookie"]


async def test_only_the_requested_events_are_reported(
    registry: ToolRegistry, tmp_path: Path
) -> None:
    watch_id = await watch(registry, tmp_path, events=["create"])
    (tmp_path / "a").write_text("changed")
    (tmp_path / "marker").touch()
    events = await collect(registry, watch_id, has(tmp_path / "marker", "create"))
    assert [e["kinds"] for e in events] == [["create"], ["create"]]


async def test_close_write_and_attrib_are_reported_when_asked(
    registry: ToolRegistry, tmp_path: Path
) -> None:
    target = tmp_path / "f"
    target.touch()
    watch_id = await watch(registry, tmp_path, events=["close_write", "attrib"])
    target.write_text("x")
    target.chmod(0o600)
    events = await collect(registry, watch_id, has(target, "attrib"))
    assert kinds_at(events, target) == ["close_write", "attrib"]


async def test_poll_waits_for_the_next_event_without_using_its_whole_timeout(
    registry: ToolRegistry, tmp_path: Path
) -> None:
    watch_id = await watch(registry, tmp_path)
    # Created only once the poll below is already waiting.
    asyncio.get_running_loop().call_soon((tmp_path / "late").touch)
    started = asyncio.get_running_loop().time()
    output = await call(registry, "poll", watch_id=watch_id, timeout_s=20)
    assert asyncio.get_running_loop().time() - started < 10
    assert [e["path"] for e in events_of(output)] == [str(tmp_path / "late")]


async def test_poll_without_events_returns_empty_after_its_timeout(
    registry: ToolRegistry, tmp_path: Path
) -> None:
    watch_id = await watch(registry, tmp_path)
    output = await call(registry, "poll", watch_id=watch_id, timeout_s=0.05)
    assert output["events"] == [] and output["remaining"] == 0 and output["truncated"] is False
    assert output["overflow"] is False and output["dropped"] == 0 and output["gone"] is False


async def test_poll_limit_leaves_the_rest_buffered(registry: ToolRegistry, tmp_path: Path) -> None:
    watch_id = await watch(registry, tmp_path, events=["create"])
    for index in range(5):
        (tmp_path / f"f{index}").touch()
    # All five creates are queued before the loop runs the reader, so one read takes them all.
    first = await call(registry, "poll", watch_id=watch_id, timeout_s=DEADLINE_S, limit=2)
    assert len(events_of(first)) == 2
    assert first["remaining"] == 3 and first["truncated"] is True
    rest = await call(registry, "poll", watch_id=watch_id, limit=100)
    assert [e["path"] for e in events_of(rest)] == [str(tmp_path / f"f{i}") for i in (2, 3, 4)]


async def test_a_poll_answer_stays_within_the_registry_output_cap(
    registry: ToolRegistry, tmp_path: Path
) -> None:
    watch_id = await watch(registry, tmp_path, events=["create"])
    for index in range(300):
        (tmp_path / f"{index:03d}{'x' * 240}").touch()
    result = await registry.invoke(
        "inotify", "poll", {"watch_id": watch_id, "timeout_s": DEADLINE_S, "limit": 1000}
    )
    assert isinstance(result, ToolOk) and isinstance(result.output, dict)
    assert 0 < len(events_of(result.output)) < 300 and result.output["truncated"] is True
    assert len(TOOL_RESULT.dump_json(result)) < 64 * 1024


async def test_undecodable_file_names_are_reported_escaped(
    registry: ToolRegistry, tmp_path: Path
) -> None:
    watch_id = await watch(registry, tmp_path, events=["create"])
    fd = os.open(os.fsencode(tmp_path) + b"/bad\xffname", os.O_CREAT | os.O_WRONLY, 0o600)
    os.close(fd)
    result = await registry.invoke("inotify", "poll", {"watch_id": watch_id, "timeout_s": 5})
    assert isinstance(result, ToolOk) and isinstance(result.output, dict)
    (event,) = events_of(result.output)
    assert event["path"] == f"{tmp_path}/bad\\xffname"
    TOOL_RESULT.dump_json(result)  # serialises: no lone surrogates left


async def test_a_symlinked_path_is_watched_at_its_target(
    registry: ToolRegistry, tmp_path: Path
) -> None:
    real = tmp_path / "real"
    real.mkdir()
    (tmp_path / "link").symlink_to(real)
    output = await call(registry, "watch", path=str(tmp_path / "link"))
    assert output["path"] == str(real)


async def test_the_root_directory_can_be_watched(registry: ToolRegistry) -> None:
    output = await call(registry, "watch", path="/", events=["create"])
    assert output["path"] == "/" and output["kernel_watches"] == 1


# --- watched path removed ----------------------------------------------------------------


async def test_deleting_the_watched_directory_marks_the_watch_gone(
    registry: ToolRegistry, tmp_path: Path
) -> None:
    watched = tmp_path / "d"
    watched.mkdir()
    watch_id = await watch(registry, watched)
    watched.rmdir()
    seen: list[Event] = []
    async with asyncio.timeout(DEADLINE_S):
        while True:
            output = await call(registry, "poll", watch_id=watch_id, timeout_s=1)
            seen += events_of(output)
            if output["gone"]:
                break
    assert kinds_at(seen, watched) == ["delete_self"]
    info = (await watches(registry))[watch_id]
    assert info["gone"] is True and info["kernel_watches"] == 0


async def test_deleting_a_watched_file_is_a_delete_self(
    registry: ToolRegistry, tmp_path: Path
) -> None:
    target = tmp_path / "f"
    target.touch()
    watch_id = await watch(registry, target)
    target.unlink()
    events = await collect(registry, watch_id, has(target, "delete_self"))
    assert kinds_at(events, target)[-1] == "delete_self"


# --- recursive ---------------------------------------------------------------------------


async def test_recursive_watch_covers_existing_subdirectories(
    registry: ToolRegistry, tmp_path: Path
) -> None:
    (tmp_path / "a" / "b").mkdir(parents=True)
    output = await call(registry, "watch", path=str(tmp_path), recursive=True)
    assert output["kernel_watches"] == 3 and output["is_complete"] is True
    deep = tmp_path / "a" / "b" / "f"
    deep.touch()
    await collect(registry, str(output["watch_id"]), has(deep, "create"))


async def test_recursive_watch_follows_a_new_subdirectory(
    registry: ToolRegistry, tmp_path: Path
) -> None:
    watch_id = await watch(registry, tmp_path, recursive=True)
    sub = tmp_path / "sub"
    sub.mkdir()
    events = await collect(registry, watch_id, has(sub, "create"))
    assert events[-1]["is_dir"] is True
    inner = sub / "f"
    inner.write_text("x")
    events = await collect(registry, watch_id, has(inner, "modify"))
    # The listing of the new directory may also find f and report a synthetic create.
    real = [e for e in events if e["synthetic"] is False]
    assert kinds_at(real, inner) == ["create", "modify"]


async def test_recursive_watch_reports_a_tree_created_before_it_was_watched(
    registry: ToolRegistry, tmp_path: Path
) -> None:
    watch_id = await watch(registry, tmp_path, recursive=True)
    deep = tmp_path / "a" / "b" / "c"
    deep.mkdir(parents=True)  # faster than the watch on a/ can be added: listing finds b, c
    events = await collect(registry, watch_id, has(deep, "create"))
    assert events[-1]["is_dir"] is True
    (deep / "f").touch()
    await collect(registry, watch_id, has(deep / "f", "create"))


async def test_a_directory_moved_out_of_a_recursive_watch_is_no_longer_watched(
    registry: ToolRegistry, tmp_path: Path
) -> None:
    root, outside = tmp_path / "root", tmp_path / "outside"
    (root / "sub").mkdir(parents=True)
    outside.mkdir()
    output = await call(registry, "watch", path=str(root), recursive=True)
    watch_id = str(output["watch_id"])
    (root / "sub").rename(outside / "sub")
    await collect(registry, watch_id, has(root / "sub", "moved_from"))
    assert (await watches(registry))[watch_id]["kernel_watches"] == 1
    (outside / "sub" / "f").touch()
    (root / "marker").touch()
    events = await collect(registry, watch_id, has(root / "marker", "create"))
    assert all("outside" not in str(e["path"]) for e in events)


async def test_recursive_needs_a_directory(registry: ToolRegistry, tmp_path: Path) -> None:
    (tmp_path / "f").touch()
    args = {"path": str(tmp_path / "f"), "recursive": True}
    assert (await fail(registry, "watch", args)).error.code == "invalid_input"


async def test_recursive_watch_stops_at_the_kernel_watch_cap(tmp_path: Path) -> None:
    for name in "abcde":
        (tmp_path / name).mkdir()
    tool = InotifyTool(max_kernel_watches=3)
    try:
        registry = ToolRegistry([tool])
        output = await call(registry, "watch", path=str(tmp_path), recursive=True)
        assert output["kernel_watches"] == 3 and output["is_complete"] is False
    finally:
        await tool.aclose()


# --- stop and list -----------------------------------------------------------------------


async def test_stop_removes_the_watch_and_its_kernel_watches(
    registry: ToolRegistry, tmp_path: Path
) -> None:
    (tmp_path / "sub").mkdir()
    watch_id = await watch(registry, tmp_path, recursive=True)
    probe = await watch(registry, tmp_path, events=["create"])
    (tmp_path / "unpolled").touch()
    await collect(registry, probe, has(tmp_path / "unpolled", "create"))
    stopped = await call(registry, "stop", watch_id=watch_id)
    assert stopped == {"watch_id": watch_id, "kernel_watches_removed": 2, "discarded_events": 1}
    assert list(await watches(registry)) == [probe]
    assert (await fail(registry, "poll", {"watch_id": watch_id})).error.code == "not_found"
    assert (await fail(registry, "stop", {"watch_id": watch_id})).error.code == "not_found"


async def test_list_describes_each_active_watch(registry: ToolRegistry, tmp_path: Path) -> None:
    watch_id = await watch(registry, tmp_path, events=["create", "create", "modify"])
    # A second watch on the same directory gets each event in the same read as the first:
    # once it has polled the create, the first one holds it buffered.
    probe = await watch(registry, tmp_path, events=["create"])
    (tmp_path / "f").touch()
    await collect(registry, probe, has(tmp_path / "f", "create"))
    info = (await watches(registry))[watch_id]
    assert info["watch_id"] == watch_id and info["path"] == str(tmp_path)
    assert info["events"] == ["create", "modify"] and info["recursive"] is False
    assert info["buffered"] == 1 and info["kernel_watches"] == 1 and info["gone"] is False
    assert str(info["created"]).endswith("Z")


async def test_two_watches_on_one_directory_share_a_kernel_watch_independently(
    registry: ToolRegistry, tmp_path: Path
) -> None:
    creates = await watch(registry, tmp_path, events=["create"])
    modifies = await watch(registry, tmp_path, events=["modify"])
    target = tmp_path / "f"
    target.write_text("x")
    assert kinds_at(await collect(registry, creates, has(target, "create")), target) == ["create"]
    assert kinds_at(await collect(registry, modifies, has(target, "modify")), target) == ["modify"]
    await call(registry, "stop", watch_id=creates)
    target.write_text("y")
    await collect(registry, modifies, has(target, "modify"))


# --- failures and validation -------------------------------------------------------------


async def test_watching_a_missing_path_is_not_found(registry: ToolRegistry, tmp_path: Path) -> None:
    error = (await fail(registry, "watch", {"path": str(tmp_path / "nope")})).error
    assert error.code == "not_found"


async def test_poll_of_an_unknown_watch_is_not_found(registry: ToolRegistry) -> None:
    error = (await fail(registry, "poll", {"watch_id": "w_00000000"})).error
    assert error.code == "not_found" and "inotify.list" in error.message


@pytest.mark.parametrize(
    "args",
    [
        {},
        {"path": "relative/dir"},
        {"path": "-x"},
        {"path": "/tmp\x00/etc"},
        {"path": "/" + "a" * 5000},
        {"path": 42},
        {"path": "/tmp", "events": []},
        {"path": "/tmp", "events": ["open"]},
        {"path": "/tmp", "events": "create"},
        {"path": "/tmp", "events": ["create"] * 8},
        {"path": "/tmp", "recursive": "yes please"},
        {"path": "/tmp", "mask": 4095},
    ],
)
async def test_watch_refuses_invalid_arguments(
    registry: ToolRegistry, args: dict[str, object]
) -> None:
    assert (await fail(registry, "watch", args)).error.code == "invalid_args"


@pytest.mark.parametrize(
    "args",
    [
        {},
        {"watch_id": "-x"},
        {"watch_id": "w_0000000\x00"},
        {"watch_id": "w_" + "0" * 10_000},
        {"watch_id": "w_00000000", "timeout_s": 31},
        {"watch_id": "w_00000000", "timeout_s": -1},
        {"watch_id": "w_00000000", "limit": 1001},
        {"watch_id": "w_00000000", "limit": 0},
    ],
)
async def test_poll_refuses_invalid_arguments(
    registry: ToolRegistry, args: dict[str, object]
) -> None:
    assert (await fail(registry, "poll", args)).error.code == "invalid_args"


async def test_stop_refuses_a_malformed_watch_id(registry: ToolRegistry) -> None:
    assert (await fail(registry, "stop", {"watch_id": "../w"})).error.code == "invalid_args"


async def test_watch_ids_are_capped_per_tool(tmp_path: Path) -> None:
    tool = InotifyTool(max_watches=2)
    try:
        registry = ToolRegistry([tool])
        first = await watch(registry, tmp_path)
        await watch(registry, tmp_path)
        error = (await fail(registry, "watch", {"path": str(tmp_path)})).error
        assert error.code == "limit_reached" and "inotify.stop" in error.message
        await call(registry, "stop", watch_id=first)
        await watch(registry, tmp_path)
    finally:
        await tool.aclose()


async def test_kernel_watches_are_capped_per_tool(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    tool = InotifyTool(max_kernel_watches=1)
    try:
        registry = ToolRegistry([tool])
        await watch(registry, tmp_path)
        error = (await fail(registry, "watch", {"path": str(tmp_path / "a")})).error
        assert error.code == "limit_reached"
        assert len(await watches(registry)) == 1
    finally:
        await tool.aclose()


# --- buffers, overflow, callback, lifecycle ----------------------------------------------


async def test_a_full_buffer_drops_the_oldest_events_and_says_how_many(tmp_path: Path) -> None:
    tool = InotifyTool(max_buffered_events=5)
    try:
        registry = ToolRegistry([tool])
        watch_id = await watch(registry, tmp_path, events=["create"])
        for index in range(8):
            (tmp_path / f"f{index}").touch()
        # The eight creates are read in one go before the poll resumes.
        output = await call(registry, "poll", watch_id=watch_id, timeout_s=DEADLINE_S)
        assert output["dropped"] == 3
        assert [e["path"] for e in events_of(output)] == [
            str(tmp_path / f"f{index}") for index in range(3, 8)
        ]
        assert (await call(registry, "poll", watch_id=watch_id))["dropped"] == 0
    finally:
        await tool.aclose()


def max_queued_events() -> int:
    return int(Path("/proc/sys/fs/inotify/max_queued_events").read_text())


async def test_a_kernel_queue_overflow_is_reported(registry: ToolRegistry, tmp_path: Path) -> None:
    limit = max_queued_events()
    if limit > 200_000:
        pytest.skip(f"fs.inotify.max_queued_events is {limit}: too many events to overflow")
    files = [tmp_path / "a", tmp_path / "b"]
    for path in files:
        path.touch()
    watch_id = await watch(registry, tmp_path, events=["attrib"])
    # Alternating files keep the kernel from merging repeats; the loop never yields, so the
    # reader cannot drain the queue before it overflows.
    for index in range(limit + 100):
        os.utime(files[index % 2])
    overflow = False
    async with asyncio.timeout(DEADLINE_S):
        while not overflow:
            output = await call(registry, "poll", watch_id=watch_id, timeout_s=1, limit=1000)
            overflow = output["overflow"] is True


async def test_the_callback_receives_every_buffered_event(tmp_path: Path) -> None:
    received: list[InotifyEventOut] = []
    tool = InotifyTool(on_event=received.append)
    try:
        registry = ToolRegistry([tool])
        watch_id = await watch(registry, tmp_path)
        (tmp_path / "f").write_text("x")
        events = await collect(registry, watch_id, has(tmp_path / "f", "modify"))
        assert [event.model_dump(mode="json") for event in received] == events
    finally:
        await tool.aclose()


async def test_a_failing_callback_does_not_lose_events(tmp_path: Path) -> None:
    def broken(event: InotifyEventOut) -> None:
        raise RuntimeError("subscriber bug")

    tool = InotifyTool(on_event=broken)
    try:
        registry = ToolRegistry([tool])
        watch_id = await watch(registry, tmp_path, events=["create"])
        (tmp_path / "a").touch()
        (tmp_path / "b").touch()
        await collect(registry, watch_id, has(tmp_path / "b", "create"))
    finally:
        await tool.aclose()


async def test_aclose_closes_the_inotify_fd_and_refuses_further_calls(tmp_path: Path) -> None:
    before = open_fds()
    tool = InotifyTool()
    registry = ToolRegistry([tool])
    try:
        await watch(registry, tmp_path, recursive=True)
        assert open_fds() == before + 1
    finally:
        await tool.aclose()
    assert open_fds() == before
    error = (await fail(registry, "watch", {"path": str(tmp_path)})).error
    assert error.code == "unavailable"
    assert await watches(registry) == {}
