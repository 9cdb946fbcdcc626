"""Full snapshots: staged page by page, swapped in atomically, never losing the previous copy."""

from __future__ import annotations

from pathlib import Path

import pytest

from makini_desktop.store.cache import (
    Cache,
    CacheError,
    cache_path_for,
)
from tests.unit.store.cache_rows import T0, T1, keys, rec, snapshot


def test_snapshot_commit_replaces_rows_and_sets_timestamps(cache: Cache) -> None:
    """Committing a snapshot replaces the dataset's rows and records the sync's metadata."""
    snapshot(cache, "assets", [rec("1"), rec("2"), rec("3")], at=T0)
    w = cache.begin_snapshot("assets")
    w.add([rec("4", updatedAt="2026-03-10T00:00:00Z")])
    w.add([rec("2", updatedAt="2026-03-11T00:00:00Z")])
    assert w.commit(server_total=2, watermark=w.max_updated_at, synced_at=T1) == 2
    loaded = cache.load("assets")
    assert keys(loaded.rows) == ["4", "2"]
    assert loaded.last_full_sync == T1
    assert loaded.last_sync == T1
    assert loaded.watermark == "2026-03-11T00:00:00Z"
    assert loaded.server_total == 2


def test_never_synced_dataset_is_empty(cache: Cache) -> None:
    """A dataset that was never synced loads as no rows and no timestamps."""
    loaded = cache.load("visits")
    assert loaded.rows == []
    assert loaded.last_sync is None and loaded.last_full_sync is None
    assert loaded.watermark is None and loaded.server_total is None
    assert cache.dataset_info("visits") is None


def test_abort_keeps_previous_snapshot(cache: Cache) -> None:
    """Aborting a snapshot keeps the previous rows and timestamps exactly."""
    snapshot(cache, "assets", [rec("1"), rec("2")], at=T0)
    before = cache.load("assets")
    w = cache.begin_snapshot("assets")
    w.add([rec("9")])
    w.abort()
    w.abort()  # repeatable
    assert cache.load("assets") == before
    assert cache._conn is not None
    assert cache._conn.execute("SELECT count(*) FROM staging").fetchone()[0] == 0


def test_context_manager_aborts_on_error(cache: Cache) -> None:
    """Leaving a snapshot's with-block by an exception aborts it."""
    snapshot(cache, "assets", [rec("1")], at=T0)
    with pytest.raises(KeyError), cache.begin_snapshot("assets") as w:
        w.add([rec("2")])
        raise KeyError("network went away")
    assert keys(cache.load("assets").rows) == ["1"]


def test_crash_before_commit_keeps_previous_snapshot(db_path: Path) -> None:
    """A process that dies after staging pages leaves the old snapshot; staging is discarded."""
    c = Cache.open(db_path)
    snapshot(c, "assets", [rec("1"), rec("2")], at=T0)
    w = c.begin_snapshot("assets")
    w.add([rec(str(i)) for i in range(100, 150)])
    # Meanwhile another process (or the restarted app) sees only the committed snapshot.
    with Cache.open(db_path) as other:
        assert keys(other.load("assets").rows) == ["1", "2"]
    # Simulate death: the connection goes away without commit or abort.
    assert c._conn is not None
    c._conn.close()
    c._conn = None
    with Cache.open(db_path) as reopened:
        loaded = reopened.load("assets")
        assert keys(loaded.rows) == ["1", "2"]
        assert loaded.last_full_sync == T0 and loaded.last_sync == T0
        assert reopened._conn is not None
        assert reopened._conn.execute("SELECT count(*) FROM staging").fetchone()[0] == 0


def test_commit_refused_when_another_process_discarded_staging(db_path: Path) -> None:
    """If another window's open discards our staged pages, commit refuses to swap in nothing."""
    with Cache.open(db_path) as c:
        snapshot(c, "assets", [rec("1"), rec("2")], at=T0)
        w = c.begin_snapshot("assets")
        w.add([rec("3")])
        Cache.open(db_path).close()  # a second window opens the file: staging discarded
        with pytest.raises(CacheError) as info:
            w.commit(server_total=1, watermark=None, synced_at=T1)
        assert info.value.reason == "superseded"
        loaded = c.load("assets")
        assert keys(loaded.rows) == ["1", "2"] and loaded.last_full_sync == T0


