"""A table's sort kept beside a row image: given back with the very rows it was made for,
never with others, never damaged."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from makini_desktop.store.cache import Cache
from makini_desktop.store.row_image import ImageRead
from tests.unit.store.cache_rows import T1, rec, snapshot
from tests.unit.store.test_row_image import ROWS, restarted

SPEC = "assets|tag|0|k1"
# What a table keeps is opaque to the store: the order and the keys (see table/kept_sort).
SORT = (list(range(ROWS))[::-1], [(1, f"k{i}") for i in range(ROWS)])


def read(cache: Cache, spec: str = SPEC) -> ImageRead:
    """A whole read of the assets with ``spec``: what it found beside their image."""
    found = ImageRead(spec)
    for _chunk in cache.iter_load("assets", chunk=5, first=3, read=found):
        pass
    return found


def sort_pieces(path: Path) -> list[tuple[Any, ...]]:
    with sqlite3.connect(path) as conn:
        return conn.execute("SELECT fmt FROM row_images WHERE piece < -1").fetchall()


def filled_with_a_kept_sort(path: Path) -> Cache:
    """A cache whose first read wrote the assets' image and kept a sort beside it."""
    cache = Cache.open(path)
    snapshot(cache, "assets", [rec(f"{i:03d}") for i in range(ROWS)])
    first = read(cache)  # from the JSON: the image is written as it goes
    assert first.index is None and first.whole and first.build is not None
    cache.keep_sort("assets", first, SORT)
    return restarted(path, cache)  # the writer's queue is written before it closes


def test_the_next_read_of_the_unchanged_rows_gets_the_sort_kept(db_path: Path) -> None:
    cache = filled_with_a_kept_sort(db_path)
    try:
        again = read(cache)
        assert again.index == SORT
        assert again.whole
    finally:
        cache.close()


def test_a_change_to_the_rows_takes_the_sort_with_the_image(db_path: Path) -> None:
    cache = filled_with_a_kept_sort(db_path)
    try:
        cache.apply_changes("assets", [rec("001", name="renamed")], watermark=None,
                            synced_at=T1, server_total=None)
        assert read(cache).index is None  # that read wrote the new rows' image
        cache = restarted(db_path, cache)
        assert sort_pieces(db_path) == []  # gone with the old image
    finally:
        cache.close()


def test_a_sort_by_something_else_is_not_given_and_replaces_the_kept_one(
    db_path: Path,
) -> None:
    """One sort is kept per view: the view sorted the other way gets nothing, and what it
    keeps then replaces the first."""
    cache = filled_with_a_kept_sort(db_path)
    try:
        other = read(cache, "assets|tag|1|k1")
        assert other.index is None and other.whole
        cache.keep_sort("assets", other, ("descending",))
        cache = restarted(db_path, cache)
        assert read(cache, "assets|tag|1|k1").index == ("descending",)
        assert read(cache).index is None
        assert len(sort_pieces(db_path)) == 1
        assert read(cache, "spaces|name|0|k1").index is None  # another view's slot
    finally:
        cache.close()


def test_damaged_bytes_are_never_given(db_path: Path) -> None:
    cache = filled_with_a_kept_sort(db_path)
    try:
        with sqlite3.connect(db_path) as conn:
            conn.execute("UPDATE row_images SET blob = X'DA0000FF' WHERE piece < -1")
        assert read(cache).index is None
    finally:
        cache.close()


def test_no_sort_is_kept_for_rows_that_changed_after_the_read(db_path: Path) -> None:
    """A sort made of rows a sync has changed since is dropped, not kept with the new."""
    cache = Cache.open(db_path)
    try:
        snapshot(cache, "assets", [rec(f"{i:03d}") for i in range(ROWS)])
        first = read(cache)
        snapshot(cache, "assets", [rec("x")], at=T1)
        cache.keep_sort("assets", first, SORT)
        cache = restarted(db_path, cache)
        assert sort_pieces(db_path) == []
        assert read(cache).index is None
    finally:
        cache.close()
