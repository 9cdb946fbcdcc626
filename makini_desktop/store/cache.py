"""The offline cache: one SQLite file per connection, holding the last synced rows.

This module is storage only. When to sync, what counts as stale and how to fall back
when offline is decided in ``sync/``; here is where the rows are kept and how they are
replaced without ever losing the previous copy.

The rooms of the cache, each one thing:

* ``cache`` (here): :class:`Cache`, its reads, incremental changes and clearing.
* :mod:`~makini_desktop.store.snapshot`: :class:`SnapshotWriter`, the atomic full snapshot.
* :mod:`~makini_desktop.store.cache_files`: where the file lives, opening and checking it,
  setting a damaged one aside, the read-only fallback, deleting a connection's files.
* :mod:`~makini_desktop.store.schema`: the versioned schema and its migrations.
* :mod:`~makini_desktop.store.records`: how one record is stored (key, tombstone, JSON).
* :mod:`~makini_desktop.store.row_image`: the decoded rows kept for a faster next read,
  never read once the rows changed.
* :mod:`~makini_desktop.store.cache_errors`: :class:`CacheError` and SQLite failures.

The names other modules use are importable from here.

The promises:

* **Atomic snapshots** (see :mod:`~makini_desktop.store.snapshot`).
* **Incremental changes** (:meth:`Cache.apply_changes`) upsert and delete in one transaction.
* **Order.** Rows come back in the order they were stored: a snapshot in the server's order,
  rows added later by incremental syncs after them. The ``ord`` column is the table's rowid,
  so a snapshot occupies consecutive rowids and a dataset is read in one sequential pass.
* **Whole records.** Each row is stored as the record's full JSON, unknown fields included.
* **No crash on a bad file** (see :mod:`~makini_desktop.store.cache_files`):
  :attr:`Cache.recovered` says what happened in a sentence for the user.
* **Environmental errors are typed.** Disk full, read-only files, locks and I/O errors raise
  :class:`CacheError` with a human message; the previous data stays as it was.

A :class:`Cache` is meant to be used by one thread at a time, but it may be handed to a worker
thread (loading in the background): its connection is opened with ``check_same_thread=False``
and every use is serialised by a lock. :meth:`Cache.iter_load` reads through a connection of
its own, so a background load sees one consistent snapshot.
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import uuid
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from makini_desktop.api.values import parse_datetime
from makini_desktop.store import cache_files, row_image
from makini_desktop.store.cache_errors import CacheError, cache_error
from makini_desktop.store.cache_files import (
    FILE_SUFFIX,
    RecoveryInfo,
    adhoc_key,
    cache_path_for,
    connection_cache_paths,
    delete_connection_caches,
    delete_files,
    profile_cache_key,
)
from makini_desktop.store.records import (
    decode_fields,
    decode_rows,
    dumps_row,
    is_tombstone,
    max_updated_at,
    row_key,
    storable,
    timestamp_text,
    updated_text,
)
from makini_desktop.store.schema import MIGRATIONS, SCHEMA_VERSION
from makini_desktop.store.snapshot import SnapshotWriter
from makini_desktop.store.sqlite_file import SqliteFile

__all__ = [
    "FILE_SUFFIX",
    "MIGRATIONS",
    "SCHEMA_VERSION",
    "Cache",
    "CacheError",
    "CachedList",
    "DatasetInfo",
    "RecoveryInfo",
    "SnapshotWriter",
    "adhoc_key",
    "cache_path_for",
    "connection_cache_paths",
    "delete_connection_caches",
    "delete_files",
    "max_updated_at",
    "profile_cache_key",
]

log = logging.getLogger(__name__)


@dataclass
class CachedList:
    """A dataset as cached: its rows in stored order and how fresh they are.

    Attributes:
        rows: the records, each the full JSON object as received.
        last_full_sync: when the last full snapshot was committed (None: never).
        last_sync: when the dataset was last brought up to date, fully or incrementally.
        watermark: the incremental-sync watermark (the largest ``updatedAt`` seen).
        server_total: the row count the server reported at the last sync that gave one.
    """

    rows: list[dict[str, Any]]
    last_full_sync: datetime | None
    last_sync: datetime | None
    watermark: str | None
    server_total: int | None


@dataclass(frozen=True)
class DatasetInfo:
    """Summary of one cached dataset.

    Attributes:
        dataset: the dataset name (``assets``).
        row_count: rows in the cache.
        last_sync: when it was last brought up to date.
        last_full_sync: when the last full snapshot was committed.
        watermark: the incremental-sync watermark.
        server_total: the row count the server reported.
    """

    dataset: str
    row_count: int
    last_sync: datetime | None
    last_full_sync: datetime | None
    watermark: str | None = None
    server_total: int | None = None


class Cache(SqliteFile):
    """One connection's offline cache (one SQLite file). Create it with :meth:`open`.

    Attributes:
        path: the SQLite file.
        recovered: what :meth:`open` had to set aside, or None.
        read_only: opened for reading only (:meth:`open_readonly`, or a full disk or
            read-only folder found by :meth:`open`): writes raise :class:`CacheError`.
        problem: why :meth:`open` fell back to reading only, in words for the user.
    """

    delete_files = staticmethod(delete_files)

    def __init__(
        self, conn: sqlite3.Connection, path: Path, recovered: RecoveryInfo | None = None
    ) -> None:
        super().__init__(conn, path)
        self.recovered = recovered
        self.read_only = False
        self.problem: str | None = None  # why it is read-only, for the user
        self._snapshots: dict[str, str] = {}  # dataset -> id of its current SnapshotWriter
        self._stamp_on_close = False  # opened and checked by open(): see close()
        self._images: row_image.ImageWriter | None = None  # see _from
        self._image_reads = False  # the file has the row images' tables

    # -- opening and closing ----------------------------------------------------------------

    @classmethod
    def _from(cls, opened: cache_files.OpenedFile) -> Cache:
        cache = cls(opened.conn, opened.path, opened.recovered)
        cache.read_only = opened.read_only
        cache.problem = opened.problem
        cache._image_reads, writes = row_image.usable(opened.conn)
        if writes and not cache.read_only:
            cache._images = row_image.ImageWriter(row_image.connector(opened.path))
        return cache

    @classmethod
    def open(cls, path: Path) -> Cache:
        """Open (creating or migrating) the cache file at ``path``.

        A file that is not a database, is damaged, or has a newer schema is moved aside and
        an empty cache is returned with :attr:`recovered` set. A file that cannot be written
        (a full disk, a read-only folder) is opened for reading only, with :attr:`problem`.

        Raises:
            CacheError: the file cannot be opened or created at all (read-only folder, in
                use by another process while it had to be moved aside, disk full).
        """
        cache = cls._from(cache_files.open_file(Path(path)))
        cache._stamp_on_close = not cache.read_only
        return cache

    @classmethod
    def open_readonly(cls, path: Path) -> Cache:
        """Open an existing cache for reading only: no migration, no clean-up, no write.

        For readers beside a running app (``cache info``, ``export --offline``: opening for
        writing would discard the staging of a sync in progress), and for a cache that can
        no longer be written (a full disk, a read-only folder).

        Raises:
            CacheError: the file is missing, of another schema version, or unreadable.
        """
        return cls._from(cache_files.open_readonly_file(Path(path)))

    @classmethod
    def open_for(cls, connection_key: str) -> Cache:
        """Open the cache of a connection: ``Cache.open(cache_path_for(connection_key))``."""
        return cls.open(cache_path_for(connection_key))

    def _closing(self) -> None:
        self._snapshots.clear()

    def close(self) -> None:
        """Close the file; a cache :meth:`open` checked, closed cleanly as the file's last
        connection, is stamped so the next open need not check it again
        (:func:`~makini_desktop.store.cache_files.note_clean_close`)."""
        was_open = not self.closed
        if self._images is not None:
            self._images.close()  # its last pieces written before the file is stamped
        super().close()
        if was_open and self._stamp_on_close:
            cache_files.note_clean_close(self.path)

    # -- plumbing ----------------------------------------------------------------------------

    @contextlib.contextmanager
    def _read(self, doing: str) -> Iterator[sqlite3.Connection]:
        """One read transaction, so rows and their timestamps come from the same commit."""
        with self._lock:
            conn = self._require()
            try:
                conn.execute("BEGIN")
                try:
                    yield conn
                finally:
                    if conn.in_transaction:
                        conn.execute("COMMIT")
            except sqlite3.Error as exc:
                raise cache_error(exc, doing, self.path) from exc

    @staticmethod
    def _update_meta(
        conn: sqlite3.Connection,
        dataset: str,
        *,
        full: bool,
        synced_at: str,
        watermark: str | None,
        server_total: int | None,
    ) -> int:
        count = int(
            conn.execute("SELECT count(*) FROM rows WHERE dataset = ?", (dataset,)).fetchone()[0]
        )
        conn.execute(
            "INSERT INTO datasets (dataset, last_full_sync, last_sync, watermark, server_total,"
            " row_count) VALUES (?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (dataset) DO UPDATE SET"
            "  last_full_sync = CASE WHEN ? THEN excluded.last_full_sync ELSE last_full_sync END,"
            "  last_sync = excluded.last_sync,"
            "  watermark = CASE WHEN ? THEN excluded.watermark"
            "                   ELSE coalesce(excluded.watermark, watermark) END,"
            "  server_total = CASE WHEN ? THEN excluded.server_total"
            "                      ELSE coalesce(excluded.server_total, server_total) END,"
            "  row_count = excluded.row_count",
            (
                dataset,
                synced_at if full else None,
                synced_at,
                watermark,
                server_total,
                count,
                full,
                full,
                full,
            ),
        )
        return count

    # -- reading -----------------------------------------------------------------------------

    def load(self, dataset: str) -> CachedList:
        """Every cached row of a dataset, in stored order, with its freshness.

        A dataset never synced gives no rows and None timestamps.

        Raises:
            CacheError: the file cannot be read.
        """
        with self._read(f"reading the cached {dataset}") as conn:
            meta = conn.execute(
                "SELECT last_full_sync, last_sync, watermark, server_total"
                " FROM datasets WHERE dataset = ?",
                (dataset,),
            ).fetchone()
            texts = conn.execute(
                "SELECT data FROM rows WHERE dataset = ? ORDER BY ord", (dataset,)
            ).fetchall()
        # Decoding happens outside the lock: it is most of the time and touches no SQLite.
        rows = decode_rows(texts)
        if meta is None:
            return CachedList(rows, None, None, None, None)
        full, last, watermark, total = meta
        return CachedList(
            rows=rows,
            last_full_sync=parse_datetime(full),
            last_sync=parse_datetime(last),
            watermark=watermark if isinstance(watermark, str) else None,
            server_total=total if isinstance(total, int) else None,
        )

    def iter_load(
        self,
        dataset: str,
        chunk: int = 5000,
        *,
        first: int | None = None,
        shared: Collection[str] = (),
        read: row_image.ImageRead | None = None,
    ) -> Iterator[list[dict[str, Any]]]:
        """The cached rows of a dataset in stored order, ``chunk`` rows at a time.

        The first chunk arrives after decoding only ``first`` rows (default: ``chunk``), so
        a table can paint its first screenful before the rest is parsed, and take the rest
        in larger chunks (each chunk handed to a table costs it a fixed amount of work).
        The iteration reads through its own connection in one read transaction: it sees one
        consistent snapshot even if a sync commits meanwhile, and holds no lock between
        chunks. Use :meth:`dataset_info` for the timestamps. ``shared``: fields whose strings
        are interned (see :func:`~makini_desktop.store.records.share_values`); ``read``:
        filled as the read goes (see :class:`~makini_desktop.store.row_image.ImageRead`).

        Raises:
            ValueError: ``chunk`` or ``first`` is less than 1.
            CacheError: the cache is closed or the file cannot be read (also raised from
                the iteration itself).
        """
        if chunk < 1 or (first is not None and first < 1):
            raise ValueError("chunk must be at least 1")
        self._require()
        return self._iter_rows(dataset, chunk, chunk if first is None else first, shared, read)

    def _iter_rows(self, dataset: str, chunk: int, first: int, shared: Collection[str],
                   read: row_image.ImageRead | None) -> Iterator[list[dict[str, Any]]]:
        doing, path = f"reading the cached {dataset}", self.path
        try:
            conn = cache_files.connect(path)
        except sqlite3.Error as exc:
            raise cache_error(exc, doing, path) from exc
        try:
            conn.execute("PRAGMA query_only = ON")
            conn.execute("BEGIN")
            yield from row_image.read_rows(
                conn, dataset, first, chunk, shared,
                images=self._images, image_reads=self._image_reads, read=read)
        except sqlite3.Error as exc:
            raise cache_error(exc, doing, path) from exc
        finally:
            # Also runs when the consumer stops early (generator close): ends the read.
            conn.close()

    def keep_sort(self, dataset: str, read: row_image.ImageRead, payload: Any) -> None:
        """Keep a table's sort of the rows ``read`` read beside their image, for the next
        start (see :class:`~makini_desktop.store.row_image.ImageRead`); best effort."""
        if self._images is not None and not self.closed:
            self._images.index(dataset, read, payload)

    def keep_row_images(self) -> None:
        """Make, in a worker thread, the row image of every list that has none current (a
        sync changed its rows), for a fast next start; call it once the lists are up to
        date (see :meth:`~makini_desktop.store.row_image.ImageWriter.rebuild_all`)."""
        if self._images is not None and not self.closed:
            self._images.rebuild_all()

    def load_fields(
        self, dataset: str, fields: Sequence[str], shared: Collection[str] = ()
    ) -> list[dict[str, Any]] | None:
        """A few top-level fields of every cached row of a dataset, in stored order, without
        decoding the records: SQLite's ``json_extract`` picks them out, as one JSON array
        per record (the names of 50k locations, for the other tabs, in a fraction of the
        time a full decode takes; one array, not a ``->`` per field, parses each record
        once: 0.23 -> 0.11 s for seven fields of 50k locations).

        Each row is a dict of its key (``key``, as stored) and ``fields``, a field the record
        lacks or holds null being None; strings shared as
        :func:`~makini_desktop.store.records.decode_fields` says (``shared``: fields whose
        strings are interned). Reads through a connection of its own, so it may run in a
        worker thread while the cache is used elsewhere.

        Returns:
            The rows, or None when this SQLite has no JSON functions or a stored record is
            not JSON: the caller reads the rows (:meth:`iter_load`) instead.

        Raises:
            CacheError: the cache is closed or the file cannot be read.
        """
        self._require()  # a closed cache raises; the read uses a connection of its own
        # With one path json_extract gives the value itself, not an array: ask twice.
        paths = [f"'{_json_path(f)}'" for f in fields] * (2 if len(fields) == 1 else 1)
        picks = f", json_extract(data, {', '.join(paths)})" if fields else ""
        doing = f"reading the cached {dataset}"
        try:
            reader = cache_files.connect(self.path)
        except sqlite3.Error as exc:
            raise cache_error(exc, doing, self.path) from exc
        try:
            reader.execute("PRAGMA query_only = ON")
            values = reader.execute(
                f"SELECT key{picks} FROM rows WHERE dataset = ? ORDER BY ord", (dataset,)
            ).fetchall()
        except sqlite3.OperationalError as exc:
            # No JSON functions (an old SQLite) or a record that is not JSON: the
            # caller decodes the records, which skips unreadable ones. A file that cannot be
            # read at all fails there too, with its own message.
            log.info("cached fields of %s not read by SQLite: %s", dataset, exc)
            return None
        except sqlite3.Error as exc:
            raise cache_error(exc, doing, self.path) from exc
        finally:
            reader.close()
        return decode_fields(values, fields, shared)

    def info(self) -> list[DatasetInfo]:
        """A summary of every dataset in the cache, by name."""
        with self._read("reading the offline cache summary") as conn:
            rows = conn.execute(
                "SELECT dataset, row_count, last_sync, last_full_sync, watermark, server_total"
                " FROM datasets ORDER BY dataset"
            ).fetchall()
        return [self._info(row) for row in rows]

    def dataset_info(self, dataset: str) -> DatasetInfo | None:
        """The summary of one dataset, or None if it was never synced."""
        with self._read("reading the offline cache summary") as conn:
            row = conn.execute(
                "SELECT dataset, row_count, last_sync, last_full_sync, watermark, server_total"
                " FROM datasets WHERE dataset = ?",
                (dataset,),
            ).fetchone()
        return self._info(row) if row is not None else None

    @staticmethod
    def _info(row: tuple[Any, ...]) -> DatasetInfo:
        dataset, count, last, full, watermark, total = row
        return DatasetInfo(
            dataset=str(dataset),
            row_count=int(count or 0),
            last_sync=parse_datetime(last),
            last_full_sync=parse_datetime(full),
            watermark=watermark if isinstance(watermark, str) else None,
            server_total=total if isinstance(total, int) else None,
        )

    # -- writing -----------------------------------------------------------------------------

    def begin_snapshot(self, dataset: str) -> SnapshotWriter:
        """Start replacing a dataset's rows with a full snapshot.

        Staging left by an earlier writer for this dataset (aborted, crashed, or still
        running and now superseded) is discarded first.

        Raises:
            CacheError: the staging area cannot be cleared (disk, lock).
        """
        snapshot_id = uuid.uuid4().hex
        with self._transaction(f"starting to save the synced {dataset}") as conn:
            conn.execute("DELETE FROM staging WHERE dataset = ?", (dataset,))
            self._snapshots[dataset] = snapshot_id
        return SnapshotWriter(self, dataset, snapshot_id)

    def apply_changes(
        self,
        dataset: str,
        rows: Sequence[Mapping[str, Any]],
        *,
        watermark: str | None,
        synced_at: datetime,
        server_total: int | None,
    ) -> int:
        """Apply an incremental sync's changes in one transaction.

        Rows with a non-null ``deletedAt`` are tombstones: the cached row with that key is
        deleted. Other rows replace the cached row with the same key in place, or are
        appended after the existing rows, in the order given. ``last_sync`` is set,
        ``last_full_sync`` is not.

        Args:
            dataset: the dataset name.
            rows: changed records as received (tombstones included).
            watermark: the new watermark; None keeps the stored one.
            synced_at: when the changes were fetched (timezone-aware).
            server_total: the dataset's total on the server if known; None keeps the stored
                one (an incremental response's total counts the changes, not the dataset).

        Returns:
            The dataset's row count afterwards.

        Raises:
            CacheError: the change could not be written; the cache is as before.
            ValueError: ``synced_at`` is naive.
        """
        synced = timestamp_text(synced_at)
        upserts: list[tuple[str, str, str | None, str]] = []
        deletes: list[tuple[str, str]] = []
        plan: list[tuple[bool, int]] = []  # (is_delete, index) keeps the original order
        skipped = 0
        for row in rows:
            key = row_key(row)
            if key is None:
                skipped += 1
                continue
            if is_tombstone(row):
                plan.append((True, len(deletes)))
                deletes.append((dataset, key))
            else:
                plan.append((False, len(upserts)))
                upserts.append((dataset, key, updated_text(row), dumps_row(row)))
        if skipped:
            log.warning("Ignored %d %s change(s) without a key", skipped, dataset)
        def apply(
            upserts: Sequence[tuple[Any, ...]], deletes: Sequence[tuple[Any, ...]]
        ) -> int:
            with self._transaction(f"saving the changes to {dataset}") as conn:
                for is_delete, index in plan:
                    if is_delete:
                        conn.execute(
                            "DELETE FROM rows WHERE dataset = ? AND key = ?", deletes[index]
                        )
                    else:
                        conn.execute(_UPSERT_ROW, upserts[index])
                return self._update_meta(
                    conn,
                    dataset,
                    full=False,
                    synced_at=synced,
                    watermark=watermark,
                    server_total=server_total,
                )

        try:
            return apply(upserts, deletes)
        except UnicodeEncodeError:  # lone surrogates: rolled back, apply escaped
            return apply(storable(upserts), storable(deletes))

    def clear(self) -> None:
        """Delete every cached row and timestamp, then give the space back to the disk.

        Raises:
            CacheError: the cache could not be cleared; it is as before.
        """
        with self._transaction("clearing the offline cache") as conn:
            conn.execute("DELETE FROM rows")
            conn.execute("DELETE FROM datasets")
            conn.execute("DELETE FROM staging")
            conn.execute("DELETE FROM row_images")
            self._snapshots.clear()
        with self._lock:
            conn = self._require()
            try:
                conn.execute("VACUUM")
            except sqlite3.Error as exc:  # the data is gone already; shrinking is a bonus
                log.info("VACUUM after clearing the cache failed: %s", exc)


# Later copy wins (a record that moved between pages during a sync was fetched again, later);
# the position of the first copy is kept.
_UPSERT_ROW = (
    "INSERT INTO rows (dataset, key, updated_at, data) VALUES (?, ?, ?, ?)"
    " ON CONFLICT (dataset, key) DO UPDATE SET"
    " updated_at = excluded.updated_at, data = excluded.data"
)


def _json_path(field: str) -> str:
    """The JSON path of a top-level field, quoted (a field name is ours, never user data)."""
    if '"' in field or "'" in field or "\\" in field:
        raise ValueError(f"unsupported field name {field!r}")
    return f'$."{field}"'
