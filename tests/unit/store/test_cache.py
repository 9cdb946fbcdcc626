"""The SQLite offline cache: atomic snapshots, incremental changes, recovery from bad files."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from makini_desktop.store import cache as cache_mod
from makini_desktop.store.cache import (
    SCHEMA_VERSION,
    Cache,
    CacheError,
    adhoc_key,
    cache_path_for,
    delete_files,
    max_updated_at,
)

T0 = datetime(2026, 3, 14, 9, 30, tzinfo=UTC)
T1 = T0 + timedelta(hours=1)
T2 = T0 + timedelta(hours=2)


def rec(key: str, name: str | None = None, **extra: Any) -> dict[str, Any]:
    """A minimal record in the contract's shape."""
    row: dict[str, Any] = {
        "key": key,
        "name": name or f"Asset {key}",
        "createdAt": "2026-01-01T00:00:00Z",
        "updatedAt": "2026-03-01T00:00:00Z",
        "deletedAt": None,
    }
    row.update(extra)
    return row


def keys(rows: list[dict[str, Any]]) -> list[str]:
    return [r["key"] for r in rows]


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "conn.sqlite3"


@pytest.fixture
def cache(db_path: Path) -> Iterator[Cache]:
    c = Cache.open(db_path)
    yield c
    c.close()


def snapshot(c: Cache, dataset: str, rows: list[dict[str, Any]], at: datetime = T0) -> int:
    w = c.begin_snapshot(dataset)
    w.add(rows)
    return w.commit(server_total=len(rows), watermark=w.max_updated_at, synced_at=at)


# -- opening, schema, recovery ---------------------------------------------------------------


def test_open_creates_schema_from_nothing(db_path: Path) -> None:
    """Opening a missing file creates it with every migration applied."""
    with Cache.open(db_path) as c:
        assert c.recovered is None
    conn = sqlite3.connect(db_path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"rows", "datasets", "staging"} <= tables
    conn.close()


