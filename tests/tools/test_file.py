"""The file tool's read action and its roots, through the registry, on real files.

stat and list are in test_file_entries.py; write, append and delete in
test_file_changes.py and test_file_failures.py.
"""

import asyncio
import base64
import os
from pathlib import Path

import pytest

from sysward.tools import TOOL_RESULT, ToolErr, ToolOk, ToolRegistry
from sysward.tools.file import FileTool

from .file_calls import call, fail


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


def test_file_offers_the_spec_actions_with_their_effects(registry: ToolRegistry) -> None:
    effects = {spec.action: spec.effect.value for spec in registry.actions()}
    assert effects == {
        "read": "read",
        "write": "write",
        "append": "write",
        "delete": "write",
        "stat": "read",
        "list": "read",
    }


# --- read --------------------------------------------------------------------------------


async def test_read_returns_text_with_its_size(registry: ToolRegistry, root: Path) -> None:
    (root / "motd").write_text("héllo\nworld\n")
    output = await call(registry, "read", path=str(root / "motd"))
    assert output == {
        "path": str(root / "motd"),
        "encoding": "utf-8",
        "content": "héllo\nworld\n",
        "offset": 0,
        "length": 13,
        "next_offset": 13,
        "size": 13,
        "truncated": False,
    }


async def test_reading_in_chunks_never_splits_a_character(
    registry: ToolRegistry, root: Path
) -> None:
    text = "aé€😀" * 300
    (root / "utf8").write_text(text)
    pieces, offset, truncated = [], 0, True
    while truncated:
        output = await call(registry, "read", path=str(root / "utf8"), offset=offset, length=7)
        assert output["encoding"] == "utf-8"
        pieces.append(str(output["content"]))
        offset, truncated = int(str(output["next_offset"])), bool(output["truncated"])
    assert "".join(pieces) == text


@pytest.mark.parametrize(
    "data", [b"\x00\x01\x02binary", b"\xff\xfe not utf-8", b"\x01" * 300], ids=str
)
async def test_binary_or_escape_heavy_data_comes_back_base64(
    registry: ToolRegistry, root: Path, data: bytes
) -> None:
    (root / "blob").write_bytes(data)
    output = await call(registry, "read", path=str(root / "blob"))
    assert output["encoding"] == "base64"
    assert base64.b64decode(str(output["content"])) == data


async def test_a_full_chunk_of_random_bytes_fits_the_registry_cap(
    registry: ToolRegistry, root: Path
) -> None:
    (root / "random").write_bytes(os.urandom(100_000))
    result = await registry.invoke("file", "read", {"path": str(root / "random")})
    assert isinstance(result, ToolOk) and isinstance(result.output, dict)
    assert result.output["length"] == 32 * 1024
    assert result.output["truncated"] is True and result.output["next_offset"] == 32 * 1024


async def test_reading_past_the_end_is_empty(registry: ToolRegistry, root: Path) -> None:
    (root / "short").write_text("abc")
    output = await call(registry, "read", path=str(root / "short"), offset=10)
    assert (output["content"], output["length"], output["truncated"]) == ("", 0, False)


async def test_proc_files_with_size_zero_are_read(unconfined: ToolRegistry) -> None:
    output = await call(unconfined, "read", path="/proc/self/status", length=64)
    assert output["size"] == 0
    assert str(output["content"]).startswith("Name:")
    assert output["truncated"] is True


async def test_reading_a_fifo_is_refused_without_blocking(
    registry: ToolRegistry, root: Path
) -> None:
    os.mkfifo(root / "pipe")
    async with asyncio.timeout(5):
        assert await fail(registry, "read", path=str(root / "pipe")) == "not_a_regular_file"


async def test_reading_a_device_is_refused(unconfined: ToolRegistry) -> None:
    assert await fail(unconfined, "read", path="/dev/zero") == "not_a_regular_file"


async def test_reading_a_directory_is_refused(registry: ToolRegistry, root: Path) -> None:
    assert await fail(registry, "read", path=str(root)) == "is_a_directory"


async def test_reading_a_missing_file_is_not_found(registry: ToolRegistry, root: Path) -> None:
    assert await fail(registry, "read", path=str(root / "missing")) == "not_found"
    assert await fail(registry, "read", path=str(root / "missing" / "deeper")) == "not_found"


