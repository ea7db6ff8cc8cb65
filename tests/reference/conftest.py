"""Fixtures: where the docs live, and a short directory for a real daemon's socket."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[2] / "docs"


@pytest.fixture
def short_tmp() -> Iterator[Path]:
    """A short directory: a Unix socket path must fit in 108 bytes."""
    with tempfile.TemporaryDirectory(prefix="swref-", dir="/tmp") as directory:
        yield Path(directory)
