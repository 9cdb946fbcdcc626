"""One dataset of one connection: the API plus the offline cache, and the sync policy.

The policy, in one place:

* A full sync stages every page and swaps the new snapshot in only when the whole list
  arrived (a failure or cancel part-way leaves the previous snapshot and its time as they
  were). "Whole" is checked, not assumed: a walk whose record count disagrees with the
  server's ``meta.total``, or with a page short of the last that came back empty, is walked
  once more and then reported (``IncompleteListError``, from ``api/errors.py``), never
  committed.
* After a first full sync, a refresh asks only for what changed since the watermark
  (``filter[updatedAt:gt]``), applies changes and tombstones, then checks the server's total
  against the cache; a disagreement, a last full sync older than 24 h, or the user's
  "Full refresh" makes it a full sync. Changes cut short (fewer than the incremental
  walk's own total) are not applied: a full sync is made instead.
* Without a cache (it could not be opened) a refresh still works; it just keeps nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncGenerator, Callable, Collection, Generator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from makini_desktop.api import resources as res
from makini_desktop.api.client import FULL_WALK_ATTEMPTS, MakiniClient, WalkTally
from makini_desktop.api.values import format_utc, parse_datetime
from makini_desktop.store.cache import Cache, CacheError, DatasetInfo, max_updated_at
from makini_desktop.store.row_image import ImageRead
from makini_desktop.store.snapshot import StagingThread
from makini_desktop.sync.connectivity import Connectivity, work_offline_error

log = logging.getLogger(__name__)

FULL_SYNC_MAX_AGE = timedelta(hours=24)
# Timestamps have second precision: records changed in the same second as the watermark but
# after our sync would be missed by a strict "greater than", so the window overlaps by 1 s.
WATERMARK_OVERLAP = timedelta(seconds=1)

Row = dict[str, Any]
_UNSEEN = object()


@dataclass(frozen=True)
class Progress:
    """How far a sync is: page N of M, rows so far, the server's total."""

    page: int
    last_page: int | None
    rows: int
    total: int | None

    def describe(self) -> str:
        """E.g. "page 12 of 60"."""
        return f"page {self.page} of {self.last_page}" if self.last_page else f"page {self.page}"


@dataclass(frozen=True)
class CacheMeta:
    """How fresh a dataset's cached copy is."""

    synced_at: datetime | None
    last_full_sync: datetime | None
    row_count: int


@dataclass
class SyncResult:
    """What a refresh did.

    Attributes:
        keys: after a full sync, the keys of the dataset's new list in the server's order
            (its rows were handed to ``on_page`` as they arrived and are in the cache: they
            are never handed over a second time); after an incremental one, None (the
            caller applies ``upserts`` and ``deleted_keys`` to what it shows).
        synced_at: when the list was fetched.
        mode: ``full`` or ``incremental``.
        upserts: records added or changed (incremental).
        deleted_keys: keys of records deleted on the server (incremental).
        total: the server's total, when it gave one.
        nbytes: response bytes received.
        requests: HTTP requests made.
    """

    keys: list[str] | None
    synced_at: datetime
    mode: str
    upserts: list[Row] = field(default_factory=list)
    deleted_keys: list[str] = field(default_factory=list)
    total: int | None = None
    nbytes: int = 0
    requests: int = 0

    @property
    def changed(self) -> int:
        """Records fetched (full) or added and changed (incremental)."""
        return len(self.keys) if self.keys is not None else len(self.upserts)

    @property
    def deleted(self) -> int:
        return len(self.deleted_keys)


PageCallback = Callable[[list[Row], Progress], None]

def _noun(dataset: res.Dataset) -> str:
    """What a person calls a dataset's records ("assets", "floors and spaces")."""
    names = [v.noun[1] for v in res.VIEWS.values() if v.dataset.name == dataset.name]
    return " and ".join(dict.fromkeys(names)) or dataset.name


def _utcnow() -> datetime:
    return datetime.now(UTC)


