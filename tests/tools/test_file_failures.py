"""Changes the OS refuses midway leave files as they were, and say why.

Root bypasses file permissions, so these use refusals that bind root too:
the immutable attribute (chattr +i) and a full filesystem (a small tmpfs
mounted in a private mount namespace, invisible to the rest of the host).
"""

import asyncio
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from sysward.tools import ToolRegistry
from sysward.tools.file import FileTool

from .file_calls import fail, names

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


# --- refusals root cannot override -------------------------------------------------------


@pytest.fixture
def immutable(root: Path) -> Iterator[Path]:
    """A file with the immutable attribute, which even root cannot change or replace."""
    path = root / "locked.conf"
    path.write_text("original")
    if shutil.which("chattr") is None:
        pytest.skip("chattr is not installed")
    if subprocess.run(["chattr", "+i", str(path)], capture_output=True).returncode != 0:
        pytest.skip("cannot set the immutable attribute here (needs root on ext4/xfs/btrfs)")
    try:
        yield path
    finally:
        subprocess.run(["chattr", "-i", str(path)], check=True)


async def test_a_write_failing_at_the_rename_leaves_the_original_and_no_temporary(
    registry: ToolRegistry, root: Path, immutable: Path
) -> None:
    code = await fail(registry, "write", path=str(immutable), content="new" * 1000)
    assert code == "permission_denied"
    assert await asyncio.to_thread(immutable.read_text) == "original"
    assert names(root) == ["locked.conf"]


async def test_append_and_delete_of_an_immutable_file_are_refused(
    registry: ToolRegistry, immutable: Path
) -> None:
    assert await fail(registry, "append", path=str(immutable), content="x") == "permission_denied"
    assert await fail(registry, "delete", path=str(immutable)) == "permission_denied"
    assert await asyncio.to_thread(immutable.read_text) == "original"


NO_SPACE_SCRIPT = """
import asyncio, json, sys
from pathlib import Path
from sysward.tools import TOOL_RESULT, ToolRegistry
from sysward.tools.file import FileTool

root = Path(sys.argv[1])
target = root / "config"
target.write_text("original")

async def main() -> None:
    registry = ToolRegistry([FileTool([root])])
    result = await registry.invoke("file", "write", {"path": str(target), "content": "x" * 2**20})
    print(json.dumps({
        "result": json.loads(TOOL_RESULT.dump_json(result)),
        "content": target.read_text(),
        "names": sorted(path.name for path in root.iterdir()),
    }))

asyncio.run(main())
"""


@needs_root
async def test_a_write_failing_midway_on_a_full_disk_leaves_the_original(tmp_path: Path) -> None:
    if shutil.which("unshare") is None:
        pytest.skip("unshare is not installed")
    mount_point = tmp_path / "small"
    mount_point.mkdir()
    # The tmpfs exists only in the child's private mount namespace: gone when it exits.
    shell = 'mount -t tmpfs -o size=256k tmpfs "$1" && exec "$2" -c "$3" "$1"'
    process = await asyncio.create_subprocess_exec(
        *("unshare", "--mount", "--propagation", "private", "sh", "-c", shell, "sh"),
        *(str(mount_point), sys.executable, NO_SPACE_SCRIPT),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        async with asyncio.timeout(15):
            stdout, stderr = await process.communicate()
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode == 0, stderr.decode()
    report = json.loads(stdout)
    assert report["result"]["ok"] is False
    assert report["result"]["error"]["code"] == "no_space"
    assert report["content"] == "original"
    assert report["names"] == ["config"]
