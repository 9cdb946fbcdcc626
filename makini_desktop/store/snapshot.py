"""Replacing a dataset's cached rows with a full snapshot, atomically.

A full sync stages its pages with :meth:`SnapshotWriter.add` (each page in its own short
transaction, so memory stays bounded) and swaps them in with :meth:`SnapshotWriter.commit`
in ONE transaction. Until that commit, readers see the previous snapshot and its timestamps,
whatever happens: an exception, a cancelled sync, a killed process or a full disk. Leftover
staging rows are discarded on the next :meth:`Cache.begin_snapshot` for the dataset and
when the file is opened.

The writer works inside its :class:`~makini_desktop.store.cache.Cache`: it takes the
cache's lock and transactions, and the cache remembers which writer is current for each
dataset, so a newer sync supersedes an unfinished one.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import datetime
from types import TracebackType
from typing import TYPE_CHECKING, Any

from makini_desktop.store.cache_errors import CacheError
from makini_desktop.store.records import (
    dumps_row,
    is_tombstone,
    max_updated_at,
    row_key,
    storable,
    timestamp_text,
    updated_text,
)

if TYPE_CHECKING:
    from makini_desktop.store.cache import Cache

__all__ = ["SnapshotWriter"]

log = logging.getLogger(__name__)


class SnapshotWriter:
    """Stages a full snapshot of one dataset, page by page, and swaps it in atomically.

    Create with :meth:`Cache.begin_snapshot`. Usable as a context manager: leaving the block
    without :meth:`commit` aborts.

    Attributes:
        dataset: the dataset being replaced.
        staged: rows staged so far.
        max_updated_at: the largest ``updatedAt`` staged so far (the natural watermark).
    """

    def __init__(self, cache: Cache, dataset: str, snapshot_id: str) -> None:
        self._cache = cache
        self.dataset = dataset
        self._id = snapshot_id
        self._done = False
        self.staged = 0
        self.max_updated_at: str | None = None

    @property
    def done(self) -> bool:
        """True after :meth:`commit` or :meth:`abort`."""
        return self._done

    def _check(self) -> None:
        if self._done:
            raise CacheError("This snapshot was already committed or aborted.", reason="closed")
        if self._cache._snapshots.get(self.dataset) != self._id:
            self._done = True
            raise CacheError(
                f"A newer sync of {self.dataset} replaced this one.", reason="superseded"
            )

    def add(self, rows: Sequence[Mapping[str, Any]]) -> int:
        """Stage one page of rows, in its own transaction.

        Rows without a ``key`` and tombstones (non-null ``deletedAt``) are not staged.

        Returns:
            How many of the rows were staged.

        Raises:
            CacheError: the page could not be written (the previous snapshot is untouched),
                or this writer was committed, aborted or superseded.
        """
        values: list[tuple[str, str, str, str | None, str]] = []
        for row in rows:
            key = row_key(row)
            if key is None or is_tombstone(row):
                continue
            values.append((self._id, self.dataset, key, updated_text(row), dumps_row(row)))
        if len(values) != len(rows):
            log.info("Did not stage %d %s row(s)", len(rows) - len(values), self.dataset)
        with self._cache._lock:
            self._check()
            if values:
                try:
                    self._stage(values)
                except UnicodeEncodeError:  # lone surrogates: rolled back, stage escaped
                    self._stage(storable(values))
        self.staged += len(values)
        self.max_updated_at = max_updated_at(rows, self.max_updated_at)
        return len(values)

    def _stage(self, values: Sequence[tuple[Any, ...]]) -> None:
        with self._cache._transaction(f"saving the synced {self.dataset}") as conn:
            conn.executemany(
                "INSERT INTO staging (snapshot, dataset, key, updated_at, data)"
                " VALUES (?, ?, ?, ?, ?)",
                values,
            )

    def commit(
        self, *, server_total: int | None, watermark: str | None, synced_at: datetime
    ) -> int:
        """Replace the dataset's rows with the staged ones, in ONE transaction.

        Sets ``last_full_sync`` and ``last_sync`` to ``synced_at``, and the watermark and
        server total to the values given (None stores None).

        Returns:
            The dataset's row count afterwards.

        Raises:
            CacheError: the swap could not be written; the previous snapshot and its
                timestamps are unchanged and the staging is discarded.
            ValueError: ``synced_at`` is naive.
        """
        synced = timestamp_text(synced_at)
        doing = f"saving the synced {self.dataset}"
        with self._cache._lock:
            self._check()
            try:
                with self._cache._transaction(doing) as conn:
                    # Another process on the same file (a second app window opening it, or
                    # starting its own sync of this dataset) discards our staging. Swapping
                    # in what is left would replace the dataset with a partial or empty one.
                    present = conn.execute(
                        "SELECT count(*) FROM staging WHERE snapshot = ?", (self._id,)
                    ).fetchone()[0]
                    if present != self.staged:
                        raise CacheError(
                            f"Another makini-desktop window discarded this sync of "
                            f"{self.dataset}; the cached data is unchanged.",
                            reason="superseded",
                        )
                    conn.execute("DELETE FROM rows WHERE dataset = ?", (self.dataset,))
                    # Rowids are handed out in SELECT order: the server's order is kept.
                    conn.execute(
                        "INSERT INTO rows (dataset, key, updated_at, data)"
                        " SELECT dataset, key, updated_at, data FROM staging"
                        " WHERE snapshot = ? ORDER BY seq"
                        " ON CONFLICT (dataset, key) DO UPDATE SET"
                        " updated_at = excluded.updated_at, data = excluded.data",
                        (self._id,),
                    )
                    conn.execute("DELETE FROM staging WHERE snapshot = ?", (self._id,))
                    count = self._cache._update_meta(
                        conn,
                        self.dataset,
                        full=True,
                        synced_at=synced,
                        watermark=watermark,
                        server_total=server_total,
                    )
            except CacheError:
                self._discard()
                raise
            self._finish()
        log.info("Saved a snapshot of %d %s row(s)", count, self.dataset)
        return count

    def abort(self) -> None:
        """Discard the staged rows; the cached snapshot stays as it was. Safe to repeat."""
        with self._cache._lock:
            if self._done:
                return
            self._discard()

    def _finish(self) -> None:
        self._done = True
        if self._cache._snapshots.get(self.dataset) == self._id:
            del self._cache._snapshots[self.dataset]

    def _discard(self) -> None:
        self._finish()
        if self._cache.closed:
            return
        try:
            with self._cache._transaction(f"discarding the unsaved {self.dataset}") as conn:
                conn.execute("DELETE FROM staging WHERE snapshot = ?", (self._id,))
        except CacheError as exc:
            # Harmless: leftover staging is discarded on the next begin_snapshot or open.
            log.info("Could not discard staging for %s: %s", self.dataset, exc.reason)

    def __enter__(self) -> SnapshotWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if not self._done:
            self.abort()
