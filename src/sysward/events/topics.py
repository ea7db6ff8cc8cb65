"""Every event topic the product emits, in one place (see SPEC.md "Event envelope")."""

from typing import Final

AGENT_PROMPT: Final = "agent.prompt"
AGENT_LLM_RESPONSE: Final = "agent.llm_response"
AGENT_TOOL_DISPATCH: Final = "agent.tool_dispatch"
AGENT_MESSAGE: Final = "agent.message"
AGENT_TURN_COMPLETED: Final = "agent.turn_completed"
AGENT_ERROR: Final = "agent.error"
AGENT_APPROVAL_REQUESTED: Final = "agent.approval_requested"
AGENT_APPROVAL_DECIDED: Final = "agent.approval_decided"
AGENT_CREATED: Final = "agent.created"
AGENT_DELETED: Final = "agent.deleted"
AGENT_STARTED: Final = "agent.started"
AGENT_STOPPED: Final = "agent.stopped"
TOOL_INOTIFY_EVENT: Final = "tool.inotify.event"
DAEMON_STARTED: Final = "daemon.started"
DAEMON_STOPPING: Final = "daemon.stopping"
DAEMON_RELOADED: Final = "daemon.reloaded"
LOG_CHECKPOINT: Final = "log.checkpoint"
TRIGGER_FIRED: Final = "trigger.fired"
TRIGGER_SUPPRESSED: Final = "trigger.suppressed"
TRIGGER_TOGGLED: Final = "trigger.toggled"
TRIGGER_ERROR: Final = "trigger.error"
CONTROL_AUTH: Final = "control.auth"


def tool_topic(tool_name: str) -> str:
    """The topic of a tool's result events, `tool.<name>`."""
    return f"tool.{tool_name}"
