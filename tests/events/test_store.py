"""Opening the LMDB environment: schema versions, clear errors, and growing the map."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import lmdb
import pytest

from sysward.events import store as store_module
from sysward.events.context import EventContext
from sysward.events.log import EventLog
from sysward.events.query import EventQuery
from sysward.events.record import PreparedEvent, encode_data
from sysward.events.store import (
    SCHEMA_VERSION,
    EventLogError,
    EventStore,
    SchemaVersionError,
)

from .drafts import draft, numbered
from .raw_lmdb import read_meta, write_meta

SMALL_MAP_BYTES = 256 * 1024


def assert_clean(error: EventLogError, path: Path) -> None:
    """An operator-facing error: names the path, and hides the lmdb traceback."""
    assert str(path) in str(error)
    assert error.__cause__ is None
    assert error.__suppress_context__ or error.__context__ is None


async def test_new_log_records_the_current_schema_version(log_path: Path) -> None:
    log = await EventLog.open(log_path)
    await log.close()
    assert read_meta(log_path, b"schema_version") == str(SCHEMA_VERSION).encode()


async def test_newer_schema_version_refuses_to_open_and_says_to_upgrade(log_path: Path) -> None:
    log = await EventLog.open(log_path)
    await log.append(draft())
    await log.close()
    write_meta(log_path, b"schema_version", str(SCHEMA_VERSION + 1).encode())

    with pytest.raises(SchemaVersionError, match="upgrade") as refused:
        await EventLog.open(log_path)
    assert_clean(refused.value, log_path)
    # Refusing leaves the log untouched and closed, so it can be inspected or reopened.
    assert read_meta(log_path, b"schema_version") == str(SCHEMA_VERSION + 1).encode()


def test_schema_refusal_applies_to_read_only_openers_too(log_path: Path) -> None:
    EventStore(log_path).close()
    write_meta(log_path, b"schema_version", b"99")
    with pytest.raises(SchemaVersionError, match="99"):
        EventStore(log_path, readonly=True)


def test_older_or_equal_schema_opens(log_path: Path) -> None:
    EventStore(log_path).close()
    write_meta(log_path, b"schema_version", str(SCHEMA_VERSION).encode())
    EventStore(log_path).close()


def test_path_that_is_a_file_fails_with_event_log_error(tmp_path: Path) -> None:
    path = tmp_path / "events"
    path.write_text("not a directory")
    with pytest.raises(EventLogError) as failed:
        EventStore(path)
    assert_clean(failed.value, path)
    with pytest.raises(EventLogError) as failed:
        EventStore(path, readonly=True)
    assert_clean(failed.value, path)


def test_read_only_open_of_a_missing_log_fails_with_event_log_error(tmp_path: Path) -> None:
    path = tmp_path / "absent"
    with pytest.raises(EventLogError) as failed:
        EventStore(path, readonly=True)
    assert_clean(failed.value, path)
    assert not path.exists()


def test_read_only_open_of_a_foreign_lmdb_environment_says_it_is_not_an_event_log(
    tmp_path: Path,
) -> None:
    path = tmp_path / "foreign"
    path.mkdir()
    env = lmdb.open(str(path))
    env.close()
    with pytest.raises(EventLogError, match="not an event log") as failed:
        EventStore(path, readonly=True)
    assert_clean(failed.value, path)


async def test_opening_a_log_twice_in_one_process_fails_cleanly(log: EventLog) -> None:
    with pytest.raises(EventLogError) as failed:
        await EventLog.open(log.path)
    assert_clean(failed.value, log.path)


@pytest.mark.parametrize("subdir", [".", "events"], ids=["existing-dir", "new-subdir"])
def test_directory_that_is_not_writable_fails_with_event_log_error(
    tmp_path: Path, subdir: str
) -> None:
    parent = tmp_path / "locked"
    parent.mkdir(mode=0o555)
    target = (parent / subdir).resolve()
    prefix: list[str] = []
    if os.geteuid() == 0:
        # Root ignores file modes; drop the capabilities that let it do so.
        setpriv = shutil.which("setpriv")
        if setpriv is None:
            pytest.skip("running as root and setpriv (util-linux) is missing")
        caps = "-dac_override,-dac_read_search"
        prefix = [setpriv, f"--bounding-set={caps}", f"--inh-caps={caps}"]
    probe = (
        "import sys; from pathlib import Path\n"
        "from sysward.events.store import EventStore, EventLogError\n"
        "try:\n"
        "    EventStore(Path(sys.argv[1]))\n"
        "except EventLogError as exc:\n"
        "    assert exc.__cause__ is None and exc.__suppress_context__\n"
        "    print(type(exc).__name__, exc)\n"
    )
    result = subprocess.run(
        [*prefix, sys.executable, "-c", probe, str(target)],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("EventLogError ")
    assert str(target) in result.stdout
    assert "Permission denied" in result.stdout


async def test_map_grows_on_demand_and_nothing_is_lost(
    log_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(store_module, "INITIAL_MAP_SIZE_BYTES", SMALL_MAP_BYTES)
    log = await EventLog.open(log_path)
    try:
        pad = "x" * 4000
        appended = []
        for start in range(0, 600, 50):
            appended += await log.append_many(
                [draft(data={"n": n, "pad": pad}) for n in range(start, start + 50)]
            )
        # One event far larger than the initial map needs several doublings at once.
        appended.append(await log.append(draft(data={"n": 600, "pad": "y" * 1_000_000})))
    finally:
        await log.close()
    assert (log_path / "data.mdb").stat().st_size > 4 * SMALL_MAP_BYTES

    reopened = await EventLog.open(log_path)
    try:
        stored = (await reopened.query(EventQuery(limit=1000))).events
        assert stored == appended
        assert [e.data["n"] for e in stored] == list(range(601))
        assert (await reopened.verify()).ok
        # The small initial size still applies on reopen; appends keep working.
        more = await reopened.append_many(numbered(10, start=601))
        assert [e.seq for e in more] == list(range(602, 612))
    finally:
        await reopened.close()


def test_a_batch_whose_seqs_already_exist_writes_nothing(log_path: Path) -> None:
    store = EventStore(log_path)
    try:
        prepared = [
            PreparedEvent(item, EventContext(), encode_data(item.data)) for item in numbered(3)
        ]
        store.append_batch(prepared[:2])
        store.last_seq = 1  # as if another writer had moved the log on under this one
        with pytest.raises(EventLogError, match="already exist"):
            store.append_batch(prepared[2:])
        assert store.recorded_head() is not None
        assert [seq for seq, _ in store.iter_raw()] == [1, 2]
    finally:
        store.close()
