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

:class:`StagingThread` runs one writer from an event loop: pages are queued to ONE worker
thread that lives as long as the snapshot, in order, and the loop never waits for a page
to be written (only when too many are queued, which bounds memory). The next page is
fetched and shown while the previous one is staged.
"""

from __future__ import annotations

import asyncio
import json.encoder
import logging
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar

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

__all__ = ["MAX_QUEUED_PAGES", "SnapshotWriter", "StagingThread"]

MAX_QUEUED_PAGES = 16
"""Writes (a page, or pages staged together) queued before :meth:`StagingThread.stage`
waits (bounds memory)."""
STAGE_BATCH_ROWS = 1000
"""Rows of consecutive pages a :class:`StagingThread` writes in one transaction (after the
first page, written alone): a transaction per 100-row page was 1,750 of them in a large
first load, their BEGIN and COMMIT about 1.2 s of the writer threads' time, and a wake-up
of a writer thread per page."""

_T = TypeVar("_T")

log = logging.getLogger(__name__)

# json.dumps(row, ensure_ascii=False, separators=(",", ":")) builds a JSONEncoder and its C
# encoder for every call: a third of the time of a small record (measured: 6.2 µs a
# 650-byte asset, 4.2 µs with one C encoder made once; 175k rows staged per first load,
# on a writer thread that shares the GIL with the window). Without the circular check (JSON
# data cannot refer to itself); what it cannot encode goes to dumps_row.
# typeshed does not declare c_make_encoder (None where the C accelerator is missing).
_c_encoder: Any = getattr(json.encoder, "c_make_encoder", None)
_encode: Callable[[Any, int], list[str]] | None = None if _c_encoder is None else _c_encoder(
    None, json.JSONEncoder().default, json.encoder.encode_basestring, None, ":", ",",
    False, False, True,
)


def _row_json(row: Mapping[str, Any]) -> str:
    """The record's JSON as :func:`~makini_desktop.store.records.dumps_row` writes it."""
    if _encode is None:
        return dumps_row(row)
    try:
        return "".join(_encode(row, 0))
    except (RecursionError, ValueError, TypeError):  # too deep, or not JSON data: its way
        return dumps_row(row)


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
            values.append((self._id, self.dataset, key, updated_text(row), _row_json(row)))
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


class StagingThread:
    """A :class:`SnapshotWriter` fed from an event loop through one worker thread.

    Create with :meth:`begin`. :meth:`stage` queues a page and returns at once; the worker
    writes the pages in the order they were queued: the first page alone (a cache that
    cannot be written says so at once), then consecutive pages together, about
    :data:`STAGE_BATCH_ROWS` rows per transaction. :meth:`commit` writes what is left and
    waits for every queued write, then swaps the snapshot in on the same thread. A page
    that failed to stage makes the next :meth:`stage` (or the :meth:`commit`) raise its
    error; the previous snapshot is untouched. :meth:`abort` (or :meth:`abort_now`,
    without awaiting) discards it.

    Attributes:
        writer: the snapshot being written.
    """

    def __init__(self, writer: SnapshotWriter, executor: ThreadPoolExecutor) -> None:
        self.writer = writer
        self._executor = executor
        self._queued: deque[Future[int]] = deque()
        self._batch: list[Mapping[str, Any]] | None = None  # None until the first page

    @classmethod
    async def begin(cls, cache: Cache, dataset: str) -> StagingThread:
        """Start a snapshot of ``dataset`` (see :meth:`Cache.begin_snapshot`) on a new
        worker thread.

        Raises:
            CacheError: the staging area cannot be cleared (disk, lock).
        """
        executor = ThreadPoolExecutor(1, thread_name_prefix=f"makini-snapshot-{dataset}")
        try:
            future = executor.submit(cache.begin_snapshot, dataset)
            writer = await asyncio.wrap_future(future)
        except BaseException:
            executor.shutdown(wait=False, cancel_futures=True)
            raise
        return cls(writer, executor)

    @property
    def done(self) -> bool:
        """True once the snapshot was committed or aborted."""
        return self.writer.done

    async def stage(self, rows: Sequence[Mapping[str, Any]]) -> None:
        """Queue one page for staging; waits only while the queue is full.

        Raises:
            CacheError: an earlier page could not be staged.
        """
        self._reap()
        if self._batch is None:  # the first page
            self._batch = []
            await self._write(list(rows))
            return
        self._batch.extend(rows)
        if len(self._batch) >= STAGE_BATCH_ROWS:
            await self._write_batch()

    async def _write_batch(self) -> None:
        batch, self._batch = self._batch or [], []
        if batch:
            await self._write(batch)

    async def _write(self, rows: list[Mapping[str, Any]]) -> None:
        """Queue ``rows`` for the worker to stage in one transaction."""
        while len(self._queued) >= MAX_QUEUED_PAGES:
            await asyncio.wrap_future(self._queued[0])
            self._reap()
        self._queued.append(self._executor.submit(self.writer.add, rows))

    def _reap(self) -> None:
        """Forget pages staged; raise the error of one that failed."""
        while self._queued and self._queued[0].done():
            self._queued.popleft().result()

    async def commit(
        self, *, server_total: int | None, watermark: Callable[[str | None], str | None],
        synced_at: datetime,
    ) -> int:
        """Queue the pages still gathered, wait for every write, then swap the snapshot in
        (one transaction).

        Args:
            server_total: the server's total.
            watermark: the watermark to keep, from the newest ``updatedAt`` staged.
            synced_at: when the list was fetched.

        Returns:
            The dataset's row count afterwards.

        Raises:
            CacheError: a page or the swap could not be written; the previous snapshot and
                its timestamps are unchanged.
        """
        writer = self.writer

        def finish() -> int:
            return writer.commit(
                server_total=server_total, watermark=watermark(writer.max_updated_at),
                synced_at=synced_at,
            )

        try:
            self._reap()
            await self._write_batch()
            while self._queued:
                await asyncio.wrap_future(self._queued[0])
                self._reap()
            return await self._run(finish)
        finally:
            self._close()

    async def abort(self) -> None:
        """Discard the snapshot (the previous one stays), after the page being written."""
        self._cancel_queued()
        try:
            await self._run(self.writer.abort)
        finally:
            self._close()

    def abort_now(self) -> None:
        """:meth:`abort` without awaiting (a cancelled sync): waits at most for the batch
        the worker is writing (up to :data:`STAGE_BATCH_ROWS` rows, one transaction)."""
        self._cancel_queued()
        self.writer.abort()
        self._close()

    async def _run(self, fn: Callable[[], _T]) -> _T:
        return await asyncio.wrap_future(self._executor.submit(fn))

    def _cancel_queued(self) -> None:
        self._batch = []
        for future in self._queued:
            future.cancel()
        self._queued.clear()

    def _close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
