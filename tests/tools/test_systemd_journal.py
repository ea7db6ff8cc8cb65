"""systemd.journal against a real journald collecting an isolated systemd --user's units."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from pydantic import JsonValue

from sysward.tools import ToolErr, ToolOk, ToolRegistry
from sysward.tools.systemd import SystemdTool

from .systemd_calls import call, fail, offline_registry, tool_for, wait_until
from .user_systemd import UserManager


@pytest.fixture
def offline(tmp_path: Path) -> ToolRegistry:
    return offline_registry(tmp_path)


@pytest.fixture
async def journaled(journaled_user_manager: UserManager) -> AsyncIterator[ToolRegistry]:
    tool = tool_for(journaled_user_manager, journal_path=journaled_user_manager.journal_dir)
    registry = ToolRegistry([tool])
    try:
        yield registry
    finally:
        await registry.aclose()


async def run_and_collect(registry: ToolRegistry, unit: str, last_message: str) -> None:
    """Start a unit and wait until journald has stored its ``last_message``."""
    assert (await call(registry, "start", unit=unit))["result"] == "done"

    async def stored() -> bool:
        output = await call(registry, "journal", unit=unit, limit=1)
        return [entry["message"][:32] for entry in output["entries"]] == [last_message[:32]]

    await wait_until(stored, f"{last_message[:32]!r} from {unit} in the journal")


async def test_journal_returns_the_units_output_oldest_first(journaled: ToolRegistry) -> None:
    await run_and_collect(journaled, "talker.service", "an error line")
    output = await call(journaled, "journal", unit="talker.service")
    entries = output["entries"]
    assert [e["message"] for e in entries] == ["first line", "second line", "an error line"]
    first = entries[0]
    assert first["unit"] == "talker.service" and first["priority"] == 6
    assert isinstance(first["pid"], int) and str(first["ts"]).endswith("Z")
    assert output["truncated"] is False


async def test_journal_priority_keeps_only_severe_entries(journaled: ToolRegistry) -> None:
    await run_and_collect(journaled, "talker.service", "an error line")
    output = await call(journaled, "journal", unit="talker.service", priority=3)
    assert [(e["message"], e["priority"]) for e in output["entries"]] == [("an error line", 3)]


async def test_journal_limit_keeps_the_newest_entries(journaled: ToolRegistry) -> None:
    await run_and_collect(journaled, "chatty.service", "line 300")
    output = await call(journaled, "journal", unit="chatty.service", limit=3, since="-1h")
    assert [e["message"] for e in output["entries"]] == ["line 298", "line 299", "line 300"]
    assert output["truncated"] is True


async def test_journal_cuts_long_messages(journaled: ToolRegistry) -> None:
    await run_and_collect(journaled, "longline.service", "0" * 32)
    (entry,) = (await call(journaled, "journal", unit="longline.service"))["entries"]
    assert entry["message"] == "0" * 2048 and entry["is_message_truncated"] is True


async def test_journal_since_after_the_last_entry_is_empty(journaled: ToolRegistry) -> None:
    await run_and_collect(journaled, "talker.service", "an error line")
    output = await call(journaled, "journal", unit="talker.service", since="2999-01-01T00:00:00")
    assert output["entries"] == [] and output["truncated"] is False


async def test_journal_of_a_system_unit_does_not_mix_in_user_units(
    journaled: ToolRegistry,
) -> None:
    await run_and_collect(journaled, "talker.service", "an error line")
    # Seen from the "system", the whole user manager is the unit user@0.service.
    system = await registry_journal(journaled, bus="system", unit="user@0.service")
    user = await registry_journal(journaled, bus="user", unit="user@0.service")
    assert "first line" in [e["message"] for e in system]
    assert user == []


async def registry_journal(registry: ToolRegistry, **args: object) -> list[JsonValue]:
    result = await registry.invoke("systemd", "journal", args)
    assert isinstance(result, ToolOk), result
    assert isinstance(result.output, dict) and isinstance(result.output["entries"], list)
    return result.output["entries"]


@pytest.mark.parametrize("since", ["yesterday", "-5y", "-1", "2026-13-01", "1h", "-" + "9" * 9])
async def test_journal_refuses_unparseable_since(offline: ToolRegistry, since: str) -> None:
    assert (await fail(offline, "journal", unit="talker.service", since=since)).error.code == (
        "invalid_args"
    )


@pytest.mark.parametrize("args", [{"limit": 1001}, {"limit": 0}, {"priority": 8}])
async def test_journal_bounds_its_arguments(offline: ToolRegistry, args: dict[str, object]) -> None:
    result = await fail(offline, "journal", unit="talker.service", **args)
    assert result.error.code == "invalid_args"


async def test_journal_without_journal_files_is_unavailable(
    user_manager: UserManager, tmp_path: Path
) -> None:
    registry = ToolRegistry([tool_for(user_manager, journal_path=tmp_path)])
    result = await registry.invoke("systemd", "journal", {"unit": "talker.service"})
    assert isinstance(result, ToolErr) and result.error.code == "unavailable"
    assert "journald" in result.error.message


async def test_journal_of_this_host_without_journald_is_unavailable() -> None:
    journals = [Path("/run/log/journal"), Path("/var/log/journal")]
    if any(any(path.rglob("*.journal")) for path in journals if path.exists()):
        pytest.skip("this host keeps a journal")
    result = await ToolRegistry([SystemdTool()]).invoke("systemd", "journal", {"unit": "x.service"})
    assert isinstance(result, ToolErr) and result.error.code == "unavailable"
