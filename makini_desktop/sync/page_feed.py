"""A full sync's pages on their way into one tab's table: :class:`PageFeed`.

Split from :mod:`makini_desktop.sync.tab` (whose :class:`~makini_desktop.sync.tab.TabLoader`
creates one per full sync): how arriving rows are batched, sliced and sorted at the end
of a first load, and how the garbage collector is kept from freezing the loop meanwhile.
"""

from __future__ import annotations

import asyncio
import gc
import linecache
import time
from collections import deque
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from makini_desktop.sync.session import Session
    from makini_desktop.sync.tab import TabLoader

Row = dict[str, Any]

FEED_SLICE_SECONDS = 0.008
"""How long one slice of arriving rows may take to go into a table (then the loop turns)."""
FEED_FIRST_SLICE = 200
"""Rows in the first slice, before the cost of a row is known."""
FEED_MIN_SLICE, FEED_MAX_SLICE = 100, 5000
"""Bounds of a slice (rows streaming into an empty table cost a few microseconds each)."""
FEED_INTERVAL_SECONDS = 0.25
"""While a list streams in, the pages that arrived meanwhile go into the table together at
most this often: each update costs a repaint besides its rows (at a page every few ms,
most of a first load's time)."""
FEED_SETTLE_ROWS = 5000
"""Rows added between two garbage settlements (each costs a young-generation walk)."""
ORDER_SLICE_ROWS = 5000
"""Sort keys computed (and ids sorted) per turn of the loop when a streamed list is
sorted at its end."""


def settle_garbage() -> None:
    """Keep Python's cyclic garbage collector from freezing the UI on long lists.

    A full collection walks every tracked object; with 100k rows held, one takes hundreds of
    milliseconds, and CPython starts one each time the heap grew by a quarter - several
    times during a first load. After each chunk of rows is stored, the young generations
    are collected (cheap) and everything that survived is frozen (``gc.freeze``), so full
    collections only ever walk what is new. Rows are plain JSON trees without reference
    cycles: frozen or not, they are freed by reference counting when a refresh or a
    connection switch drops them. The source lines the imports left in :mod:`linecache`
    go too (:func:`forget_source_lines`), before the rows fill the memory they held.
    """
    forget_source_lines()
    gc.collect(1)
    gc.freeze()


def forget_source_lines() -> None:
    """Drop the source files :mod:`linecache` holds that it can read again from disk.

    PySide6's import hook reads the whole source of every module imported after it
    (``inspect.getsource``, to see whether the module uses PySide6), and linecache keeps
    every line: 140k lines, 11 MB of a first load's peak, never read again. A traceback
    reads what it needs anew; entries not backed by a file (code registered by a library,
    no modification time) are kept.
    """
    cache = linecache.cache
    for name in [n for n, entry in cache.items() if len(entry) == 4 and entry[1] is not None]:
        del cache[name]


