"""The file tool's changing side (write, append, delete), through the registry, on real files.

Refusals by the OS (immutable files, a full disk) are in test_file_failures.py.
"""

import asyncio
import base64
import hashlib
import os
import stat
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sysward.tools import ToolRegistry
from sysward.tools.file import FileTool

from .file_calls import call, fail, names

IS_ROOT = os.getuid() == 0
needs_root = pytest.mark.skipif(not IS_ROOT, reason="needs root")


@pytest.fixture
def root(tmp_path: Path) -> Path:
    path = tmp_path / "root"
    path.mkdir()
    return path


@pytest.fixture
def registry(root: Path) -> ToolRegistry:
    return ToolRegistry([FileTool([root])])


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


# --- write -------------------------------------------------------------------------------


async def test_write_creates_a_file_with_mode_0644_whatever_the_umask(
    registry: ToolRegistry, root: Path
) -> None:
    old = os.umask(0o077)
    try:
        output = await call(registry, "write", path=str(root / "new.conf"), content="a=1\n")
    finally:
        os.umask(old)
    assert (root / "new.conf").read_text() == "a=1\n"
    assert stat.S_IMODE((root / "new.conf").stat().st_mode) == 0o644
    assert output == {
        "path": str(root / "new.conf"),
        "bytes_written": 4,
        "created": True,
        "mode": "0644",
        "sha256": hashlib.sha256(b"a=1\n").hexdigest(),
    }
    assert names(root) == ["new.conf"]  # no temporary file left


async def test_write_gives_a_new_file_the_requested_mode(
    registry: ToolRegistry, root: Path
) -> None:
    output = await call(registry, "write", path=str(root / "key"), content="k", mode="0600")
    assert output["mode"] == "0600"
    assert stat.S_IMODE((root / "key").stat().st_mode) == 0o600


@needs_root
async def test_replacing_a_file_keeps_its_owner_and_mode(
    registry: ToolRegistry, root: Path
) -> None:
    path = root / "app.conf"
    path.write_text("old")
    os.chown(path, 65534, 65534)
    path.chmod(0o640)
    before = path.stat()
    output = await call(registry, "write", path=str(path), content="new", mode="0777")
    after = path.stat()
    assert path.read_text() == "new"
    assert (after.st_uid, after.st_gid, stat.S_IMODE(after.st_mode)) == (65534, 65534, 0o640)
    assert output["created"] is False and output["mode"] == "0640"
    assert after.st_ino != before.st_ino  # replaced by rename, never rewritten in place


async def test_replacing_a_file_keeps_its_extended_attributes(
    registry: ToolRegistry, root: Path
) -> None:
    path = root / "labelled"
    path.write_text("old")
    try:
        os.setxattr(path, "user.sysward.test", b"kept")
    except OSError as exc:
        pytest.skip(f"no user xattrs on this filesystem: {exc}")
    await call(registry, "write", path=str(path), content="new")
    assert os.getxattr(path, "user.sysward.test") == b"kept"


async def test_write_through_a_symlink_replaces_the_target_and_keeps_the_link(
    registry: ToolRegistry, root: Path
) -> None:
    (root / "real").write_text("old")
    (root / "link").symlink_to("real")
    output = await call(registry, "write", path=str(root / "link"), content="new")
    assert output["path"] == str(root / "real")
    assert (root / "link").is_symlink() and (root / "real").read_text() == "new"


async def test_binary_content_round_trips_through_base64_wrapped_or_not(
    registry: ToolRegistry, root: Path
) -> None:
    data = bytes(range(256)) * 4
    wrapped = "\n".join(b64(data)[i : i + 76] for i in range(0, len(b64(data)), 76))
    for content in (b64(data), wrapped):
        await call(registry, "write", path=str(root / "blob"), content=content, encoding="base64")
        assert (root / "blob").read_bytes() == data
        output = await call(registry, "read", path=str(root / "blob"))
        assert (output["encoding"], output["content"]) == ("base64", b64(data))


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=30)
@given(data=st.binary(max_size=2000))
async def test_any_bytes_written_read_back_identical(
    registry: ToolRegistry, root: Path, data: bytes
) -> None:
    await call(registry, "write", path=str(root / "any"), content=b64(data), encoding="base64")
    output = await call(registry, "read", path=str(root / "any"))
    content = str(output["content"])
    read = base64.b64decode(content) if output["encoding"] == "base64" else content.encode()
    assert read == data


async def test_write_creates_parents_only_when_asked(registry: ToolRegistry, root: Path) -> None:
    path = root / "a" / "b" / "c.conf"
    assert await fail(registry, "write", path=str(path), content="x") == "not_found"
    assert names(root) == []
    await call(registry, "write", path=str(path), content="x", create_parents=True)
    assert path.read_text() == "x"


async def test_write_under_a_file_fails_and_leaves_it_intact(
    registry: ToolRegistry, root: Path
) -> None:
    (root / "file").write_text("keep")
    code = await fail(registry, "write", path=str(root / "file" / "x"), content="new")
    assert code == "not_a_directory"
    assert (root / "file").read_text() == "keep" and names(root) == ["file"]


async def test_write_refuses_directories_and_fifos(registry: ToolRegistry, root: Path) -> None:
    (root / "dir").mkdir()
    os.mkfifo(root / "pipe")
    assert await fail(registry, "write", path=str(root / "dir"), content="x") == "is_a_directory"
    async with asyncio.timeout(5):
        code = await fail(registry, "write", path=str(root / "pipe"), content="x")
    assert code == "not_a_regular_file"
    assert stat.S_ISFIFO((root / "pipe").stat().st_mode)


