"""Direct access to a log's LMDB files, bypassing sysward, to damage or inspect them."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import lmdb

from sysward.events.store import MAX_NAMED_DBS, seq_key


@contextmanager
def raw_write(path: Path, db_name: bytes) -> Iterator[tuple[lmdb.Transaction, object]]:
    """A write transaction on one named database of a closed log."""
    env = lmdb.open(str(path), max_dbs=MAX_NAMED_DBS, create=False)
    try:
        db = env.open_db(db_name, create=False)
        with env.begin(write=True) as txn:
            yield txn, db
    finally:
        env.close()


def read_record(path: Path, seq: int) -> bytes:
    env = lmdb.open(str(path), max_dbs=MAX_NAMED_DBS, readonly=True)
    try:
        db = env.open_db(b"events", create=False)
        with env.begin() as txn:
            raw = txn.get(seq_key(seq), db=db)
            assert raw is not None, f"no record at seq {seq}"
            return bytes(raw)
    finally:
        env.close()


def overwrite_record(path: Path, seq: int, raw: bytes) -> None:
    with raw_write(path, b"events") as (txn, db):
        txn.put(seq_key(seq), raw, db=db)


def delete_record(path: Path, seq: int) -> None:
    with raw_write(path, b"events") as (txn, db):
        assert txn.delete(seq_key(seq), db=db), f"no record at seq {seq}"


def read_meta(path: Path, key: bytes) -> bytes | None:
    env = lmdb.open(str(path), max_dbs=MAX_NAMED_DBS, readonly=True)
    try:
        db = env.open_db(b"meta", create=False)
        with env.begin() as txn:
            raw = txn.get(key, db=db)
            return bytes(raw) if raw is not None else None
    finally:
        env.close()


def write_meta(path: Path, key: bytes, value: bytes) -> None:
    with raw_write(path, b"meta") as (txn, db):
        txn.put(key, value, db=db)
