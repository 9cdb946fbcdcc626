"""One tab's load: cached rows first, then a refresh from the server, as a :class:`TabStatus`.

A :class:`TabLoader` feeds a :class:`RowSink` (the tab's table model) and, for the datasets
whose names other tabs show, the shared :class:`~makini_desktop.table.lookups.Lookups`. It
never creates a widget: the UI's ``TabController`` turns its ``on_status`` callback into a signal.

The loop never stalls for long: cached rows are read and added in chunks with a yield to the
loop between them. A full sync's pages come one way only (``on_page``), while the next page
is fetched and the previous one staged in the cache's writer thread: into an empty table
they go a few thousand rows at a time; over rows already shown each page is compared as it
arrives and only the difference is kept. When the list is whole (and committed), that
difference, and the rows the new list no longer has, are applied at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from makini_desktop.api import resources as res
from makini_desktop.api.errors import MakiniError
from makini_desktop.redact import scrub
from makini_desktop.store.cache import CacheError
from makini_desktop.store.row_image import ImageRead
from makini_desktop.sync.page_feed import FEED_SLICE_SECONDS, PageFeed, settle_garbage
from makini_desktop.sync.repository import Progress, Repository, SyncResult
from makini_desktop.sync.session import Session
from makini_desktop.sync.tab_status import SETTLED, Phase, TabStatus
from makini_desktop.sync.tasks import TaskSlots
from makini_desktop.table.lookups import Lookups

if TYPE_CHECKING:
    from makini_desktop.sync.workspace import Workspace

log = logging.getLogger(__name__)

Row = dict[str, Any]

CACHE_FIRST_CHUNK = 500
"""Cached rows read and added in the first step: the first screenful, painted at once."""
FIRST_PAINT_WAIT = 0.02
"""Seconds the first cached screenful is given to be painted before the next chunk is read."""
CACHE_CHUNK = 5000
"""Cached rows read and added per later step. Each step costs a table a fixed amount of
work besides its rows (a layout change, a merge into the sorted order, a repaint): at 500
rows a step, that was half the time a large cache took to show (measured: 12 s -> 6.6 s)."""
CACHE_STAGE_CHUNK = 2000
"""Cached rows read and staged per later step when the table stages them (then placed with
one sort at the end): staging has no fixed cost per step, so smaller steps only shorten
each pause of the loop."""
PROGRESS_INTERVAL_SECONDS = 0.25
"""How often a tab's "Syncing — page N of M" may change (the first and last pages always)."""
NAMES_CHUNK = 2000
"""Cached rows read per step when only their names are needed."""

# What an optional module is called when the connection's system lacks it.
MODULE_NAMES: dict[str, str] = {
    res.MOVES.name: "move management",
    res.VISITS.name: "visitor management",
}

NAME_FIELDS: tuple[str, ...] = (res.F_KEY, res.F_NAME)
"""The fields of a record whose strings the lookups keep: read from the cache, they are
interned, so that the rows decoded later share them (their references to other records,
interned too, are shared anyway)."""
LOOKUP_DATASETS: tuple[str, ...] = Lookups.DATASETS
"""The datasets whose names other tabs show; loaded before the rest."""

LOAD = "load"
"""The task slot of a tab's load."""


class RowSink(Protocol):
    """The rows a tab shows (its table model)."""

    @property
    def total(self) -> int: ...
    def clear(self) -> None: ...
    def set_rows(self, rows: Iterable[Row]) -> None: ...
    def append_rows(self, rows: Iterable[Row]) -> None: ...
    def apply_changes(self, upserts: Iterable[Row], deleted_keys: Iterable[str]) -> None: ...
    def changed_rows(self, rows: Iterable[Row], seen: set[str] | None = None) -> list[Row]: ...
    def keys_not_in(self, seen: set[str]) -> list[str]: ...


