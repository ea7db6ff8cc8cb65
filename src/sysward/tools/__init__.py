"""Tools: what a model can do on the host, and the registry that runs it safely.

The contract, for anyone writing a tool family (see ``sysward.tools.tool``)::

    from sysward.tools import Effect, Tool, ToolArgs, ToolFailed, action

The registry (``sysward.tools.registry``) offers every action to models with a
JSON Schema built from its args model, and turns every outcome of a call into a
``ToolResult`` (``sysward.tools.result``). Tool families live in their own
modules (``sysward.tools.crypto``, ...) and are imported only by the daemon's
composition root, so importing this package stays cheap.
"""

from sysward.tools.registry import (
    DEFAULT_MAX_OUTPUT_BYTES,
    TOOL_DESCRIPTIONS,
    ActionDescription,
    ToolDescription,
    ToolRegistry,
    UnknownAction,
    UnknownTool,
)
from sysward.tools.result import TOOL_RESULT, ToolErr, ToolErrorBody, ToolOk, ToolResult, tool_error
from sysward.tools.spec import ActionSpec
from sysward.tools.tool import (
    Effect,
    NoArgs,
    Tool,
    ToolArgs,
    ToolDefinitionError,
    ToolFailed,
    action,
)

__all__ = [
    "DEFAULT_MAX_OUTPUT_BYTES",
    "TOOL_DESCRIPTIONS",
    "TOOL_RESULT",
    "ActionDescription",
    "ActionSpec",
    "Effect",
    "NoArgs",
    "Tool",
    "ToolArgs",
    "ToolDefinitionError",
    "ToolDescription",
    "ToolErr",
    "ToolErrorBody",
    "ToolFailed",
    "ToolOk",
    "ToolRegistry",
    "ToolResult",
    "UnknownAction",
    "UnknownTool",
    "action",
    "tool_error",
]