def test_failure_during_swap_keeps_previous_snapshot(cache: Cache) -> None:
    """An error in the middle of the swap rolls everything back, timestamps included."""
    snapshot(cache, "assets", [rec("1"), rec("2")], at=T0)
    before = cache.load("assets")
    w = cache.begin_snapshot("assets")
    w.add([rec(str(i)) for i in range(100, 200)])
    assert cache._conn is not None
    cache._conn.execute(
        "CREATE TEMP TRIGGER explode AFTER INSERT ON main.rows WHEN NEW.key = '150'"
        " BEGIN SELECT RAISE(ABORT, 'simulated failure'); END"
    )
    with pytest.raises(CacheError):
        w.commit(server_total=100, watermark=None, synced_at=T1)
    assert cache.load("assets") == before
    assert w.done


def test_disk_full_on_commit_raises_cache_error_and_keeps_data(cache: Cache) -> None:
    """A full disk during the swap raises CacheError('disk_full') and keeps the old snapshot."""
    snapshot(cache, "assets", [rec("1")], at=T0)
    before = cache.load("assets")
    w = cache.begin_snapshot("assets")
    w.add([rec(str(i), description="y" * 2000) for i in range(300)])
    conn = cache._conn
    assert conn is not None
    pages = conn.execute("PRAGMA page_count").fetchone()[0]
    conn.execute(f"PRAGMA max_page_count = {pages}")  # the "disk" is now full
    with pytest.raises(CacheError) as info:
        w.commit(server_total=300, watermark=None, synced_at=T1)
    assert info.value.reason == "disk_full"
    assert "disk is full" in str(info.value)
    assert cache.load("assets") == before


def test_disk_full_while_staging_raises_cache_error(cache: Cache) -> None:
    """A full disk while staging a page raises CacheError and leaves the snapshot alone."""
    snapshot(cache, "assets", [rec("1")], at=T0)
    conn = cache._conn
    assert conn is not None
    conn.execute(f"PRAGMA max_page_count = {conn.execute('PRAGMA page_count').fetchone()[0]}")
    w = cache.begin_snapshot("assets")
    with pytest.raises(CacheError) as info:
        w.add([rec(str(i), description="z" * 2000) for i in range(300)])
    assert info.value.reason == "disk_full"
    assert keys(cache.load("assets").rows) == ["1"]


def test_new_snapshot_supersedes_unfinished_one(cache: Cache) -> None:
    """Beginning a second snapshot for a dataset discards the first writer's staging."""
    first = cache.begin_snapshot("assets")
    first.add([rec("old")])
    second = cache.begin_snapshot("assets")
    second.add([rec("new")])
    with pytest.raises(CacheError) as info:
        first.add([rec("late")])
    assert info.value.reason == "superseded"
    second.commit(server_total=1, watermark=None, synced_at=T0)
    assert keys(cache.load("assets").rows) == ["new"]


def test_snapshots_of_different_datasets_do_not_interfere(cache: Cache) -> None:
    """Two datasets can be staged at once and each commit replaces only its own dataset."""
    sites = cache.begin_snapshot("sites")
    assets = cache.begin_snapshot("assets")
    sites.add([rec("s1")])
    assets.add([rec("a1"), rec("a2")])
    assets.commit(server_total=2, watermark=None, synced_at=T0)
    sites.commit(server_total=1, watermark=None, synced_at=T1)
    assert keys(cache.load("sites").rows) == ["s1"]
    assert keys(cache.load("assets").rows) == ["a1", "a2"]


def test_committed_writer_cannot_be_reused(cache: Cache) -> None:
    """A committed snapshot writer refuses further pages."""
    w = cache.begin_snapshot("assets")
    w.commit(server_total=0, watermark=None, synced_at=T0)
    with pytest.raises(CacheError):
        w.add([rec("1")])
    with pytest.raises(CacheError):
        w.commit(server_total=0, watermark=None, synced_at=T0)


