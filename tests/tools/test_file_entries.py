"""The file tool's stat and list actions, through the registry, on real entries."""

import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import JsonValue

from sysward.tools import ToolOk, ToolRegistry
from sysward.tools.file import FileTool

from .file_calls import ISO_UTC, call, fail


@pytest.fixture
def root(tmp_path: Path) -> Path:
    path = tmp_path / "root"
    path.mkdir()
    return path


@pytest.fixture
def registry(root: Path) -> ToolRegistry:
    return ToolRegistry([FileTool([root])])


@pytest.fixture
def unconfined() -> ToolRegistry:
    return ToolRegistry([FileTool()])


# --- stat --------------------------------------------------------------------------------


async def test_stat_describes_a_file(registry: ToolRegistry, root: Path) -> None:
    path = root / "conf"
    path.write_text("12345")
    path.chmod(0o640)
    os.utime(path, ns=(1_700_000_000_000_000_000, 1_700_000_000_123_456_789))
    output = await call(registry, "stat", path=str(path))
    info = path.stat()
    assert output["type"] == "file" and output["size"] == 5 and output["mode"] == "0640"
    assert (output["uid"], output["gid"]) == (info.st_uid, info.st_gid)
    assert (output["inode"], output["nlink"]) == (info.st_ino, 1)
    assert output["mtime"] == "2023-11-14T22:13:20.123456Z"
    assert ISO_UTC.match(str(output["ctime"]))
    assert output["symlink_target"] is None
    if os.getuid() == 0:
        assert (output["user"], output["group"]) == ("root", "root")


async def test_stat_describes_the_link_unless_asked_to_follow(
    registry: ToolRegistry, root: Path
) -> None:
    (root / "target").write_text("abc")
    (root / "link").symlink_to("target")
    link = await call(registry, "stat", path=str(root / "link"))
    assert (link["type"], link["symlink_target"]) == ("symlink", "target")
    followed = await call(registry, "stat", path=str(root / "link"), follow_symlinks=True)
    assert (followed["type"], followed["size"], followed["path"]) == (
        "file",
        3,
        str(root / "target"),
    )


@pytest.fixture
def unix_socket(root: Path) -> Iterator[Path]:
    path = root / "sock"
    with socket.socket(socket.AF_UNIX) as listener:
        listener.bind(str(path))
        yield path


async def test_stat_names_every_kind_of_entry(
    registry: ToolRegistry, unconfined: ToolRegistry, root: Path, unix_socket: Path
) -> None:
    os.mkfifo(root / "pipe")
    kinds = {
        str(root): "dir",
        str(root / "pipe"): "fifo",
        str(unix_socket): "socket",
    }
    for path, kind in kinds.items():
        assert (await call(registry, "stat", path=path))["type"] == kind
    assert (await call(unconfined, "stat", path="/dev/null"))["type"] == "char"


async def test_a_dangling_link_stats_but_cannot_be_followed(
    registry: ToolRegistry, root: Path
) -> None:
    (root / "dangling").symlink_to(root / "gone")
    assert (await call(registry, "stat", path=str(root / "dangling")))["type"] == "symlink"
    code = await fail(registry, "stat", path=str(root / "dangling"), follow_symlinks=True)
    assert code == "not_found"


async def test_stat_of_a_missing_path_is_not_found(registry: ToolRegistry, root: Path) -> None:
    assert await fail(registry, "stat", path=str(root / "missing")) == "not_found"


@pytest.mark.skipif(os.getuid() != 0, reason="chown to another uid needs root")
async def test_stat_of_an_unknown_owner_has_no_name(registry: ToolRegistry, root: Path) -> None:
    (root / "orphan").write_text("")
    os.chown(root / "orphan", 54321, 54321)
    output = await call(registry, "stat", path=str(root / "orphan"))
    assert (output["uid"], output["user"], output["group"]) == (54321, None, None)


# --- list --------------------------------------------------------------------------------


async def test_list_gives_sorted_entries_with_their_metadata(
    registry: ToolRegistry, root: Path
) -> None:
    (root / "b.conf").write_text("bb")
    (root / "a.txt").write_text("a")
    (root / "dir").mkdir()
    (root / "link").symlink_to("/etc/passwd")  # described, never followed
    output = await call(registry, "list", path=str(root))
    entries = output["entries"]
    assert isinstance(entries, list)
    assert [(e["name"], e["type"]) for e in entries if isinstance(e, dict)] == [
        ("a.txt", "file"),
        ("b.conf", "file"),
        ("dir", "dir"),
        ("link", "symlink"),
    ]
    first, last = entries[0], entries[-1]
    assert isinstance(first, dict) and isinstance(last, dict)
    assert first["size"] == 1 and first["mode"] == "0644" and ISO_UTC.match(str(first["mtime"]))
    assert last["symlink_target"] == "/etc/passwd"
    assert (output["total"], output["truncated"], output["next_offset"]) == (4, False, None)


async def test_list_pages_through_a_directory(registry: ToolRegistry, root: Path) -> None:
    names = [f"f{index:02}" for index in range(25)]
    for name in names:
        (root / name).touch()
    seen: list[str] = []
    offset: JsonValue = 0
    while offset is not None:
        output = await call(registry, "list", path=str(root), limit=10, offset=offset)
        assert output["total"] == 25
        entries = output["entries"]
        assert isinstance(entries, list)
        seen += [str(entry["name"]) for entry in entries if isinstance(entry, dict)]
        offset = output["next_offset"]
    assert seen == names


async def test_list_filters_by_pattern_and_hides_dotfiles_on_request(
    registry: ToolRegistry, root: Path
) -> None:
    for name in ("a.conf", ".hidden.conf", "b.txt", "c.conf"):
        (root / name).touch()
    output = await call(registry, "list", path=str(root), pattern="*.conf", include_hidden=False)
    entries = output["entries"]
    assert isinstance(entries, list)
    assert [e["name"] for e in entries if isinstance(e, dict)] == ["a.conf", "c.conf"]
    assert output["total"] == 2


async def test_a_page_of_long_names_stays_under_the_registry_cap(
    registry: ToolRegistry, root: Path
) -> None:
    for index in range(400):
        (root / f"{index:03}{'n' * 240}").touch()
    result = await registry.invoke("file", "list", {"path": str(root), "limit": 1000})
    assert isinstance(result, ToolOk) and isinstance(result.output, dict)
    assert result.output["truncated"] is True and result.output["total"] == 400
    entries = result.output["entries"]
    assert isinstance(entries, list) and result.output["next_offset"] == len(entries)


async def test_names_that_are_not_utf8_are_shown_replaced(
    registry: ToolRegistry, root: Path
) -> None:
    (root / os.fsdecode(b"bad-\xff-name")).touch()
    output = await call(registry, "list", path=str(root))
    entries = output["entries"]
    assert isinstance(entries, list) and isinstance(entries[0], dict)
    assert entries[0]["name"] == "bad-\ufffd-name"


@pytest.mark.parametrize("limit", [0, 1001, "many"])
async def test_list_limit_is_bounded(registry: ToolRegistry, root: Path, limit: object) -> None:
    assert await fail(registry, "list", path=str(root), limit=limit) == "invalid_args"


async def test_listing_a_file_or_a_missing_directory_fails(
    registry: ToolRegistry, root: Path
) -> None:
    (root / "file").touch()
    assert await fail(registry, "list", path=str(root / "file")) == "not_a_directory"
    assert await fail(registry, "list", path=str(root / "missing")) == "not_found"