async def test_a_file_named_like_an_option_is_just_a_name(
    registry: ToolRegistry, root: Path
) -> None:
    (root / "-rf").write_text("not an option")
    output = await call(registry, "read", path=str(root / "-rf"))
    assert output["content"] == "not an option"


@pytest.mark.parametrize(
    "args",
    [
        {},
        {"path": "relative/file"},
        {"path": "-rf"},
        {"path": ""},
        {"path": 42},
        {"path": "/etc/pass\x00wd"},
        {"path": "/" + "a" * 5000},
        {"path": "/\udcff"},
        {"path": "/x", "offset": -1},
        {"path": "/x", "length": 0},
        {"path": "/x", "length": 32 * 1024 + 1},
        {"path": "/x", "length": "ten"},
        {"path": "/x", "recursive": True},
    ],
    ids=lambda args: ",".join(f"{key}={str(value)[:12]!r}" for key, value in args.items()),
)
async def test_read_refuses_invalid_arguments(
    registry: ToolRegistry, args: dict[str, object]
) -> None:
    result = await registry.invoke("file", "read", args)
    assert isinstance(result, ToolErr) and result.error.code == "invalid_args"


# --- roots -------------------------------------------------------------------------------


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    path = tmp_path / "secret"
    path.write_text("outside the root")
    return path


async def test_a_symlink_leading_outside_the_roots_is_refused(
    registry: ToolRegistry, root: Path, outside: Path
) -> None:
    (root / "escape").symlink_to(outside)
    result = await registry.invoke("file", "read", {"path": str(root / "escape")})
    assert isinstance(result, ToolErr) and result.error.code == "permission_denied"
    assert str(root) in result.error.message  # names the allowed roots
    assert "outside the root" not in TOOL_RESULT.dump_json(result).decode()


async def test_a_symlinked_directory_leading_outside_is_refused(
    registry: ToolRegistry, root: Path, outside: Path
) -> None:
    (root / "dir").symlink_to(outside.parent)
    path = str(root / "dir" / outside.name)
    assert await fail(registry, "read", path=path) == "permission_denied"
    assert await fail(registry, "list", path=str(root / "dir")) == "permission_denied"


async def test_dot_dot_leading_outside_the_roots_is_refused(
    registry: ToolRegistry, root: Path, outside: Path
) -> None:
    path = f"{root}/../{outside.name}"
    assert await fail(registry, "read", path=path) == "permission_denied"
    assert await fail(registry, "stat", path=path) == "permission_denied"


async def test_a_missing_path_outside_is_refused_not_reported_missing(
    registry: ToolRegistry,
) -> None:
    assert await fail(registry, "read", path="/etc/no-such-file") == "permission_denied"


async def test_a_prefix_of_the_root_name_is_not_inside_it(
    registry: ToolRegistry, root: Path
) -> None:
    sibling = root.parent / f"{root.name}-evil"
    sibling.mkdir()
    (sibling / "f").write_text("x")
    assert await fail(registry, "read", path=str(sibling / "f")) == "permission_denied"


async def test_symlinks_and_dot_dots_that_stay_inside_are_followed(
    registry: ToolRegistry, root: Path
) -> None:
    (root / "sub").mkdir()
    (root / "real").write_text("inside")
    (root / "sub" / "alias").symlink_to("../real")
    for path in (root / "sub" / "alias", f"{root}/sub/../real"):
        output = await call(registry, "read", path=str(path))
        assert (output["content"], output["path"]) == ("inside", str(root / "real"))


async def test_a_root_given_through_a_symlink_is_resolved(tmp_path: Path, root: Path) -> None:
    (tmp_path / "root-link").symlink_to(root)
    (root / "f").write_text("ok")
    registry = ToolRegistry([FileTool([tmp_path / "root-link"])])
    assert (await call(registry, "read", path=str(root / "f")))["content"] == "ok"


async def test_a_symlink_loop_is_reported(registry: ToolRegistry, root: Path) -> None:
    (root / "a").symlink_to(root / "b")
    (root / "b").symlink_to(root / "a")
    assert await fail(registry, "read", path=str(root / "a")) == "symlink_loop"


def test_roots_must_be_absolute() -> None:
    with pytest.raises(ValueError, match="absolute"):
        FileTool([Path("relative")])