@runtime_checkable
class StagingRowSink(Protocol):
    """A :class:`RowSink` that can hold rows before showing them, then show them all with
    one sort (the Qt table model; see ``RowIndex.stage``)."""

    def stage_rows(self, rows: Iterable[Row], *, keyed: bool = ...) -> None: ...
    def place_staged_steps(
        self, *, slice_rows: int = ..., sort: tuple[str, Any] | None = ...
    ) -> Iterator[None]: ...
    def sort_spec(self) -> str | None: ...
    def kept_sort(self) -> tuple[str, Any] | None: ...


def failure_sentence(exc: BaseException) -> str:
    """What an unexpected exception was, in a sentence (scrubbed of secrets)."""
    if isinstance(exc, MakiniError):
        return exc.summary()
    detail = scrub(str(exc)).strip()
    name = type(exc).__name__
    what = f"{name}: {detail}" if detail else name
    return f"an unexpected error ({what}); the details are in the log"


def report_unexpected(exc: BaseException) -> None:
    """Send an exception that is a bug to the log and to the crash path (``sys.excepthook``,
    which the app routes to its crash dialog)."""
    log.error("unexpected %s in a load", type(exc).__name__)
    sys.excepthook(type(exc), exc, exc.__traceback__)


def _always() -> bool:
    return True


