"""The OpenAI-compatible chat client: messages, tool-call codecs (native / json), retries.

The agent loop depends on `ChatModel` and the message types only; `OpenAIChatClient`
is the real implementation, `sysward.llm.scripted` a scripted server to test it.
"""

from sysward.llm.client import OpenAIChatClient
from sysward.llm.errors import (
    LlmCredentialError,
    LlmError,
    LlmProtocolError,
    LlmRejected,
    LlmUnavailable,
)
from sysward.llm.messages import (
    ChatMessage,
    ChatModel,
    LlmReply,
    MalformedCall,
    ToolCall,
    ToolSpec,
    Usage,
)

__all__ = [
    "ChatMessage",
    "ChatModel",
    "LlmCredentialError",
    "LlmError",
    "LlmProtocolError",
    "LlmRejected",
    "LlmReply",
    "LlmUnavailable",
    "MalformedCall",
    "OpenAIChatClient",
    "ToolCall",
    "ToolSpec",
    "Usage",
]
