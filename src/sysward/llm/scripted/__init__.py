"""A scripted OpenAI-compatible server for tests and demos (`python -m sysward.llm.scripted`)."""

from sysward.llm.scripted.script import (
    ScriptedDrop,
    ScriptedHang,
    ScriptedReply,
    ScriptedResponse,
    completion,
    error_reply,
    json_call_completion,
    load_script,
    native_call,
    parse_script,
    text_completion,
    tool_calls_completion,
)
from sysward.llm.scripted.server import (
    CHAT_PATH,
    RecordedRequest,
    ScriptedLlmServer,
    ScriptedServerError,
)

__all__ = [
    "CHAT_PATH",
    "RecordedRequest",
    "ScriptedDrop",
    "ScriptedHang",
    "ScriptedLlmServer",
    "ScriptedReply",
    "ScriptedResponse",
    "ScriptedServerError",
    "completion",
    "error_reply",
    "json_call_completion",
    "load_script",
    "native_call",
    "parse_script",
    "text_completion",
    "tool_calls_completion",
]