def test_snapshot_keeps_server_order(cache: Cache) -> None:
    """Rows come back in the order the pages delivered them, not sorted by key."""
    order = ["m", "b", "z", "a", "k"]
    w = cache.begin_snapshot("assets")
    w.add([rec(k) for k in order[:2]])
    w.add([rec(k) for k in order[2:]])
    w.commit(server_total=5, watermark=None, synced_at=T0)
    assert keys(cache.load("assets").rows) == order


def test_snapshot_duplicate_key_keeps_first_position_and_latest_data(cache: Cache) -> None:
    """A record delivered twice (it moved between pages) is stored once, with its later copy."""
    w = cache.begin_snapshot("assets")
    w.add([rec("1"), rec("2", name="old name")])
    w.add([rec("3"), rec("2", name="new name")])
    assert w.commit(server_total=3, watermark=None, synced_at=T0) == 3
    rows = cache.load("assets").rows
    assert keys(rows) == ["1", "2", "3"]
    assert rows[1]["name"] == "new name"


def test_snapshot_skips_keyless_rows_and_tombstones(cache: Cache) -> None:
    """Rows without a key and soft-deleted rows are not stored by a snapshot."""
    w = cache.begin_snapshot("assets")
    staged = w.add(
        [rec("1"), {"name": "no key"}, rec("2", deletedAt="2026-03-01T00:00:00Z"), rec("")]
    )
    assert staged == 1
    w.commit(server_total=None, watermark=None, synced_at=T0)
    assert keys(cache.load("assets").rows) == ["1"]


def test_numeric_keys_are_stored(cache: Cache) -> None:
    """A numeric key is accepted (a customised system may send one) and the record kept as is."""
    snapshot(cache, "assets", [rec(1), rec(2)])  # type: ignore[arg-type]
    assert [r["key"] for r in cache.load("assets").rows] == [1, 2]


def test_unknown_fields_round_trip(cache: Cache) -> None:
    """Every field of a record, unknown, nested or non-ASCII, comes back unchanged."""
    row = rec(
        "09000510344864",
        name="Salle de réunion Ω 3",
        customField_costCenter="CC-4411",
        address={"addressLines": ["1 Main St", "Floor 2"], "city": "Zürich"},
        grossArea=1234.5,
        floorsCount=3,
        isActive=True,
        tags=None,
        items=[{"personName": "Ann", "itemType": "equipment"}],
    )
    snapshot(cache, "sites", [row])
    assert cache.load("sites").rows == [row]


def test_two_caches_never_share_rows(tmp_path: Path) -> None:
    """Caches of two connections are separate files: rows of one never appear in the other."""
    a_path, b_path = cache_path_for("aaaa1111"), cache_path_for("bbbb2222")
    assert a_path != b_path
    with Cache.open(a_path) as a, Cache.open(b_path) as b:
        snapshot(a, "assets", [rec("secret-a")])
        snapshot(b, "assets", [rec("b1")])
        assert keys(a.load("assets").rows) == ["secret-a"]
        assert keys(b.load("assets").rows) == ["b1"]
        assert b.info()[0].row_count == 1


def test_staged_json_is_dumps_row_text_exactly(cache: Cache) -> None:
    """The writer's own encoder stores the very text dumps_row writes: unicode unescaped,
    floats, NaN, numeric keys, nesting, and a record too deep for the C encoder."""
    from makini_desktop.store.records import dumps_row

    deep: dict[str, object] = {}
    node = deep
    for _ in range(3000):
        node["n"] = {}
        node = node["n"]  # type: ignore[assignment]
    rows = [
        rec("1", name="Ω café \u2028 \"q\" \\ /", area=12.5, ratio=float("nan"), big=10**30),
        rec("2", items=[{"assetKey": "a", "qty": 1}, None, True, [1.0, -0.0]], tags=[]),
        rec("3", **{"nested": {"x": {"y": [None, False]}}}),
        rec("4", deep=deep),
    ]
    w = cache.begin_snapshot("assets")
    w.add(rows)
    assert cache._conn is not None
    stored = [r[0] for r in cache._conn.execute("SELECT data FROM staging ORDER BY seq")]
    assert stored == [dumps_row(r) for r in rows]
    w.abort()