class Repository:
    """One dataset of one connection.

    Args:
        dataset: the dataset.
        client: the connection's client (None while working offline).
        cache: the connection's cache (None if it could not be opened).
        connectivity: the connection's reachability, told of every outcome.
        clock: the current time (tests).
    """

    def __init__(
        self,
        dataset: res.Dataset,
        client: MakiniClient | None,
        cache: Cache | None,
        *,
        connectivity: Connectivity | None = None,
        clock: Callable[[], datetime] = _utcnow,
    ) -> None:
        self.dataset = dataset
        self.client = client
        self.cache = cache
        self.connectivity = connectivity
        self._clock = clock
        self._running: asyncio.Task[SyncResult] | None = None
        # keep_cached_read: ((chunk, first), the chunks of the read, None until it ended)
        self._kept: tuple[tuple[int, int | None], list[list[Row]] | None] | None = None

    # -- cached copy -------------------------------------------------------------------------

    def _info(self) -> DatasetInfo | None:
        if self.cache is None:
            return None
        try:
            return self.cache.dataset_info(self.dataset.name)
        except CacheError as exc:
            log.warning("cache unreadable for %s: %s", self.dataset.name, exc)
            return None

    def cached_meta(self) -> CacheMeta | None:
        """The cached copy's freshness, or None when this dataset was never synced."""
        info = self._info()
        if info is None or info.last_sync is None:
            return None
        return CacheMeta(info.last_sync, info.last_full_sync, info.row_count)

    def iter_cached(
        self, chunk: int = 2000, *, first: int | None = None, shared: Collection[str] = (),
        read: ImageRead | None = None,
    ) -> Generator[list[Row], None, None]:
        """The cached rows in stored order, ``chunk`` at a time, the first chunk ``first``
        rows (default ``chunk``); nothing when not cached. Close it (``contextlib.closing``)
        when stopping early: that ends the cache's read at once. ``shared``: fields whose
        strings are interned; ``read``: filled as the read goes (see :meth:`Cache.iter_load`;
        not by a read of kept chunks).

        After :meth:`keep_cached_read`, the next whole read keeps its chunks, and the read
        after it, in the same chunks, gets those again without reading the cache."""
        if self.cache is None:
            return
        shape = (chunk, first)
        kept = self._kept
        if kept is not None and kept[0] == shape and kept[1] is not None:
            self._kept = None
            yield from kept[1]
            return
        chunks: list[list[Row]] | None = [] if kept is not None else None
        for rows in self.cache.iter_load(self.dataset.name, chunk, first=first, shared=shared,
                                         read=read):
            if chunks is not None:
                chunks.append(rows)
            yield rows
        if chunks is not None and self._kept is kept:
            self._kept = (shape, chunks)

    def keep_sort(self, read: ImageRead, payload: Any) -> None:
        """Keep a table's sort of the rows ``read`` read for the next start (best effort;
        see :meth:`Cache.keep_sort`)."""
        if self.cache is not None:
            self.cache.keep_sort(self.dataset.name, read, payload)

    def keep_cached_read(self) -> None:
        """Keep the chunks of the next whole :meth:`iter_cached` for one more reader (two
        tabs show this dataset) until it read them, or :meth:`drop_kept_read`."""
        self._kept = ((0, None), None)

    def drop_kept_read(self) -> None:
        """Forget kept chunks (their second reader did not come)."""
        self._kept = None

    async def cached_slices(
        self, fields: tuple[str, ...], chunk: int, shared: Collection[str] = ()
    ) -> AsyncGenerator[list[Row], None]:
        """The cached rows with at least their key and ``fields``, a slice at a time.

        SQLite picks the fields out of the stored records in a worker thread (see
        :meth:`Cache.load_fields`: the names of 50k locations in a fraction of the time
        decoding them takes, and off the event loop), then they come ``5 * chunk`` at a
        time (``shared``: fields whose strings are interned). A cache SQLite cannot read that
        way gives its whole rows, ``chunk`` at a time.
        """
        if self.cache is None:
            return
        picked = await asyncio.to_thread(
            self.cache.load_fields, self.dataset.name, fields, shared)
        if picked is not None:
            step = 5 * chunk
            for start in range(0, len(picked), step):
                yield picked[start:start + step]
            return
        with contextlib.closing(self.iter_cached(chunk)) as chunks:
            for rows in chunks:
                yield rows

    def cached_rows(self) -> list[Row]:
        """Every cached row at once (the CLI's offline export)."""
        if self.cache is None:
            return []
        return self.cache.load(self.dataset.name).rows

    # -- refresh -----------------------------------------------------------------------------

    def needs_full(self, info: DatasetInfo | None) -> bool:
        """True when the next refresh must fetch the whole list."""
        if info is None or info.last_full_sync is None or not info.watermark:
            return True
        return self._clock() - info.last_full_sync > FULL_SYNC_MAX_AGE

    async def refresh(
        self, *, full: bool = False, on_page: PageCallback | None = None
    ) -> SyncResult:
        """Bring the dataset up to date; a refresh already running for it is cancelled first.

        Args:
            full: fetch the whole list even when an incremental refresh would do.
            on_page: called with each page's rows as it arrives (full syncs only, where
                the rows are the list itself).

        Raises:
            MakiniError: the API failed after retries; the cache is as it was.
            CacheError: the new list could not be saved; the cache is as it was.
        """
        previous = self._running
        if previous is not None and not previous.done():
            previous.cancel()
            await asyncio.gather(previous, return_exceptions=True)
        task = asyncio.ensure_future(self._refresh(full, on_page))
        self._running = task
        try:
            return await task
        except asyncio.CancelledError:
            task.cancel()
            raise

    async def _refresh(self, full: bool, on_page: PageCallback | None) -> SyncResult:
        if self.client is None:
            raise work_offline_error()
        if self.connectivity is None:
            return await self._sync(full, on_page)
        return await self.connectivity.run(lambda: self._sync(full, on_page))

    async def _sync(self, full: bool, on_page: PageCallback | None) -> SyncResult:
        assert self.client is not None
        info = await asyncio.to_thread(self._info) if self.cache is not None else None
        start_bytes, start_requests = self.client.stats.bytes, self.client.stats.requests
        result: SyncResult | None = None
        if not full and not self.needs_full(info):
            assert info is not None
            result = await self._incremental(info)
        if result is None:
            result = await self._full(on_page)
        result.nbytes = self.client.stats.bytes - start_bytes
        result.requests = self.client.stats.requests - start_requests
        return result

    async def _full(self, on_page: PageCallback | None) -> SyncResult:
        """Walk the whole list and commit it; an incomplete walk is made once more, then
        reported. Rows already handed to ``on_page`` are not handed on again unless they
        changed."""
        handed: dict[str, Any] = {}  # key -> the updatedAt handed on
        for attempt in range(1, FULL_WALK_ATTEMPTS + 1):
            result, check = await self._full_walk(on_page, handed)
            if result is not None:
                return result
            err = check.error(_noun(self.dataset), self.dataset.path)
            if attempt < FULL_WALK_ATTEMPTS:
                log.warning("%s: %s; walking the list again", self.dataset.name, err.message)
        raise err

    async def _full_walk(
        self, on_page: PageCallback | None, handed: dict[str, Any]
    ) -> tuple[SyncResult | None, WalkTally]:
        """One walk of the list; the result when it was whole and is committed, else None
        (nothing committed, the staging discarded).

        Fetching, staging and showing overlap: each page is queued to the snapshot's
        writer thread and handed to ``on_page`` at once, and the next page is taken while
        the writer stages it; the walker keeps its window of requests in flight meanwhile.
        """
        assert self.client is not None
        synced_at = self._clock()
        walk_started: datetime | None = None
        # The list's keys, in the server's order. A first walk's are the keys it hands on,
        # in that order: no second dict of 100k keys while a large list loads.
        seen: dict[str, Any] = handed if not handed else {}
        first = seen is handed
        check = WalkTally()
        staging: StagingThread | None = None
        if self.cache is not None:
            staging = await StagingThread.begin(self.cache, self.dataset.name)
        try:
            async for page in self.client.iter_pages(self.dataset.path):
                walk_started = walk_started or page.server_date or synced_at
                check.see(page)
                fresh: list[Row] = []
                for row in page.rows:
                    if row.get(res.F_DELETED):
                        continue
                    key = row[res.F_KEY]
                    if not first:
                        seen[key] = None
                    # Handed on once, and again only when it changed (it moved between
                    # pages while we walked, or changed before a walk made once more).
                    stamp = row.get(res.F_UPDATED)
                    if handed.get(key, _UNSEEN) != stamp:
                        handed[key] = stamp
                        fresh.append(row)
                if staging is not None:
                    await staging.stage(page.rows)  # waits only when the writer lags far
                if on_page is not None:
                    on_page(fresh, Progress(page.number, page.last_page, len(seen), check.total))
            if not check.complete:
                if staging is not None:
                    await staging.abort()
                return None, check
            if staging is not None:
                # The writer tracked the newest updatedAt as pages were staged: no rescan.
                started = walk_started or synced_at
                await staging.commit(
                    server_total=check.total, synced_at=synced_at,
                    watermark=lambda newest: capped_watermark(newest, started),
                )
        except BaseException:
            if staging is not None and not staging.done:
                staging.abort_now()
            raise
        return SyncResult(list(seen), synced_at, "full", total=check.total), check

    async def _incremental(self, info: DatasetInfo) -> SyncResult | None:
        """Fetch and apply changes since the watermark; None when a full sync is needed."""
        assert self.client is not None and self.cache is not None and info.watermark
        synced_at = self._clock()
        since = _minus(info.watermark, WATERMARK_OVERLAP)
        params = {res.filter_param(res.F_UPDATED, "gt"): since}
        changes: list[Row] = []
        walk_started: datetime | None = None
        check = WalkTally()
        async for page in self.client.iter_pages(self.dataset.path, params):
            walk_started = walk_started or page.server_date or synced_at
            check.see(page)
            changes.extend(page.rows)
        if not check.complete:
            # Applying part of the changes would move the watermark past the missing ones.
            log.warning(
                "%s: incremental walk got %d of %s changes: full resync",
                self.dataset.name, check.received, check.total,
            )
            return None
        total = await self._server_total()
        watermark = capped_watermark(
            max_updated_at(changes, info.watermark), walk_started or synced_at
        )
        count = await asyncio.to_thread(
            self.cache.apply_changes,
            self.dataset.name,
            changes,
            watermark=watermark,
            synced_at=synced_at,
            server_total=total,
        )
        if total is not None and total != count:
            log.info(
                "%s: cache has %d rows, server says %d: full resync",
                self.dataset.name, count, total,
            )
            return None
        latest: dict[str, Row] = {}
        for row in changes:  # a record changed twice during the walk: the later copy wins
            latest[row[res.F_KEY]] = row
        return SyncResult(
            None, synced_at, "incremental",
            upserts=[r for r in latest.values() if not r.get(res.F_DELETED)],
            deleted_keys=[k for k, r in latest.items() if r.get(res.F_DELETED)],
            total=total,
        )

    async def _server_total(self) -> int | None:
        """The dataset's live total, from the smallest page the server will give."""
        assert self.client is not None
        _, doc = await self.client.request(
            "GET", self.dataset.path, params={res.PARAM_PAGE: "1", res.PARAM_PER_PAGE: "1"}
        )
        meta = doc.get(res.ENV_META) if isinstance(doc, dict) else None
        total = meta.get(res.META_TOTAL) if isinstance(meta, dict) else None
        return total if isinstance(total, int) and not isinstance(total, bool) else None


def capped_watermark(watermark: str | None, walk_started: datetime) -> str | None:
    """The watermark to keep after a walk that began at ``walk_started`` (server time).

    Pages are fetched in key order over seconds; a record on a page already fetched can
    change while a later page's record also changes. Taking the newest ``updatedAt`` seen
    would then jump past the first change for good. No watermark later than the walk's
    start (less the overlap) is kept, so the next refresh asks again for everything
    changed during this one.
    """
    if watermark is None:
        return None
    seen = parse_datetime(watermark)
    cap = walk_started - WATERMARK_OVERLAP
    if seen is None or seen <= cap:
        return watermark
    return format_utc(cap)


def _minus(timestamp: str, delta: timedelta) -> str:
    """An ISO timestamp moved back by ``delta``, in the same ``...Z`` form."""
    parsed = parse_datetime(timestamp)
    if parsed is None:
        return timestamp
    return format_utc(parsed - delta)
