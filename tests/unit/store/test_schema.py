"""The versioned schema: created from nothing, migrated in steps, rolled back on failure."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from makini_desktop.store import schema
from makini_desktop.store.cache import (
    SCHEMA_VERSION,
    Cache,
)


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


def test_later_migration_applied_to_older_file(
    db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file at an older schema gets only the newer migrations, callables included."""
    Cache.open(db_path).close()

    def add_column(conn: sqlite3.Connection) -> None:
        conn.execute("ALTER TABLE datasets ADD COLUMN note TEXT")

    migrations = [*schema.MIGRATIONS, (SCHEMA_VERSION + 1, add_column)]
    monkeypatch.setattr(schema, "MIGRATIONS", migrations)
    monkeypatch.setattr(schema, "SCHEMA_VERSION", SCHEMA_VERSION + 1)
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

    monkeypatch.setattr(schema, "MIGRATIONS", [*schema.MIGRATIONS, (99, broken)])
    monkeypatch.setattr(schema, "SCHEMA_VERSION", 99)
    with pytest.raises(RuntimeError):
        Cache.open(db_path)
    conn = sqlite3.connect(db_path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert "note" not in [r[1] for r in conn.execute("PRAGMA table_info(datasets)")]
    conn.close()
