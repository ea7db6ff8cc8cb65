"""The CLI's human formatting: tables, clipped values, durations."""

from __future__ import annotations

from sysward.cli.output import clip, compact, duration, table


def test_tables_align_columns_and_trim_trailing_space() -> None:
    text = table(("NAME", "STATE"), [["ops", "idle"], ["audit-long", "busy"]])
    assert text.splitlines() == ["NAME        STATE", "ops         idle", "audit-long  busy"]


def test_cells_are_clipped_to_one_line() -> None:
    assert clip("first line\nsecond", 80) == "first line…"
    assert clip("x" * 100, 10) == "x" * 9 + "…"
    assert clip("short", 10) == "short"


def test_compact_json_is_one_clipped_line() -> None:
    assert compact({"unit": "nginx.service"}) == '{"unit": "nginx.service"}'
    assert len(compact({"data": "y" * 500}, 40)) == 40


def test_durations_use_the_two_largest_units() -> None:
    assert duration(45.9) == "45 s"
    assert duration(723) == "12 m 3 s"
    assert duration(11655.2) == "3 h 14 m"
    assert duration(2 * 86400 + 4 * 3600 + 5) == "2 d 4 h"
