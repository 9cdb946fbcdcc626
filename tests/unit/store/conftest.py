"""Fixtures of the offline cache's tests: a cache file in a temporary folder."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from makini_desktop.store.cache import Cache


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "conn.sqlite3"


@pytest.fixture
def cache(db_path: Path) -> Iterator[Cache]:
    c = Cache.open(db_path)
    yield c
    c.close()
