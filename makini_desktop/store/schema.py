"""The offline cache's versioned schema: the migrations and how they are applied.

Schema changes are appended to :data:`MIGRATIONS`; ``PRAGMA user_version`` records the last
one applied, each applied in its own transaction. A file whose version is above
:data:`SCHEMA_VERSION` was written by a newer app and is set aside (see ``cache_files``).

Code that compares against the current version reads ``schema.SCHEMA_VERSION`` at call
time, so a test can add a migration by patching this module alone.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable
from typing import Final

__all__ = ["MIGRATIONS", "SCHEMA_VERSION", "Migration", "migrate"]

log = logging.getLogger(__name__)

Migration = str | Callable[[sqlite3.Connection], None]

MIGRATIONS: list[tuple[int, Migration]] = [
    (
        1,
        """
        CREATE TABLE datasets (
            dataset        TEXT PRIMARY KEY,
            last_full_sync TEXT,
            last_sync      TEXT,
            watermark      TEXT,
            server_total   INTEGER,
            row_count      INTEGER NOT NULL DEFAULT 0
        );
        -- ord is the rowid: consecutive for a snapshot, so reading a dataset in order is a
        -- sequential scan. A rowid table (not WITHOUT ROWID) because records of ~600 bytes
        -- are far above the size WITHOUT ROWID tables handle well.
        CREATE TABLE rows (
            ord        INTEGER PRIMARY KEY,
            dataset    TEXT NOT NULL,
            key        TEXT NOT NULL,
            updated_at TEXT,
            data       TEXT NOT NULL
        );
        CREATE UNIQUE INDEX rows_key ON rows (dataset, key);
        CREATE INDEX rows_ord ON rows (dataset, ord);
        CREATE TABLE staging (
            seq        INTEGER PRIMARY KEY,
            snapshot   TEXT NOT NULL,
            dataset    TEXT NOT NULL,
            key        TEXT NOT NULL,
            updated_at TEXT,
            data       TEXT NOT NULL
        );
        CREATE INDEX staging_snapshot ON staging (snapshot, seq);
        """,
    ),
    (
        2,
        # The outbox (store/outbox.py): the user's changes not yet confirmed by the server.
        # Additive only: a version-1 file keeps its rows and gains an empty outbox. seq is
        # AUTOINCREMENT so a removed change's number is never handed out again (the created
        # order stays strict across removals).
        """
        CREATE TABLE outbox (
            seq             INTEGER PRIMARY KEY AUTOINCREMENT,
            dataset         TEXT NOT NULL,
            record_key      TEXT NOT NULL,
            action          TEXT NOT NULL,
            kind            TEXT NOT NULL,
            body            TEXT NOT NULL,
            idempotency_key TEXT NOT NULL UNIQUE,
            occurred_at     TEXT NOT NULL,
            before          TEXT,
            state           TEXT NOT NULL DEFAULT 'waiting',
            reason          TEXT,
            request_id      TEXT,
            http_status     INTEGER,
            error_code      TEXT,
            server_record   TEXT,
            attempts        INTEGER NOT NULL DEFAULT 0,
            created_at      TEXT NOT NULL,
            last_attempt_at TEXT
        );
        CREATE INDEX outbox_record ON outbox (dataset, record_key, seq);
        """,
    ),
    (
        3,
        # Row images (store/row_image.py): a dataset's decoded rows, for a faster next
        # start. The triggers count every change to a dataset's rows in its generation,
        # whichever code writes them; an image is read only with the generation it was
        # made of. Additive: nothing else changes. piece: the first row's number, or -1
        # for the header of a whole image (its gen and row count); build: one read's.
        """
        CREATE TABLE row_images (
            dataset TEXT NOT NULL,
            build   INTEGER NOT NULL,
            piece   INTEGER NOT NULL,
            rows    INTEGER NOT NULL,
            crc     INTEGER NOT NULL,
            fmt     TEXT NOT NULL,
            gen     INTEGER NOT NULL,
            blob    BLOB,
            PRIMARY KEY (dataset, build, piece)
        );
        CREATE INDEX row_images_header ON row_images (dataset, piece);
        CREATE TABLE row_generations (
            dataset TEXT PRIMARY KEY,
            gen     INTEGER NOT NULL
        );
        CREATE TRIGGER rows_insert_counts AFTER INSERT ON rows BEGIN
            INSERT INTO row_generations (dataset, gen) VALUES (NEW.dataset, 1)
            ON CONFLICT (dataset) DO UPDATE SET gen = gen + 1;
        END;
        CREATE TRIGGER rows_update_counts AFTER UPDATE ON rows BEGIN
            INSERT INTO row_generations (dataset, gen) VALUES (NEW.dataset, 1)
            ON CONFLICT (dataset) DO UPDATE SET gen = gen + 1;
            UPDATE row_generations SET gen = gen + 1 WHERE dataset = OLD.dataset
                AND OLD.dataset != NEW.dataset;
        END;
        CREATE TRIGGER rows_delete_counts AFTER DELETE ON rows BEGIN
            INSERT INTO row_generations (dataset, gen) VALUES (OLD.dataset, 1)
            ON CONFLICT (dataset) DO UPDATE SET gen = gen + 1;
        END;
        """,
    ),
]
"""Schema migrations in order: (version, SQL script or callable taking the connection)."""

SCHEMA_VERSION: Final = MIGRATIONS[-1][0]


def split_sql(script: str) -> list[str]:
    """Split a script into statements (``executescript`` would commit our transaction)."""
    statements: list[str] = []
    pending = ""
    for piece in script.split(";"):
        pending += piece + ";"
        if sqlite3.complete_statement(pending):
            body = "\n".join(
                line for line in pending.splitlines() if not line.strip().startswith("--")
            ).strip()
            if body.strip(";").strip():
                statements.append(body)
            pending = ""
    return statements


def migrate(conn: sqlite3.Connection, version: int) -> None:
    """Apply every migration newer than ``version``, each in its own transaction."""
    for target, step in MIGRATIONS:
        if target <= version:
            continue
        conn.execute("BEGIN IMMEDIATE")
        try:
            if callable(step):
                step(conn)
            else:
                for statement in split_sql(step):
                    conn.execute(statement)
            # user_version lives in the file header and is written by this same transaction.
            conn.execute(f"PRAGMA user_version = {int(target)}")
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        log.info("Offline cache migrated to schema %d", target)

