"""The SQLite offline cache: incremental changes, reading, clearing and closing."""

from __future__ import annotations

import threading
from datetime import datetime
from typing import Any

import pytest

from makini_desktop.store.cache import (
    Cache,
    CacheError,
)
from tests.unit.store.cache_rows import T0, T1, T2, keys, rec, snapshot


def test_apply_changes_upserts_deletes_and_appends(cache: Cache) -> None:
    """Changes update rows in place, append new ones in order and delete tombstones."""
    snapshot(cache, "assets", [rec("1"), rec("2"), rec("3")], at=T0)
    changes = [
        rec("2", name="renamed", updatedAt="2026-03-05T00:00:00Z"),
        rec("5", updatedAt="2026-03-05T00:00:01Z"),
        rec("1", deletedAt="2026-03-05T00:00:02Z", updatedAt="2026-03-05T00:00:02Z"),
        rec("4", updatedAt="2026-03-05T00:00:03Z"),
        rec("404", deletedAt="2026-03-05T00:00:04Z"),  # a tombstone for a row we never had
    ]
    count = cache.apply_changes(
        "assets", changes, watermark="2026-03-05T00:00:04Z", synced_at=T1, server_total=None
    )
    loaded = cache.load("assets")
    assert count == 4
    assert keys(loaded.rows) == ["2", "3", "5", "4"]
    assert loaded.rows[0]["name"] == "renamed"
    assert loaded.last_sync == T1
    assert loaded.last_full_sync == T0  # only a full snapshot sets it
    assert loaded.watermark == "2026-03-05T00:00:04Z"
    assert loaded.server_total == 3  # None keeps the stored total
    info = cache.dataset_info("assets")
    assert info is not None and info.row_count == 4


def test_apply_changes_none_watermark_keeps_stored_one(cache: Cache) -> None:
    """An incremental sync without changes keeps the watermark and moves last_sync."""
    w = cache.begin_snapshot("assets")
    w.add([rec("1")])
    w.commit(server_total=1, watermark="2026-03-01T00:00:00Z", synced_at=T0)
    cache.apply_changes("assets", [], watermark=None, synced_at=T2, server_total=7)
    loaded = cache.load("assets")
    assert loaded.watermark == "2026-03-01T00:00:00Z"
    assert loaded.last_sync == T2
    assert loaded.server_total == 7


def test_apply_changes_before_any_snapshot(cache: Cache) -> None:
    """Changes for a dataset never snapshotted create it without a last_full_sync."""
    cache.apply_changes("moves", [rec("m1")], watermark="w", synced_at=T0, server_total=None)
    loaded = cache.load("moves")
    assert keys(loaded.rows) == ["m1"]
    assert loaded.last_full_sync is None and loaded.last_sync == T0


def test_apply_changes_is_all_or_nothing(cache: Cache) -> None:
    """A failure while applying changes leaves rows and timestamps as they were."""
    snapshot(cache, "assets", [rec("1"), rec("2")], at=T0)
    before = cache.load("assets")
    assert cache._conn is not None
    cache._conn.execute(
        "CREATE TEMP TRIGGER explode BEFORE INSERT ON main.rows WHEN NEW.key = 'bad'"
        " BEGIN SELECT RAISE(ABORT, 'simulated failure'); END"
    )
    with pytest.raises(CacheError):
        cache.apply_changes(
            "assets",
            [rec("1", deletedAt="2026-03-05T00:00:00Z"), rec("bad")],
            watermark="x",
            synced_at=T1,
            server_total=None,
        )
    assert cache.load("assets") == before


def test_naive_synced_at_rejected(cache: Cache) -> None:
    """A naive datetime for synced_at is a programming error, refused before writing."""
    with pytest.raises(ValueError):
        cache.apply_changes(
            "assets", [], watermark=None, synced_at=datetime(2026, 1, 1), server_total=None
        )


def test_iter_load_yields_chunks_in_order(cache: Cache) -> None:
    """iter_load yields the rows in stored order, chunk rows at a time."""
    snapshot(cache, "assets", [rec(f"{i:03d}") for i in range(23)])
    chunks = list(cache.iter_load("assets", chunk=10))
    assert [len(c) for c in chunks] == [10, 10, 3]
    assert [r["key"] for c in chunks for r in c] == [f"{i:03d}" for i in range(23)]
    assert list(cache.iter_load("nothing")) == []


def test_iter_load_sees_one_snapshot_while_a_sync_commits(cache: Cache) -> None:
    """A commit between chunks does not mix two snapshots into one iteration."""
    snapshot(cache, "assets", [rec(f"old{i}") for i in range(6)])
    it = cache.iter_load("assets", chunk=2)
    first = next(it)
    snapshot(cache, "assets", [rec(f"new{i}") for i in range(6)], at=T1)
    rest = [r for c in it for r in c]
    assert all(r["key"].startswith("old") for r in first + rest)
    assert len(first + rest) == 6
    assert keys(cache.load("assets").rows)[0] == "new0"


def test_iter_load_rejects_bad_chunk(cache: Cache) -> None:
    """A chunk size below 1 is refused."""
    with pytest.raises(ValueError):
        cache.iter_load("assets", chunk=0)


def test_load_from_worker_thread(cache: Cache) -> None:
    """A cache opened on one thread can load on another (the UI loads in a worker)."""
    snapshot(cache, "assets", [rec("1")])
    result: list[Any] = []
    worker = threading.Thread(target=lambda: result.append(cache.load("assets")))
    worker.start()
    worker.join()
    assert keys(result[0].rows) == ["1"]


def test_unreadable_stored_row_is_skipped(cache: Cache) -> None:
    """A stored row that is not valid JSON is skipped rather than failing the whole load."""
    snapshot(cache, "assets", [rec("1"), rec("2")])
    assert cache._conn is not None
    cache._conn.execute("UPDATE rows SET data = '{broken' WHERE key = '1'")
    assert keys(cache.load("assets").rows) == ["2"]
    assert [r["key"] for c in cache.iter_load("assets") for r in c] == ["2"]


def test_info_lists_datasets(cache: Cache) -> None:
    """info() summarises every synced dataset with its count and timestamps."""
    snapshot(cache, "sites", [rec("s")], at=T0)
    snapshot(cache, "assets", [rec("a"), rec("b")], at=T1)
    info = cache.info()
    assert [(i.dataset, i.row_count) for i in info] == [("assets", 2), ("sites", 1)]
    assert info[0].last_sync == T1 and info[0].last_full_sync == T1
    assert info[0].server_total == 2


def test_clear_removes_everything(cache: Cache) -> None:
    """clear() empties every dataset and its timestamps."""
    snapshot(cache, "assets", [rec("a")])
    cache.clear()
    assert cache.info() == []
    assert cache.load("assets").rows == []


def test_closed_cache_raises_cache_error(cache: Cache) -> None:
    """Using a closed cache raises CacheError instead of a sqlite3 error."""
    cache.close()
    cache.close()
    with pytest.raises(CacheError) as info:
        cache.load("assets")
    assert info.value.reason == "closed"


def test_iter_load_first_chunk_may_be_smaller(cache: Cache) -> None:
    """The first chunk (a table's first screenful) can be smaller than the ones after it,
    and every row still comes, once, in stored order."""
    snapshot(cache, "assets", [rec(str(n)) for n in range(25)])
    chunks = list(cache.iter_load("assets", chunk=10, first=3))
    assert [len(c) for c in chunks] == [3, 10, 10, 2]
    assert [r["key"] for c in chunks for r in c] == [str(n) for n in range(25)]
    with pytest.raises(ValueError):
        cache.iter_load("assets", chunk=10, first=0)