def test_migrations_applied_from_version_zero(db_path: Path) -> None:
    """An existing empty SQLite file at user_version 0 is migrated, not set aside."""
    sqlite3.connect(db_path).close()  # zero-byte file
    conn = sqlite3.connect(db_path)
    conn.execute("CREATE TABLE unrelated (x)")  # makes it a real, non-empty database
    conn.close()
    with Cache.open(db_path) as c:
        assert c.recovered is None
        assert c.load("assets").rows == []
    conn = sqlite3.connect(db_path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    conn.close()


def test_connection_pragmas(cache: Cache) -> None:
    """The cache runs in WAL mode with synchronous=NORMAL, foreign keys and a busy timeout."""
    conn = cache._conn
    assert conn is not None
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA synchronous").fetchone()[0] == 1
    assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert conn.execute("PRAGMA busy_timeout").fetchone()[0] > 0


def test_later_migration_applied_to_older_file(
    db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file at an older schema gets only the newer migrations, callables included."""
    Cache.open(db_path).close()

    def add_column(conn: sqlite3.Connection) -> None:
        conn.execute("ALTER TABLE datasets ADD COLUMN note TEXT")

    migrations = [*cache_mod.MIGRATIONS, (SCHEMA_VERSION + 1, add_column)]
    monkeypatch.setattr(cache_mod, "MIGRATIONS", migrations)
    monkeypatch.setattr(cache_mod, "SCHEMA_VERSION", SCHEMA_VERSION + 1)
    with Cache.open(db_path) as c:
        assert c.recovered is None
        conn = c._conn
        assert conn is not None
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION + 1
        columns = [r[1] for r in conn.execute("PRAGMA table_info(datasets)")]
        assert "note" in columns


def test_failing_migration_is_rolled_back(db_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A migration that fails half-way leaves neither its changes nor a new user_version."""
    Cache.open(db_path).close()

    def broken(conn: sqlite3.Connection) -> None:
        conn.execute("ALTER TABLE datasets ADD COLUMN note TEXT")
        raise RuntimeError("bug in migration")

    monkeypatch.setattr(cache_mod, "MIGRATIONS", [*cache_mod.MIGRATIONS, (99, broken)])
    monkeypatch.setattr(cache_mod, "SCHEMA_VERSION", 99)
    with pytest.raises(RuntimeError):
        Cache.open(db_path)
    conn = sqlite3.connect(db_path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert "note" not in [r[1] for r in conn.execute("PRAGMA table_info(datasets)")]
    conn.close()


def test_newer_schema_file_moved_aside(db_path: Path) -> None:
    """A file from a newer schema is renamed .newer-<time> and an empty cache replaces it."""
    conn = sqlite3.connect(db_path)
    conn.execute("CREATE TABLE future (x)")
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 5}")
    conn.close()
    with Cache.open(db_path) as c:
        assert c.recovered is not None
        assert c.recovered.kind == "newer"
        assert c.recovered.moved_to.name.startswith("conn.sqlite3.newer-")
        assert c.recovered.moved_to.exists()
        assert "newer version" in c.recovered.message
        assert c.load("assets").rows == []
    moved = sqlite3.connect(c.recovered.moved_to)
    assert moved.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION + 5
    moved.close()


def test_garbage_file_moved_aside(db_path: Path) -> None:
    """A file that is not SQLite is renamed .corrupt-<time>; open still succeeds."""
    db_path.write_bytes(b"this is not a database at all\n" * 200)
    wal = db_path.with_name(db_path.name + "-wal")
    wal.write_bytes(b"stale wal")
    with Cache.open(db_path) as c:
        assert c.recovered is not None
        assert c.recovered.kind == "corrupt"
        assert c.recovered.moved_to.name.startswith("conn.sqlite3.corrupt-")
        assert c.recovered.moved_to.read_bytes().startswith(b"this is not")
        # The stale -wal went with it, so it cannot be replayed into the new file.
        assert c.recovered.moved_to.with_name(c.recovered.moved_to.name + "-wal").exists()
        snapshot(c, "assets", [rec("1")])
        assert keys(c.load("assets").rows) == ["1"]


def test_truncated_file_moved_aside(db_path: Path) -> None:
    """A database cut short (a crash while copying, a full disk) is set aside and rebuilt."""
    with Cache.open(db_path) as c:
        snapshot(c, "assets", [rec(str(i), description="x" * 500) for i in range(400)])
    data = db_path.read_bytes()
    db_path.write_bytes(data[: len(data) // 2])
    with Cache.open(db_path) as c:
        assert c.recovered is not None
        assert c.recovered.kind == "corrupt"
        assert c.load("assets").rows == []


def test_corrupted_page_moved_aside(db_path: Path) -> None:
    """A database whose pages were overwritten fails quick_check and is set aside."""
    with Cache.open(db_path) as c:
        snapshot(c, "assets", [rec(str(i), description="x" * 500) for i in range(400)])
    data = bytearray(db_path.read_bytes())
    page = 4096
    for offset in range(2 * page, len(data), 7 * page):
        data[offset : offset + 64] = b"\xa5" * 64
    db_path.write_bytes(bytes(data))
    with Cache.open(db_path) as c:
        assert c.recovered is not None
        assert c.recovered.kind == "corrupt"


def test_foreign_database_moved_aside(db_path: Path) -> None:
    """A SQLite file of another shape claiming our schema version is set aside, not used."""
    conn = sqlite3.connect(db_path)
    conn.execute("CREATE TABLE something (x)")
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
    conn.close()
    with Cache.open(db_path) as c:
        assert c.recovered is not None
        assert c.recovered.kind == "corrupt"


def test_only_a_few_moved_aside_copies_kept(db_path: Path) -> None:
    """Repeated recoveries keep only the most recent moved-aside copies."""
    moved: list[Path] = []
    for _ in range(cache_mod.MOVED_ASIDE_KEEP + 3):
        db_path.write_bytes(b"junk" * 100)
        with Cache.open(db_path) as c:
            assert c.recovered is not None
            moved.append(c.recovered.moved_to)
    assert cache_mod._moved_aside(db_path) == moved[-cache_mod.MOVED_ASIDE_KEEP :]


# -- snapshots -------------------------------------------------------------------------------


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


# -- incremental changes ---------------------------------------------------------------------


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


# -- reading ---------------------------------------------------------------------------------


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


# -- files and keys --------------------------------------------------------------------------


def test_cache_path_for_lives_in_cache_dir(_isolated_home: Path) -> None:
    """A profile id maps to <home>/cache/<id>.sqlite3; unsafe keys are hashed."""
    assert cache_path_for("0123abcd") == _isolated_home / "cache" / "0123abcd.sqlite3"
    for bad in ("../../etc/passwd", "CON", "con", "Upper", "a" * 200, "x y"):
        path = cache_path_for(bad)
        assert path.parent == _isolated_home / "cache"
        assert path.name.startswith("key-")
    assert cache_path_for("Upper") != cache_path_for("upper")
    with pytest.raises(ValueError):
        cache_path_for("")


def test_adhoc_key_is_stable_and_normalised() -> None:
    """Ad-hoc keys ignore URL spelling differences but separate different identities."""
    key = adhoc_key("https://api.makini.io")
    assert key.startswith("adhoc-") and len(key) == len("adhoc-") + 16
    assert adhoc_key("HTTPS://api.makini.io/") == key
    assert adhoc_key("https://other.example") != key
    assert adhoc_key("https://api.makini.io", "integration-1") != key
    assert adhoc_key("https://api.makini.io", "integration-1") != adhoc_key(
        "https://api.makini.io", "integration-2"
    )
    assert cache_path_for(key).name == f"{key}.sqlite3"


def test_delete_files_removes_database_and_side_files(db_path: Path) -> None:
    """delete_files removes the database, its -wal/-shm and moved-aside copies."""
    db_path.write_bytes(b"garbage" * 50)
    Cache.open(db_path).close()  # leaves a .corrupt- copy
    c = Cache.open(db_path)
    snapshot(c, "assets", [rec("1")])
    c.close()
    for suffix in ("-wal", "-shm"):
        db_path.with_name(db_path.name + suffix).write_bytes(b"x")
    Cache.delete_files(db_path)
    assert list(db_path.parent.iterdir()) == []
    delete_files(db_path)  # nothing left: still fine


def test_max_updated_at_compares_instants() -> None:
    """The watermark helper compares timestamps as instants, not as text."""
    rows = [
        {"updatedAt": "2026-03-14T09:30:00Z"},
        {"updatedAt": "2026-03-14T09:30:00.500Z"},
        {"updatedAt": "not a date"},
        {},
    ]
    assert max_updated_at(rows) == "2026-03-14T09:30:00.500Z"
    assert max_updated_at(rows, "2027-01-01T00:00:00Z") == "2027-01-01T00:00:00Z"
    assert max_updated_at([]) is None


def test_a_reader_beside_a_running_sync_does_not_disturb_it(tmp_path):
    """`cache info` or an offline export while the app syncs leaves the sync to commit."""
    from datetime import UTC, datetime

    from makini_desktop.store.cache import Cache

    path = tmp_path / "c.sqlite3"
    with Cache.open(path) as cache:
        first = cache.begin_snapshot("assets")
        first.add([{"key": "1", "name": "A", "updatedAt": "2026-01-01T00:00:00Z"}])
        first.commit(server_total=1, watermark=None, synced_at=datetime.now(UTC))
        writer = cache.begin_snapshot("assets")
        writer.add([{"key": "2", "name": "B", "updatedAt": "2026-01-02T00:00:00Z"}])
        with Cache.open_readonly(path) as reader:
            assert reader.read_only
            assert [r["key"] for r in reader.load("assets").rows] == ["1"]
        writer.commit(server_total=1, watermark=None, synced_at=datetime.now(UTC))
        assert [r["key"] for r in cache.load("assets").rows] == ["2"]


def test_a_cache_that_cannot_be_written_is_still_shown(tmp_path, monkeypatch):
    """On a full disk or read-only folder the cached rows still open, read-only, with a
    message; saving then fails with a clear error instead of a crash."""
    from datetime import UTC, datetime

    from makini_desktop.store import cache as cache_mod
    from makini_desktop.store.cache import Cache, CacheError

    path = tmp_path / "c.sqlite3"
    with Cache.open(path) as cache:
        writer = cache.begin_snapshot("sites")
        writer.add([{"key": "1", "name": "HQ"}])
        writer.commit(server_total=1, watermark=None, synced_at=datetime.now(UTC))

    def full_disk(p):
        raise CacheError("The disk is full: opening the offline cache failed.", reason="disk_full")

    monkeypatch.setattr(cache_mod, "_open_checked", full_disk)
    with Cache.open(path) as cache:
        assert cache.read_only and "nothing new is saved" in cache.problem
        assert [r["name"] for r in cache.load("sites").rows] == ["HQ"]
        with pytest.raises(CacheError):
            cache.begin_snapshot("sites")