async def test_write_outside_the_roots_changes_nothing(
    registry: ToolRegistry, root: Path, tmp_path: Path
) -> None:
    outside = tmp_path / "outside.conf"
    outside.write_text("keep")
    (root / "escape").symlink_to(outside)
    for path in (root / "escape", f"{root}/../outside.conf", f"{root}/../new.conf"):
        assert await fail(registry, "write", path=str(path), content="x") == "permission_denied"
    assert outside.read_text() == "keep" and not (tmp_path / "new.conf").exists()


@pytest.mark.parametrize(
    "args",
    [
        {"content": "x"},
        {"path": "relative", "content": "x"},
        {"path": "-rf", "content": "x"},
        {"path": "/tmp/dir/", "content": "x"},
        {"path": "/tmp/x"},
        {"path": "/tmp/x", "content": "a\x00b"},
        {"path": "/tmp/x", "content": "\ud800"},
        {"path": "/tmp/x", "content": "not base64!", "encoding": "base64"},
        {"path": "/tmp/x", "content": "QUJD=", "encoding": "base64"},
        {"path": "/tmp/x", "content": "x", "encoding": "latin-1"},
        {"path": "/tmp/x", "content": "x", "mode": "999"},
        {"path": "/tmp/x", "content": "x", "mode": 644},
        {"path": "/tmp/x", "content": "x", "mode": "u+rwx"},
        {"path": "/tmp/x", "content": "x", "create_parents": "maybe"},
        {"path": "/tmp/x", "content": "x", "owner": "root"},
    ],
    ids=lambda args: ",".join(f"{key}={str(value)[:10]!r}" for key, value in args.items()),
)
async def test_write_refuses_invalid_arguments(
    registry: ToolRegistry, args: dict[str, object]
) -> None:
    assert await fail(registry, "write", **args) == "invalid_args"


@pytest.mark.parametrize("encoding", ["utf-8", "base64"])
async def test_content_over_10_mib_is_refused(
    registry: ToolRegistry, root: Path, encoding: str
) -> None:
    data = b"x" * (10 * 1024 * 1024 + 1)
    content = data.decode() if encoding == "utf-8" else b64(data)
    path = str(root / "big")
    assert await fail(registry, "write", path=path, content=content, encoding=encoding) == (
        "invalid_args"
    )
    assert names(root) == []


# --- append ------------------------------------------------------------------------------


async def test_append_adds_to_the_end(registry: ToolRegistry, root: Path) -> None:
    (root / "log").write_text("one\n")
    output = await call(registry, "append", path=str(root / "log"), content="two\n")
    assert (root / "log").read_text() == "one\ntwo\n"
    assert output == {"path": str(root / "log"), "bytes_appended": 4, "size": 8, "created": False}


async def test_append_creates_a_file_only_when_asked(registry: ToolRegistry, root: Path) -> None:
    path = str(root / "new.log")
    assert await fail(registry, "append", path=path, content="x") == "not_found"
    assert names(root) == []
    output = await call(
        registry, "append", path=path, content=b64(b"\x00\x01"), encoding="base64", create=True
    )
    assert output["created"] is True
    assert (root / "new.log").read_bytes() == b"\x00\x01"
    assert stat.S_IMODE((root / "new.log").stat().st_mode) == 0o644


async def test_append_refuses_directories_and_fifos_without_blocking(
    registry: ToolRegistry, root: Path
) -> None:
    os.mkfifo(root / "pipe")
    async with asyncio.timeout(5):
        assert await fail(registry, "append", path=str(root / "pipe"), content="x") == (
            "not_a_regular_file"
        )
    (root / "dir").mkdir()
    assert await fail(registry, "append", path=str(root / "dir"), content="x") == "is_a_directory"


async def test_append_refuses_bad_base64(registry: ToolRegistry, root: Path) -> None:
    path = str(root / "log")
    assert await fail(registry, "append", path=path, content="@@", encoding="base64") == (
        "invalid_args"
    )


# --- delete ------------------------------------------------------------------------------


async def test_delete_removes_a_file(registry: ToolRegistry, root: Path) -> None:
    (root / "-rf").write_text("a name, not an option")
    output = await call(registry, "delete", path=str(root / "-rf"))
    assert output == {"path": str(root / "-rf"), "type": "file"}
    assert names(root) == []


async def test_delete_removes_a_symlink_not_its_target(
    registry: ToolRegistry, root: Path, tmp_path: Path
) -> None:
    outside = tmp_path / "outside"
    outside.write_text("keep")
    (root / "link").symlink_to(outside)
    output = await call(registry, "delete", path=str(root / "link"))
    assert output["type"] == "symlink"
    assert names(root) == [] and outside.read_text() == "keep"


async def test_delete_refuses_directories(registry: ToolRegistry, root: Path) -> None:
    (root / "dir").mkdir()
    (root / "dir" / "f").touch()
    assert await fail(registry, "delete", path=str(root / "dir")) == "is_a_directory"
    assert names(root / "dir") == ["f"]


async def test_delete_of_a_missing_file_is_not_found(registry: ToolRegistry, root: Path) -> None:
    assert await fail(registry, "delete", path=str(root / "missing")) == "not_found"


async def test_delete_outside_the_roots_is_refused(
    registry: ToolRegistry, root: Path, tmp_path: Path
) -> None:
    (tmp_path / "victim").write_text("keep")
    code = await fail(registry, "delete", path=f"{root}/../victim")
    assert code == "permission_denied"
    assert (tmp_path / "victim").exists()


@pytest.mark.parametrize("path", ["victim", "-rf", "/tmp/dir/", "/tmp/a\x00b"])
async def test_delete_refuses_invalid_paths(registry: ToolRegistry, path: str) -> None:
    assert await fail(registry, "delete", path=path) == "invalid_args"
