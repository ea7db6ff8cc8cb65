"""Function names offered in native mode, and the way back to (tool, action)."""

from __future__ import annotations

from sysward.llm.functions import FunctionTable, function_name
from sysward.llm.messages import ToolSpec


def spec(tool: str, action: str) -> ToolSpec:
    return ToolSpec(tool=tool, action=action)


def test_function_name_is_tool_underscore_action() -> None:
    assert function_name("systemd", "status") == "systemd_status"


def test_actions_with_underscores_map_back_through_the_table() -> None:
    table = FunctionTable([spec("crypto", "generate_key"), spec("net", "port_check")])
    resolved = table.resolve("crypto_generate_key")
    assert resolved is not None and (resolved.tool, resolved.action) == ("crypto", "generate_key")


def test_colliding_names_are_made_unique_and_both_resolve() -> None:
    table = FunctionTable([spec("a_b", "c"), spec("a", "b_c")])
    assert table.names == ["a_b_c", "a_b_c_2"]
    first, second = table.resolve("a_b_c"), table.resolve("a_b_c_2")
    assert first is not None and (first.tool, first.action) == ("a_b", "c")
    assert second is not None and (second.tool, second.action) == ("a", "b_c")
    assert table.name_for("a", "b_c") == "a_b_c_2"


def test_names_are_made_valid_for_the_openai_rules() -> None:
    table = FunctionTable([spec("my.tool", "do it" + "x" * 80)])
    [name] = table.names
    assert len(name) == 64
    assert name.startswith("my_tool_do_it")


def test_lenient_spellings_of_a_name_resolve() -> None:
    table = FunctionTable([spec("systemd", "status")])
    for written in ("systemd.status", "Systemd_Status", "systemd:status", "systemd-status"):
        resolved = table.resolve(written)
        assert resolved is not None and resolved.action == "status", written


def test_unknown_names_do_not_resolve() -> None:
    table = FunctionTable([spec("systemd", "status")])
    assert table.resolve("systemd_stop") is None
    assert table.resolve_pair("systemd", "stop") is None


def test_duplicate_specs_are_offered_once() -> None:
    table = FunctionTable([spec("proc", "list"), spec("proc", "list")])
    assert table.names == ["proc_list"]


def test_pairs_not_offered_get_the_default_name() -> None:
    assert FunctionTable([]).name_for("file", "read") == "file_read"
