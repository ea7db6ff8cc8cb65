"""The wire shape of tool results (SPEC.md "Tool calls") and its round trip."""

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from sysward.tools.result import TOOL_RESULT, ToolErr, ToolErrorBody, ToolOk, tool_error

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)


def test_ok_result_has_the_spec_shape() -> None:
    result = ToolOk(output={"active": True}, metadata={"duration_ms": 3})
    assert json.loads(TOOL_RESULT.dump_json(result)) == {
        "ok": True,
        "output": {"active": True},
        "metadata": {"duration_ms": 3},
    }


def test_error_result_has_the_spec_shape() -> None:
    result = tool_error("not_found", "no unit x.service", {"unit": "x.service"})
    assert json.loads(TOOL_RESULT.dump_json(result)) == {
        "ok": False,
        "error": {
            "code": "not_found",
            "message": "no unit x.service",
            "details": {"unit": "x.service"},
        },
    }


def test_ok_selects_the_model_when_decoding() -> None:
    assert isinstance(TOOL_RESULT.validate_json('{"ok": true, "output": null}'), ToolOk)
    decoded = TOOL_RESULT.validate_json(
        '{"ok": false, "error": {"code": "timeout", "message": "slow"}}'
    )
    assert isinstance(decoded, ToolErr)
    assert decoded.error == ToolErrorBody(code="timeout", message="slow")


@pytest.mark.parametrize(
    "wire",
    [
        '{"output": 1}',
        '{"ok": "yes", "output": 1}',
        '{"ok": true}',
        '{"ok": false, "output": 1}',
        '{"ok": true, "output": 1, "extra": 2}',
    ],
)
def test_malformed_results_are_rejected(wire: str) -> None:
    with pytest.raises(ValidationError):
        TOOL_RESULT.validate_json(wire)


@pytest.mark.parametrize("code", ["", "NotFound", "not found", "1x", "x" * 65])
def test_error_codes_are_snake_case_words(code: str) -> None:
    with pytest.raises(ValidationError):
        ToolErrorBody(code=code, message="m")


@given(output=json_values, metadata=st.dictionaries(st.text(max_size=8), json_values, max_size=3))
def test_ok_results_round_trip(output: object, metadata: dict[str, object]) -> None:
    result = ToolOk.model_validate({"output": output, "metadata": metadata})
    assert TOOL_RESULT.validate_json(TOOL_RESULT.dump_json(result)) == result


@given(message=st.text(), details=st.dictionaries(st.text(max_size=8), json_values, max_size=3))
def test_error_results_round_trip(message: str, details: dict[str, object]) -> None:
    result = ToolErr.model_validate(
        {"error": {"code": "invalid_input", "message": message, "details": details}}
    )
    assert TOOL_RESULT.validate_json(TOOL_RESULT.dump_json(result)) == result
