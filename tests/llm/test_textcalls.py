"""Tool calls written as text: tags, fences, bare JSON; never raises, round-trips calls."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from sysward.llm.calls import resolve_calls
from sysward.llm.functions import FunctionTable
from sysward.llm.messages import ToolSpec
from sysward.llm.textcalls import extract_text_calls

from .conftest import TOOLS

TABLE = FunctionTable(TOOLS)


def decode(text: str) -> tuple[str | None, list[Any], list[Any]]:
    found = extract_text_calls(text)
    calls, malformed = resolve_calls(found.attempts, TABLE)
    return found.content, calls, malformed


def test_prose_is_left_alone() -> None:
    text = "nginx is active (running) since 10:02; nothing to do."
    assert extract_text_calls(text).content == text
    assert extract_text_calls(text).attempts == []


def test_hermes_tool_call_tag_is_a_call_and_prose_stays_content() -> None:
    text = (
        "Let me look.\n<tool_call>\n"
        '{"name": "systemd_status", "arguments": {"unit": "nginx.service"}}\n</tool_call>'
    )
    content, calls, malformed = decode(text)
    assert content == "Let me look."
    assert [(c.tool, c.action, c.args) for c in calls] == [
        ("systemd", "status", {"unit": "nginx.service"})
    ]
    assert malformed == []


def test_unclosed_tool_call_tag_is_still_a_call() -> None:
    _, calls, _ = decode('<tool_call>{"name": "net_port_check", "arguments": {"port": 22}}')
    assert [(c.tool, c.action, c.args) for c in calls] == [("net", "port_check", {"port": 22})]


def test_one_brace_too_many_before_the_closing_tag_is_tolerated() -> None:
    content, calls, malformed = decode(
        '<tool_call>{"name": "systemd_status", "arguments": {"unit": "a"}}}</tool_call>'
    )
    assert (content, len(calls), malformed) == (None, 1, [])


def test_several_tags_give_several_calls_in_order() -> None:
    text = (
        '<tool_call>{"name": "systemd_status", "arguments": {"unit": "a"}}</tool_call>\n'
        '<tool_call>{"name": "crypto_generate_key", "arguments": {"bits": 256}}</tool_call>'
    )
    _, calls, _ = decode(text)
    assert [(c.tool, c.action) for c in calls] == [
        ("systemd", "status"),
        ("crypto", "generate_key"),
    ]


def test_mistral_tool_calls_prefix_is_a_call_list() -> None:
    _, calls, _ = decode('[TOOL_CALLS][{"name": "systemd_status", "arguments": {"unit": "x"}}]')
    assert [(c.tool, c.args) for c in calls] == [("systemd", {"unit": "x"})]


def test_fenced_json_block_with_a_canonical_call_is_a_call() -> None:
    text = (
        "I will check it:\n```json\n"
        '{"tool": "systemd", "action": "status", "args": {"unit": "sshd"}}\n```\n'
    )
    content, calls, _ = decode(text)
    assert content == "I will check it:"
    assert [(c.tool, c.action, c.args) for c in calls] == [("systemd", "status", {"unit": "sshd"})]


def test_fenced_json_that_is_not_a_call_stays_content() -> None:
    text = 'The config is:\n```json\n{"listen": 80}\n```'
    assert decode(text) == (text, [], [])


def test_fenced_code_in_another_language_stays_content() -> None:
    text = '```bash\necho \'{"tool": "x"}\'\n```'
    assert decode(text) == (text, [], [])


def test_bare_object_as_whole_content_is_a_call() -> None:
    _, calls, _ = decode('  {"tool": "net", "action": "port_check", "args": {"port": 443}}\n')
    assert [(c.tool, c.action, c.args) for c in calls] == [("net", "port_check", {"port": 443})]


def test_bare_array_is_parallel_calls() -> None:
    text = json.dumps(
        [
            {"tool": "systemd", "action": "status", "args": {"unit": "a"}},
            {"name": "systemd_status", "arguments": '{"unit": "b"}'},
        ]
    )
    _, calls, _ = decode(text)
    assert [c.args for c in calls] == [{"unit": "a"}, {"unit": "b"}]


def test_openai_function_shape_written_as_text_is_a_call() -> None:
    text = json.dumps({"id": "c9", "function": {"name": "systemd_status", "arguments": "{}"}})
    _, calls, _ = decode(text)
    assert [(c.id, c.tool) for c in calls] == [("c9", "systemd")]


def test_plain_json_answer_is_content_not_a_call() -> None:
    text = '{"status": "ok", "units": 3}'
    assert decode(text) == (text, [], [])


def test_broken_json_in_a_tag_is_malformed_with_the_reason() -> None:
    content, calls, malformed = decode("<tool_call>{name: systemd_status}</tool_call>")
    assert (content, calls) == (None, [])
    assert len(malformed) == 1
    assert malformed[0].raw == "{name: systemd_status}"
    assert "not valid JSON" in malformed[0].error


def test_broken_bare_json_that_names_a_tool_is_malformed() -> None:
    _, calls, malformed = decode('{"tool": "systemd", "action": "status", "args": {"unit": }')
    assert calls == []
    assert "not valid JSON" in malformed[0].error


def test_unknown_function_is_malformed_and_lists_what_is_offered() -> None:
    _, calls, malformed = decode(
        '<tool_call>{"name": "rm_everything", "arguments": {}}</tool_call>'
    )
    assert calls == []
    assert "'rm_everything'" in malformed[0].error
    assert "systemd.status" in malformed[0].error


def test_arguments_that_are_not_an_object_are_malformed() -> None:
    _, _, malformed = decode('{"tool": "systemd", "action": "status", "args": ["nginx"]}')
    assert "must be a JSON object, got an array" in malformed[0].error


def test_tag_without_json_is_malformed() -> None:
    _, _, malformed = decode("<tool_call>systemd_status nginx</tool_call>")
    assert "no JSON object" in malformed[0].error


def test_deeply_nested_brackets_do_not_raise() -> None:
    found = extract_text_calls("<tool_call>" + "[" * 100_000)
    assert found.attempts and found.attempts[0].error is not None


def test_deeply_nested_but_valid_json_does_not_raise() -> None:
    nested = "[" * 900 + "]" * 900
    assert extract_text_calls(nested).content == nested
    [attempt] = extract_text_calls(f"<tool_call>{nested}</tool_call>").attempts
    assert attempt.error is not None and "must be a JSON object" in attempt.error


# ---- property tests -------------------------------------------------------------

MARKUP = st.sampled_from(["```", "```json\n", "</tool_call>", "<tool_call>", "{", "]", "\\", '"'])
STRINGS = st.lists(st.text(max_size=6) | MARKUP, max_size=4).map("".join)
JSON_SCALARS = st.none() | st.booleans() | st.integers() | STRINGS
JSON_VALUES = st.recursive(
    JSON_SCALARS | st.floats(allow_nan=False, allow_infinity=False),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=10,
)
ARGS = st.dictionaries(STRINGS, JSON_VALUES, max_size=4)
SPECS = st.sampled_from(TOOLS)
PROSE = st.text(alphabet=st.characters(exclude_characters="{[`<"), max_size=40)
CALL_SYNTAX = [*'{}[]":,` \n<>/', '"tool"', '"name"', '"args"', "```json", "<tool_call>", "1"]
TRICKY_TEXT = st.lists(st.sampled_from(CALL_SYNTAX), max_size=60).map("".join)


@given(st.text())
def test_arbitrary_text_never_raises(text: str) -> None:
    found = extract_text_calls(text)
    resolve_calls(found.attempts, TABLE)


@given(TRICKY_TEXT)
def test_text_made_of_call_syntax_never_raises(text: str) -> None:
    found = extract_text_calls(text)
    resolve_calls(found.attempts, TABLE)


def canonical(spec: ToolSpec, args: dict[str, Any]) -> dict[str, Any]:
    return {"tool": spec.tool, "action": spec.action, "args": args}


def named(spec: ToolSpec, args: dict[str, Any], *, as_string: bool) -> dict[str, Any]:
    arguments: Any = json.dumps(args) if as_string else args
    return {"name": f"{spec.tool}_{spec.action}", "arguments": arguments}


@st.composite
def written_calls(draw: st.DrawFn) -> tuple[str, list[tuple[str, str, dict[str, Any]]]]:
    """Calls rendered the way models write them, and the calls they stand for."""
    pairs = draw(st.lists(st.tuples(SPECS, ARGS), min_size=1, max_size=3))
    shape = draw(st.sampled_from(["canonical", "named", "named_str"]))
    objects = [
        canonical(spec, args)
        if shape == "canonical"
        else named(spec, args, as_string=shape == "named_str")
        for spec, args in pairs
    ]
    payload = json.dumps(
        objects[0] if len(objects) == 1 else objects, ensure_ascii=draw(st.booleans())
    )
    form = draw(st.sampled_from(["bare", "fenced", "tagged"]))
    prose = draw(PROSE)
    if form == "bare":
        text = payload
    elif form == "fenced":
        text = f"{prose}\n```json\n{payload}\n```"
    else:
        text = f"{prose}<tool_call>{payload}</tool_call>"
    return text, [(spec.tool, spec.action, args) for spec, args in pairs]


@settings(max_examples=300)
@given(written_calls())
def test_written_calls_are_recovered_exactly(case: tuple[str, list[Any]]) -> None:
    text, expected = case
    _, calls, malformed = decode(text)
    assert malformed == []
    assert [(c.tool, c.action, c.args) for c in calls] == expected


@given(PROSE)
def test_prose_without_call_syntax_is_returned_unchanged(text: str) -> None:
    found = extract_text_calls(text)
    assert (found.content, found.attempts) == (text, [])
