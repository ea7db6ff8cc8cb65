"""The CLI's TypedDicts name exactly the fields of the server's pydantic models."""

from __future__ import annotations

import typing

import pytest
from pydantic import BaseModel

from sysward.agents import payloads
from sysward.cli import shapes
from sysward.control import models
from sysward.events.chain import ChainReport
from sysward.events.record import Event
from sysward.llm import ToolCall
from sysward.tools.registry import ActionDescription, ToolDescription
from sysward.tools.result import ToolErr, ToolErrorBody, ToolOk

SAME_FIELDS: list[tuple[type, type[BaseModel]]] = [
    (shapes.Health, models.Health),
    (shapes.AgentInfo, models.AgentInfo),
    (shapes.PromptAccepted, models.PromptAccepted),
    (shapes.TurnInfo, models.TurnInfo),
    (shapes.HistoryMessage, models.HistoryMessage),
    (shapes.History, models.History),
    (shapes.EventsPage, models.EventsPage),
    (shapes.ChainReport, ChainReport),
    (shapes.ToolInfo, ToolDescription),
    (shapes.ActionInfo, ActionDescription),
    (shapes.ToolCallShape, ToolCall),
    (shapes.ToolErrorShape, ToolErrorBody),
    (shapes.TurnCompletedData, payloads.TurnCompleted),
]

# The CLI reads only some fields of these; each one it reads must exist.
SOME_FIELDS: list[tuple[type, type[BaseModel]]] = [
    (shapes.ToolDispatchData, payloads.ToolDispatched),
    (shapes.ToolFinishedData, payloads.ToolFinished),
]


def keys(typed_dict: type) -> set[str]:
    return set(typing.get_type_hints(typed_dict))


@pytest.mark.parametrize(("shape", "model"), SAME_FIELDS, ids=lambda item: item.__name__)
def test_shape_has_the_fields_of_its_model(shape: type, model: type[BaseModel]) -> None:
    assert keys(shape) == set(model.model_fields)


@pytest.mark.parametrize(("shape", "model"), SOME_FIELDS, ids=lambda item: item.__name__)
def test_shape_reads_only_fields_its_model_has(shape: type, model: type[BaseModel]) -> None:
    assert keys(shape) <= set(model.model_fields)


def test_the_envelope_has_the_fields_of_a_stored_event() -> None:
    assert keys(shapes.Envelope) == set(Event.model_fields)


def test_a_tool_result_is_ok_output_or_error() -> None:
    both = set(ToolOk.model_fields) | set(ToolErr.model_fields)
    assert keys(shapes.ToolResultShape) <= both
