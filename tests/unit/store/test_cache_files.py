"""Cache files: where they live, bad files set aside, the read-only fallback, deleting them."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from makini_desktop.store import cache_files
from makini_desktop.store.cache import (
    SCHEMA_VERSION,
    Cache,
    CacheError,
    adhoc_key,
    cache_path_for,
    delete_files,
)
from tests.unit.store.cache_rows import keys, rec, snapshot


def test_connection_pragmas(cache: Cache) -> None:
    """The cache runs in WAL mode with synchronous=NORMAL, foreign keys and a busy timeout."""
    conn = cache._conn
    assert conn is not None
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA synchronous").fetchone()[0] == 1
    assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert conn.execute("PRAGMA busy_timeout").fetchone()[0] > 0


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


def _counting_checks(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    checks: list[int] = []
    real = cache_files.quick_check

    def counted(conn: sqlite3.Connection) -> list[tuple[str]]:
        checks.append(1)
        return real(conn)

    monkeypatch.setattr(cache_files, "quick_check", counted)
    return checks


def test_cleanly_closed_file_opens_without_a_full_check(
    db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A cache this app closed cleanly and nobody touched since opens without reading every
    page again, with its rows; the next open after that checks unless it was closed again."""
    with Cache.open(db_path) as c:
        snapshot(c, "assets", [rec("1")])
    checks = _counting_checks(monkeypatch)
    c = Cache.open(db_path)
    assert checks == []
    assert keys(c.load("assets").rows) == ["1"]
    c._require()  # still open: a crash now leaves no stamp behind
    again = Cache.open(db_path)
    assert checks == [1]
    again.close()
    c.close()


def test_file_changed_after_a_clean_close_is_checked(
    db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A cache changed on disk after the app closed it (a copy, a restore, a damaged
    sector rewritten) is checked again at the next open, and set aside when damaged."""
    with Cache.open(db_path) as c:
        snapshot(c, "assets", [rec(str(i), description="x" * 500) for i in range(400)])
    data = bytearray(db_path.read_bytes())
    for offset in range(2 * 4096, len(data), 7 * 4096):
        data[offset : offset + 64] = b"\xa5" * 64
    db_path.write_bytes(bytes(data))  # same size, new contents
    checks = _counting_checks(monkeypatch)
    with Cache.open(db_path) as c:
        assert checks  # the damaged file (and then the new empty one)
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
    for _ in range(cache_files.MOVED_ASIDE_KEEP + 3):
        db_path.write_bytes(b"junk" * 100)
        with Cache.open(db_path) as c:
            assert c.recovered is not None
            moved.append(c.recovered.moved_to)
    assert cache_files._moved_aside(db_path) == moved[-cache_files.MOVED_ASIDE_KEEP :]


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


def test_a_reader_beside_a_running_sync_does_not_disturb_it(tmp_path):
    """`cache info` or an offline export while the app syncs leaves the sync to commit."""

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

    from makini_desktop.store.cache import Cache

    path = tmp_path / "c.sqlite3"
    with Cache.open(path) as cache:
        writer = cache.begin_snapshot("sites")
        writer.add([{"key": "1", "name": "HQ"}])
        writer.commit(server_total=1, watermark=None, synced_at=datetime.now(UTC))

    def full_disk(p):
        raise CacheError("The disk is full: opening the offline cache failed.", reason="disk_full")

    monkeypatch.setattr(cache_files, "_open_checked", full_disk)
    with Cache.open(path) as cache:
        assert cache.read_only and "nothing new is saved" in cache.problem
        assert [r["name"] for r in cache.load("sites").rows] == ["HQ"]
        with pytest.raises(CacheError):
            cache.begin_snapshot("sites")
