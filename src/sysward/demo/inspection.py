"""What the scripted demo model does: a fixed read-only inspection, then a report.

The model is a pure function of the request. It looks at the conversation since
the last user message, calls the next inspection tool it has not called yet (if
the daemon offers it), and once all are done answers with a report built from
the results. A resumed daemon that sends the same conversation again therefore
gets the same reply it would have got before the crash.
"""

from __future__ import annotations

from typing import NamedTuple

from pydantic import BaseModel, ConfigDict, Field, JsonValue

from sysward.demo.findings import MODEL_LABEL, compose_answer
from sysward.llm.scripted import completion, native_call


class InspectionStep(NamedTuple):
    function: str
    args: dict[str, JsonValue]
    purpose: str


# Calls that work unprivileged and without systemd or udevd running: /proc, /sys,
# a world-readable file. The systemd tool is left out because many hosts that
# run the demo (containers, CI VMs) have no system bus.
PLAN = (
    InspectionStep("proc_list", {"sort_by": "cpu", "limit": 5}, "the busiest processes"),
    InspectionStep("net_interfaces", {}, "the network interfaces"),
    InspectionStep("file_read", {"path": "/etc/os-release"}, "which OS this is"),
    InspectionStep("udev_block", {}, "the block devices and where they are mounted"),
)


class _Read(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class WireFunction(_Read):
    name: str


class WireCall(_Read):
    id: str
    function: WireFunction


class WireMessage(_Read):
    role: str
    content: str | None = None
    tool_calls: list[WireCall] = Field(default_factory=list)
    tool_call_id: str | None = None


class OfferedTool(_Read):
    function: WireFunction


class ChatRequest(_Read):
    """The part of an OpenAI chat-completion request the demo model reads."""

    messages: list[WireMessage]
    tools: list[OfferedTool] = Field(default_factory=list)

    @property
    def offered(self) -> set[str]:
        return {tool.function.name for tool in self.tools}


class TurnView(NamedTuple):
    """Where a request stands in its turn."""

    turn_index: int  # the position of the turn's user message in the conversation
    step: int  # which LLM call of the turn this request is, from 1
    called: frozenset[str]  # functions the model already called in this turn
    results: dict[str, str]  # tool result content by the function that produced it


def read_turn(request: ChatRequest) -> TurnView:
    """The current turn: everything after the last user message."""
    starts = [i for i, message in enumerate(request.messages) if message.role == "user"]
    turn_index = starts[-1] if starts else 0
    turn = request.messages[turn_index:]
    function_by_call = {
        call.id: call.function.name
        for message in turn
        if message.role == "assistant"
        for call in message.tool_calls
    }
    results = {
        function_by_call[message.tool_call_id]: message.content or ""
        for message in turn
        if message.role == "tool" and message.tool_call_id in function_by_call
    }
    steps_done = sum(1 for message in turn if message.role == "assistant")
    return TurnView(turn_index, steps_done + 1, frozenset(function_by_call.values()), results)


def next_reply(request: ChatRequest) -> dict[str, JsonValue]:
    """The chat-completion body answering this request."""
    view = read_turn(request)
    for step in PLAN:
        # A call is never repeated, even one whose result went missing: the turn must end.
        if step.function in request.offered and step.function not in view.called:
            call_id = f"call_{view.turn_index}_{view.step}"
            call = native_call(step.function, step.args, call_id=call_id)
            message: dict[str, JsonValue] = {
                "role": "assistant",
                "content": f"Step {view.step}: checking {step.purpose}.",
                "tool_calls": [call],
            }
            return completion(message, finish_reason="tool_calls", model=MODEL_LABEL)
    answer: dict[str, JsonValue] = {"role": "assistant", "content": compose_answer(view.results)}
    return completion(answer, model=MODEL_LABEL)
