"""Helpers shared by the file tool's test modules: call an action, expect success or failure."""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import JsonValue

from sysward.tools import TOOL_RESULT, ToolErr, ToolOk, ToolRegistry

ISO_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")


async def call(registry: ToolRegistry, action: str, **args: object) -> dict[str, JsonValue]:
    result = await registry.invoke("file", action, args)
    assert isinstance(result, ToolOk), result
    assert isinstance(result.output, dict)
    return result.output


async def fail(registry: ToolRegistry, action: str, **args: object) -> str:
    result = await registry.invoke("file", action, args)
    assert isinstance(result, ToolErr), result
    assert len(TOOL_RESULT.dump_json(result)) < 4000
    return result.error.code


def names(directory: Path) -> list[str]:
    return sorted(path.name for path in directory.iterdir())
