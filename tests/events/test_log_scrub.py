"""The log's scrub hook: data is rewritten before it is stored, and the count is on the event."""

from __future__ import annotations

from pathlib import Path

from pydantic import JsonValue

from sysward.events.log import EventLog

from .drafts import draft


def hide_words(data: dict[str, JsonValue]) -> tuple[dict[str, JsonValue], int]:
    """A scrub that replaces every string value equal to "hidden"."""
    replaced = {key: "***" if value == "hidden" else value for key, value in data.items()}
    count = sum(value == "hidden" for value in data.values())
    return (replaced if count else data), count


async def test_scrubbed_data_is_what_is_stored_and_counted(tmp_path: Path) -> None:
    log = await EventLog.open(tmp_path / "events", scrub=hide_words)
    try:
        committed = await log.append_many(
            [draft(data={"a": "hidden", "b": "hidden", "c": 1}), draft(data={"a": "shown"})]
        )
        stored = [await log.get(event.seq) for event in committed]
    finally:
        await log.close()
    assert committed[0].data == {"a": "***", "b": "***", "c": 1}
    assert committed[0].context.redacted == 2
    assert committed[1].context.redacted is None
    assert [event.data if event else None for event in stored] == [
        {"a": "***", "b": "***", "c": 1},
        {"a": "shown"},
    ]
    raw = b"".join(path.read_bytes() for path in (tmp_path / "events").glob("*.mdb"))
    assert b"hidden" not in raw


async def test_a_log_without_scrub_stores_data_as_given(tmp_path: Path) -> None:
    log = await EventLog.open(tmp_path / "events")
    try:
        event = await log.append(draft(data={"a": "hidden"}))
    finally:
        await log.close()
    assert event.data == {"a": "hidden"}
    assert event.context.redacted is None


async def test_checkpoints_are_never_scrubbed(tmp_path: Path) -> None:
    # A false positive in a signature would make a good log fail verification.
    log = await EventLog.open(tmp_path / "events", scrub=hide_words)
    try:
        event = await log.append(draft("log.checkpoint", data={"signature": "hidden"}))
    finally:
        await log.close()
    assert event.data == {"signature": "hidden"}
    assert event.context.redacted is None