class TabLoader:
    """Loads one tab's dataset into its rows (and, for sites/locations, the lookups).

    A load belongs to the session it started with: once the workspace holds another
    session (or none) its results are dropped. Within a session, the tab's task slot
    decides: a load replaced by a newer one leaves no trace.

    Args:
        view: the tab's view.
        model: the tab's rows.
        lookups: the connection's shared names.
        workspace: the owner, which holds the session and hears about errors.
        alive: False once the rows' owner is gone (the UI's widgets were deleted).

    Attributes:
        on_status: called after :attr:`status` changed.
    """

    def __init__(
        self,
        view: res.View,
        model: RowSink,
        lookups: Lookups,
        workspace: Workspace,
        *,
        alive: Callable[[], bool] = _always,
    ) -> None:
        self.view = view
        self.dataset = view.dataset
        self.model = model
        self.lookups = lookups
        self.workspace = workspace
        self.alive = alive
        self.on_status: Callable[[], None] = _nothing_sync
        self.status = TabStatus()
        self.slots = TaskSlots()
        self.last_result: SyncResult | None = None
        self._complete = True  # the model holds a whole list (not one cut short by a cancel)

    @property
    def feeds_lookups(self) -> bool:
        return self.dataset.name in LOOKUP_DATASETS

    @property
    def task(self) -> asyncio.Task[None] | None:
        """The latest load (running or ended)."""
        return self.slots.get(LOAD)

    # -- tasks --------------------------------------------------------------------------------

    def start(self, *, full: bool = False, cached: bool = False) -> asyncio.Task[None]:
        """Start a load as a task, cancelling this tab's previous one."""
        return self.slots.start(LOAD, self.load(full=full, cached=cached))

    def cancel(self) -> None:
        """Cancel the running load, if any (the cache stays as it was)."""
        self.slots.cancel(LOAD)

    async def wait(self) -> None:
        """Wait until the current load has ended (whatever its outcome)."""
        task = self.task
        if task is not None and not task.done():
            await asyncio.wait([task])

    def reset(self) -> None:
        """Forget everything (the connection changed): cancel, empty the model."""
        self.slots.discard(LOAD)
        self.last_result = None
        if self.alive():
            self.model.clear()
        self._set_status(TabStatus())

    # -- loading --------------------------------------------------------------------------------

    async def load(self, *, full: bool = False, cached: bool = True) -> None:
        """Show the cached rows (when ``cached``), then refresh from the server.

        Offline (or working offline) the refresh is left out: the tab says its rows are the
        cached ones, and the workspace refreshes it when the connection is back.
        """
        session = self.workspace.session
        ws = self.workspace
        try:
            if cached:
                await self.show_cached()
            if ws.can_refresh:
                await self.refresh(full=full)
            elif not ws.online or ws.held_reason:
                self.mark_offline(ws.offline_message())
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a bug, or a failure nobody foresaw: never "Syncing…" forever
            if self._current(session):
                self._set_status(TabStatus(
                    Phase.FAILED, synced_at=self.status.synced_at,
                    message=f"Refresh failed: {failure_sentence(exc)}",
                ))
                ws.tab_busy_changed()
            report_unexpected(exc)

    async def show_cached(self) -> bool:
        """Put the cached rows in the model, a chunk at a time.

        Returns:
            True if cached rows were shown; False when the dataset was never synced.
        """
        session = self.workspace.session
        if session is None:
            return False
        await self.workspace.ensure_cache()  # opened in a worker thread, once per session
        if not self._current(session):
            return False
        repo = session.repository(self.dataset.name)
        try:
            meta = repo.cached_meta()
        except CacheError as exc:
            log.warning("cache of %s unreadable: %s", self.dataset.name, exc)
            meta = None
        # Offline, the label says so at once; online it says "Cached" until the refresh.
        shown = self._cached_phase()
        if meta is None or meta.synced_at is None:
            self._set_status(TabStatus(shown))
            return False
        self._set_status(TabStatus(Phase.READING_CACHE, synced_at=meta.synced_at))
        # Names read from this cache a moment ago (Workspace.load_all) are only updated.
        names_known = self.workspace.take_cached_names(self.dataset.name)
        if not await self._load_cache(session, names_known=names_known):
            return False
        self._set_status(TabStatus(self._cached_phase(), synced_at=meta.synced_at,
                                   held=self.workspace.held_words))
        return True

    def _cached_phase(self) -> Phase:
        """"Offline" when nothing can be fetched (offline, no token); else "Cached"."""
        ws = self.workspace
        return Phase.OFFLINE if not ws.online or ws.token_missing else Phase.CACHED

    async def _load_cache(self, session: Session, *, names_known: bool = False) -> bool:
        """Replace the model's rows with the cached ones, a chunk per turn of the loop.

        Args:
            session: the session the load belongs to (another one drops it).
            names_known: the lookups already hold this dataset's names from the cache, so
                they are updated, not replaced chunk by chunk (which would blank the names
                other tabs show until the last chunk).
        """
        repo = session.repository(self.dataset.name)
        first = True
        # After the first screenful, a table that can stage rows holds them unplaced and
        # places them all with one sort at the end (not a merge per chunk).
        bulk = self.model if isinstance(self.model, StagingRowSink) else None
        staged = False
        try:
            size = CACHE_STAGE_CHUNK if bulk is not None else CACHE_CHUNK
            # Names read a moment ago are interned strings (Cache.load_fields): the rows
            # share them rather than hold a second copy (50k locations' keys, names, codes).
            shared = NAME_FIELDS if names_known else ()
            # The table's sort kept beside the rows' image saves it the keys and the sort.
            spec = bulk.sort_spec() if bulk is not None else None
            read = ImageRead(spec) if spec is not None else None
            chunked = repo.iter_cached(chunk=size, first=CACHE_FIRST_CHUNK, shared=shared,
                                       read=read)
            with contextlib.closing(chunked) as chunks:
                for rows in chunks:
                    if not self._current(session):
                        return False
                    if bulk is not None and not first:
                        if not names_known:  # else read from this cache a moment ago
                            self._feed_lookups(rows, replace_all=False, names_known=False)
                        bulk.stage_rows(rows, keyed=read is None or read.index is None)
                        staged = True
                    else:
                        self._feed(rows, replace_all=first, names_known=names_known)
                    settle_garbage()
                    # Let Qt paint between chunks; the first screenful at once (a paint
                    # waits for the window's next frame, a turn of the loop may not).
                    await asyncio.sleep(FIRST_PAINT_WAIT if first else 0)
                    first = False
            if bulk is not None and staged:
                kept = (read.spec, read.index) if read is not None and read.index else None
                for _ in bulk.place_staged_steps(sort=kept):
                    await asyncio.sleep(0)
                    if not self._current(session):
                        return False
                staged = False
                if read is not None:
                    read.index = kept = None  # taken or not: its memory goes now
                self._keep_sort(repo, bulk, read)
        except CacheError as exc:
            log.warning("cache of %s unreadable: %s", self.dataset.name, exc)
        finally:
            if bulk is not None and staged and self._current(session):  # cut short: show all
                for _ in bulk.place_staged_steps(slice_rows=0):
                    pass
        if not self._current(session):
            return False
        if first:
            self._feed([], replace_all=True)
        self._complete = True
        return True

    @staticmethod
    def _keep_sort(repo: Repository, table: StagingRowSink, read: ImageRead | None) -> None:
        """Keep the sort the table just placed beside the rows it read whole, unless it
        was the kept one (see ``table/kept_sort.py``)."""
        if read is None or not read.whole:
            return
        kept = table.kept_sort()
        if kept is not None and kept[0] == read.spec:
            repo.keep_sort(read, kept[1])

    async def refresh(self, *, full: bool = False) -> SyncResult | None:
        """Bring the tab up to date from the server.

        Rows appear as pages arrive when the table is empty; otherwise the rows that
        changed, and those gone, are applied once the whole list arrived (a sync that
        fails leaves the table as it was).

        Returns:
            The sync's result, or None when it failed or its tab was reset meanwhile.
        """
        session = self.workspace.session
        if session is None:
            return None
        await self.workspace.ensure_cache()  # a refresh keeps what it fetches
        if not self._current(session):
            return None
        me = asyncio.current_task()
        synced_at = self.status.synced_at
        streaming = self.model.total == 0
        if streaming:
            self._complete = False  # until the stream ends, the table holds part of a list
        self._set_status(TabStatus(Phase.SYNCING, synced_at=synced_at))
        self.workspace.tab_busy_changed()

        feed = PageFeed(self, session, streaming)
        try:
            return await self._sync_into(feed, session, me, full=full, synced_at=synced_at)
        finally:
            feed.close()  # a sync that failed or was cancelled feeds nothing more

    async def _sync_into(
        self, feed: PageFeed, session: Session, me: asyncio.Task[Any] | None, *,
        full: bool, synced_at: datetime | None,
    ) -> SyncResult | None:
        repo = session.repository(self.dataset.name)

        said = 0.0

        def on_page(rows: list[Row], progress: Progress) -> None:
            nonlocal said
            if not self._current(session):
                return
            feed.add(rows)
            # "Syncing — page N of M" a few times a second, not per page: each change of
            # the label costs the window a relayout and a repaint.
            now = time.monotonic()
            if progress.page <= 1 or progress.page == progress.last_page or (
                now - said >= PROGRESS_INTERVAL_SECONDS
            ):
                said = now
                self._set_status(replace(self.status, progress=progress))

        try:
            result = await repo.refresh(full=full, on_page=on_page)
        except asyncio.CancelledError:
            # Cancelled by the user, by a newer refresh (which then owns the status), or
            # because the connection went offline (then the tab says it shows cached data).
            if self._current(session) and self.slots.owns(LOAD, me):
                phase = Phase.CANCELLED if self.workspace.online else Phase.OFFLINE
                self._set_status(TabStatus(phase, synced_at=synced_at))
                self.workspace.tab_busy_changed()
            raise
        except MakiniError as err:
            if self._current(session):
                self._failed(err, synced_at)
            return None
        except CacheError as exc:
            if self._current(session):
                self._set_status(TabStatus(
                    Phase.FAILED, synced_at=synced_at,
                    message=f"The offline cache could not be updated: {exc}",
                ))
                self.workspace.tab_busy_changed()
            return None
        if not self._current(session):
            return None
        if result.keys is not None:  # a full sync: its rows came page by page
            await feed.finish(result.keys)
        elif self._complete:  # incremental: apply the changes to what is shown
            if self.feeds_lookups:
                self.lookups.update_rows(self.dataset.name, result.upserts, result.deleted_keys)
            self.model.apply_changes(result.upserts, result.deleted_keys)
            settle_garbage()
        else:
            # The table holds a partial list (a load was cancelled part-way): changes alone
            # cannot complete it, the cache (now up to date) can.
            await self._load_cache(session)
        if not self._current(session):
            return None
        self._complete = True
        self.last_result = result
        self._set_status(TabStatus(Phase.UP_TO_DATE, synced_at=result.synced_at))
        self.workspace.tab_busy_changed()
        self.workspace.tab_succeeded()
        return result

    # -- internals ------------------------------------------------------------------------------

    def _current(self, session: Session | None) -> bool:
        """True while a load that started with ``session`` may still touch the rows."""
        return session is not None and session is self.workspace.session and self.alive()

    def _feed(self, rows: list[Row], *, replace_all: bool, names_known: bool = False) -> None:
        """Hand dataset rows to the lookups (sites, locations) and to the model."""
        self._feed_lookups(rows, replace_all=replace_all, names_known=names_known)
        if replace_all:
            self.model.set_rows(rows)
        else:
            self.model.append_rows(rows)

    def _feed_lookups(self, rows: list[Row], *, replace_all: bool, names_known: bool) -> None:
        if self.feeds_lookups:
            if replace_all and not names_known:
                self.lookups.set_rows(self.dataset.name, rows)
            else:
                self.lookups.update_rows(self.dataset.name, rows)

    def _failed(self, err: MakiniError, synced_at: datetime | None) -> None:
        if err.is_not_found and self.dataset.optional_module:
            module = MODULE_NAMES.get(self.dataset.name, self.view.title.lower())
            self.model.clear()
            self._set_status(TabStatus(
                Phase.UNAVAILABLE,
                message=f"This connection's system does not offer {module}.",
            ))
            self.workspace.tab_busy_changed()
            return
        phase = Phase.OFFLINE if err.is_connection else Phase.FAILED
        self._set_status(TabStatus(
            phase, synced_at=synced_at, message=err.summary(), request_id=err.request_id
        ))
        self.workspace.tab_busy_changed()
        # Offline is said once, by the window's banner: never a dialog per tab (a dialog at
        # every start on a train would only be in the way).
        self.workspace.report_error(err, show=not err.is_connection)

    def mark_failed(self, message: str, request_id: str = "") -> None:
        """The connection failed before this tab could refresh: say so (rows stay)."""
        if self.status.phase in (Phase.IDLE, Phase.CACHED):
            self._set_status(TabStatus(
                Phase.FAILED, synced_at=self.status.synced_at, message=message,
                request_id=request_id,
            ))

    def mark_offline(self, message: str = "") -> None:
        """The server cannot be reached (or must not be): say the rows shown are cached."""
        if self.status.phase in SETTLED or self.status.phase is Phase.OFFLINE:
            self._set_status(TabStatus(
                Phase.OFFLINE, synced_at=self.status.synced_at, message=message,
                held=self.workspace.held_words,
            ))

    def _set_status(self, status: TabStatus) -> None:
        self.status = status
        self.on_status()


def _nothing_sync() -> None:
    """No listener."""


__all__ = [
    "CACHE_CHUNK",
    "CACHE_STAGE_CHUNK",
    "CACHE_FIRST_CHUNK",
    "FEED_SLICE_SECONDS",
    "MODULE_NAMES",
    "NAMES_CHUNK",
    "LOOKUP_DATASETS",
    "RowSink",
    "TabLoader",
    "failure_sentence",
    "report_unexpected",
    "settle_garbage",
]
