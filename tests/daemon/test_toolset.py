"""The daemon's tools from settings: `policy.allowed_paths` confines the file tool."""

from __future__ import annotations

from pathlib import Path

import pytest

from sysward.config import parse_settings
from sysward.daemon.toolset import daemon_tools, tool_options
from sysward.errors import ConfigError
from sysward.tools.file import FileTool
from sysward.tools.file.models import ReadArgs
from sysward.tools.tool import ToolFailed


def file_tool(config: str) -> FileTool:
    (tool,) = [tool for tool in daemon_tools(parse_settings(config)) if isinstance(tool, FileTool)]
    return tool


def test_without_allowed_paths_the_file_tool_is_not_confined() -> None:
    assert tool_options(parse_settings("")).file_roots is None
    assert file_tool("").confinement.roots is None


async def test_allowed_paths_become_the_file_tools_roots(tmp_path: Path) -> None:
    allowed = tmp_path / "allowed"
    allowed.mkdir()
    (allowed / "ok.txt").write_text("inside")
    (tmp_path / "secret").write_text("outside")
    tool = file_tool(f'[policy]\nallowed_paths = ["{allowed}"]\n')
    assert tool.confinement.roots == (allowed,)
    inside = await tool.read(ReadArgs(path=str(allowed / "ok.txt")))
    assert inside.content == "inside"
    with pytest.raises(ToolFailed, match="outside the allowed roots"):
        await tool.read(ReadArgs(path=f"{allowed}/../secret"))


def test_a_relative_allowed_path_is_a_config_error_naming_its_line() -> None:
    config = '[daemon]\nstate_dir = "/tmp/s"\n\n[policy]\nallowed_paths = ["/srv", "etc"]\n'
    with pytest.raises(ConfigError) as refused:
        parse_settings(config, source="/etc/sysward/sysward.toml")
    assert str(refused.value) == (
        "/etc/sysward/sysward.toml:5: policy.allowed_paths.1: "
        "Value error, must be an absolute path, got 'etc'"
    )