class PageFeed:
    """A full sync's pages on their way into one tab's table (and the lookups).

    Into an empty table (``streaming``) rows are added by a task of their own, in slices of
    about :data:`FEED_SLICE_SECONDS` with a turn of the loop between them, the pages that
    arrived meanwhile together, a few times a second (:data:`FEED_INTERVAL_SECONDS`), so the
    user sees them arrive while the next pages are fetched and staged, and no page waits for
    the table. They go in at the end, in arrival order; when the list is whole the table
    sorts them by its column, a slice per turn (no sort key per row and no merge into the
    sorted order per page while they stream; the tab says "Syncing…" until then).
    Over rows already shown, each page is compared with them as it arrives and only
    the new and changed rows are kept, to be applied when the list is whole: a failed or
    cancelled sync leaves the table as it was.
    """

    def __init__(self, loader: TabLoader, session: Session, streaming: bool) -> None:
        self.loader = loader
        self.session = session
        self.streaming = streaming
        self._pending: deque[Row] = deque()
        self._slice = FEED_FIRST_SLICE
        self._unsettled = 0
        self._task: asyncio.Task[None] | None = None
        self._upserts: list[Row] = []
        self._names: list[Mapping[str, Any]] = []
        # Into an empty table the rows go in arrival order; sorted once, at the end.
        self._ordered_at_end = streaming and hasattr(loader.model, "begin_arrival")
        if self._ordered_at_end:
            loader.model.begin_arrival()  # type: ignore[attr-defined]

    def add(self, rows: list[Row]) -> None:
        """One page's rows (each row of the list once, again only when it changed)."""
        loader = self.loader
        if self.streaming:
            self._pending.extend(rows)
            if self._task is None or self._task.done():
                self._task = asyncio.ensure_future(self._drain())
            return
        # What the new list no longer has comes from its keys at the end (finish()).
        self._upserts.extend(loader.model.changed_rows(rows))
        if loader.feeds_lookups:
            self._names.extend(loader.lookups.changed_rows(loader.dataset.name, rows))

    async def _drain(self) -> None:
        """Add the rows waiting, a slice per turn of the loop; then let the next pages
        gather for :data:`FEED_INTERVAL_SECONDS`, so the table updates a few times a second
        rather than once per page."""
        while self._pending:
            if not self.loader._current(self.session):
                self._pending.clear()
                return
            self._feed_slice()
            await asyncio.sleep(0 if self._pending else FEED_INTERVAL_SECONDS)

    def _feed_slice(self) -> None:
        pending = self._pending
        n = min(len(pending), self._slice)
        rows = [pending.popleft() for _ in range(n)]
        started = time.perf_counter()
        self.loader._feed(rows, replace_all=False)
        self._unsettled += n
        if self._unsettled >= FEED_SETTLE_ROWS or not pending:
            self._unsettled = 0
            settle_garbage()
        spent = time.perf_counter() - started
        # Rows cost more as the table grows (and on a busy machine): size the next slice
        # by what this one cost.
        per_row = spent / n if n else 0.0
        wanted = int(FEED_SLICE_SECONDS / per_row) if per_row > 0 else FEED_MAX_SLICE
        self._slice = max(FEED_MIN_SLICE, min(FEED_MAX_SLICE, wanted))

    def close(self) -> None:
        """Stop feeding (the sync ended otherwise than whole); rows that streamed in are
        put in order at once."""
        self._pending.clear()
        if self._task is not None and not self._task.done():
            self._task.cancel()
        if self._ordered_at_end and self.loader._current(self.session):
            self._ordered_at_end = False
            for _ in self.loader.model.arrival_done_steps():  # type: ignore[attr-defined]
                pass

    async def _order(self) -> None:
        """Sort the rows that streamed in by the table's column, a slice per turn."""
        if not self._ordered_at_end:
            return
        self._ordered_at_end = False
        model: Any = self.loader.model
        for _ in model.arrival_done_steps(slice_rows=ORDER_SLICE_ROWS):
            settle_garbage()  # each slice's new keys, frozen before a full collection
            await asyncio.sleep(0)
            if not self.loader._current(self.session):
                return
        settle_garbage()

    async def finish(self, keys: list[str]) -> None:
        """The list is whole and committed: add what is left and drop what is gone."""
        loader = self.loader
        model, name = loader.model, loader.dataset.name
        if self._task is not None and not self._task.done():
            self._task.cancel()  # it waits for pages to gather: none will come now
            await asyncio.wait([self._task])
        await self._drain()
        if not loader._current(self.session):
            return
        if self.streaming and model.total == 0 and not keys:
            loader._feed([], replace_all=True)  # an empty list: the table says so
            return
        keep = set(keys)
        if loader.feeds_lookups:
            await asyncio.sleep(0)  # each pass over 100k keys is a few ms: a turn between
            if not loader._current(self.session):
                return
            if self._names:
                loader.lookups.update_rows(name, self._names)
            loader.lookups.retain(name, keep)
        await asyncio.sleep(0)
        if not loader._current(self.session):
            return
        upserts, self._upserts = self._upserts, []
        gone = model.keys_not_in(keep)
        if upserts or gone:
            model.apply_changes(upserts, gone)
            settle_garbage()
        await self._order()


__all__ = [
    "FEED_INTERVAL_SECONDS", "FEED_SLICE_SECONDS", "PageFeed", "forget_source_lines",
    "settle_garbage",
]
