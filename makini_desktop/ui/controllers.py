"""Async controllers: fill the tab models from the active connection's session.

* :class:`TabController` loads one tab's dataset: cached rows first, then a refresh in the
  background, reporting progress as a :class:`TabStatus`.
* :class:`Workspace` owns the open :class:`~makini_desktop.sync.session.Session`, the shared
  :class:`~makini_desktop.ui.table_model.Lookups`, one model and one controller per tab, and
  the connection state the status bar shows.

Everything here is a plain ``async def`` that tests await directly; widgets call them through
one-line ``@asyncSlot`` wrappers. No widget is created here.

The loop never stalls for long: cached rows are read and added in chunks with a yield to the
loop between them, pages from the server are added as they arrive, and comparing a refreshed
list with what the table already shows is done in slices.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from enum import Enum
from typing import Any

import shiboken6
from PySide6.QtCore import QObject, QTimer, Signal

from makini_desktop.api import resources as res
from makini_desktop.api.client import RetryEvent
from makini_desktop.api.errors import MakiniError
from makini_desktop.store.cache import CacheError
from makini_desktop.sync.repository import Progress, SyncResult
from makini_desktop.sync.session import ConnectionInfo, ConnState, IntegrationStatus, Session
from makini_desktop.ui.table_model import Lookups, ResourceTableModel

log = logging.getLogger(__name__)

Row = dict[str, Any]

CACHE_CHUNK = 500
"""Cached rows read and added per step (about 10 ms of work)."""
FILL_CHUNK = 500
"""Rows added to a model per step when a whole list arrives at once."""
DIFF_CHUNK = 5000
"""Rows compared per step when a refreshed list replaces what a table shows."""

# What an optional module is called when the connection's system lacks it.
MODULE_NAMES: dict[str, str] = {
    res.MOVES.name: "move management",
    res.VISITS.name: "visitor management",
}

# The datasets whose names other tabs show; loaded before the rest.
LOOKUP_DATASETS: tuple[str, ...] = Lookups.DATASETS

SessionFactory = Callable[..., Session]


class Phase(Enum):
    """Where a tab's load is."""

    IDLE = "idle"  # nothing loaded yet (no connection)
    READING_CACHE = "reading_cache"
    CACHED = "cached"  # cached rows shown, no refresh (yet, or it failed)
    SYNCING = "syncing"
    UP_TO_DATE = "up_to_date"
    CANCELLED = "cancelled"
    FAILED = "failed"
    OFFLINE = "offline"
    UNAVAILABLE = "unavailable"  # the connection's system has no such module


@dataclass(frozen=True)
class TabStatus:
    """What a tab says about its data, for the strip above its table.

    Attributes:
        phase: where the load is.
        synced_at: when the rows shown were fetched from the server (None: never).
        progress: the refresh's progress, while syncing.
        message: a sentence for the user (an error, the unavailable module).
        request_id: the failed request's ID, when a refresh failed.
    """

    phase: Phase = Phase.IDLE
    synced_at: datetime | None = None
    progress: Progress | None = None
    message: str = ""
    request_id: str = ""

    @property
    def busy(self) -> bool:
        """True while a load runs (the tab shows progress and a Cancel button)."""
        return self.phase in (Phase.READING_CACHE, Phase.SYNCING)

    def text(self, now: datetime | None = None) -> str:
        """The one-line status, e.g. "Syncing — page 12 of 60" or "Up to date"."""
        phase = self.phase
        if phase is Phase.READING_CACHE:
            return "Reading cached data…"
        if phase is Phase.SYNCING:
            if self.progress is not None and self.progress.page:
                return f"Syncing — {self.progress.describe()}"
            return "Syncing…"
        if phase is Phase.UP_TO_DATE:
            return "Up to date"
        if phase is Phase.UNAVAILABLE:
            return "Not available"
        ago = f"last synced {relative_time(self.synced_at, now)}" if self.synced_at else ""
        if phase is Phase.CACHED:
            return f"Cached — {ago}" if ago else "Not synced yet"
        if phase is Phase.CANCELLED:
            return f"Cancelled — cached data, {ago}" if ago else "Cancelled"
        if phase is Phase.OFFLINE:
            return f"Offline — cached data, {ago}" if ago else "Offline"
        if phase is Phase.FAILED:
            return f"Refresh failed — cached data, {ago}" if ago else "Refresh failed"
        return ""

    def tooltip(self) -> str:
        """The exact sync time and, after a failure, what went wrong."""
        lines = []
        if self.synced_at is not None:
            local = self.synced_at.astimezone()
            lines.append(f"Last synced {local:%Y-%m-%d %H:%M:%S} (local time)")
        if self.message:
            lines.append(self.message)
        if self.request_id:
            lines.append(f"Request ID: {self.request_id}")
        return "\n".join(lines)


def relative_time(when: datetime, now: datetime | None = None) -> str:
    """``just now``, ``5 min ago``, ``3 h ago``, ``yesterday``, ``4 days ago``."""
    now = now or datetime.now(UTC)
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    seconds = (now - when).total_seconds()
    if seconds < 60:
        return "just now"
    minutes = int(seconds // 60)
    if minutes < 60:
        return f"{minutes} min ago"
    hours = minutes // 60
    if hours < 24:
        return f"{hours} h ago"
    days = hours // 24
    return "yesterday" if days == 1 else f"{days} days ago"


def settle_garbage() -> None:
    """Keep Python's cyclic garbage collector from freezing the UI on long lists.

    A full collection walks every tracked object; with 100k rows held, one takes hundreds of
    milliseconds, and CPython starts one each time the heap grew by a quarter - several
    times during a first load. After each chunk of rows is stored, the young generations
    are collected (cheap) and everything that survived is frozen (``gc.freeze``), so full
    collections only ever walk what is new. Rows are plain JSON trees without reference
    cycles: frozen or not, they are freed by reference counting when a refresh or a
    connection switch drops them.
    """
    gc.collect(1)
    gc.freeze()


def _alive(obj: QObject | None) -> bool:
    return obj is not None and shiboken6.isValid(obj)


class TabController(QObject):
    """Loads one tab's dataset into its model (and, for sites/locations, the lookups).

    Args:
        view: the tab's view.
        model: the tab's model.
        lookups: the connection's shared names.
        workspace: the owner, which holds the session and hears about errors.

    Signals:
        sig_status_changed: :attr:`status` changed.
    """

    sig_status_changed = Signal()

    def __init__(
        self,
        view: res.View,
        model: ResourceTableModel,
        lookups: Lookups,
        workspace: Workspace,
    ) -> None:
        super().__init__(workspace)
        self.view = view
        self.dataset = view.dataset
        self.model = model
        self.lookups = lookups
        self.workspace = workspace
        self.status = TabStatus()
        self.task: asyncio.Task[None] | None = None
        self.last_result: SyncResult | None = None
        self._generation = 0  # bumped by reset(): results of older loads are dropped
        self._refresh_seq = 0  # the latest refresh; an older one cancelled leaves no trace
        self._complete = True  # the model holds a whole list (not one cut short by a cancel)

    @property
    def feeds_lookups(self) -> bool:
        return self.dataset.name in LOOKUP_DATASETS

    # -- tasks --------------------------------------------------------------------------------

    def start(self, *, full: bool = False, cached: bool = False) -> asyncio.Task[None]:
        """Start a load as a task, cancelling this tab's previous one."""
        self.cancel()
        task = asyncio.ensure_future(self.load(full=full, cached=cached))
        self.task = task
        return task

    def cancel(self) -> None:
        """Cancel the running load, if any (the cache stays as it was)."""
        if self.task is not None and not self.task.done():
            self.task.cancel()

    async def wait(self) -> None:
        """Wait until the current load has ended (whatever its outcome)."""
        task = self.task
        if task is not None and not task.done():
            await asyncio.wait([task])

    def reset(self) -> None:
        """Forget everything (the connection changed): cancel, empty the model."""
        self.cancel()
        self._generation += 1
        self.last_result = None
        if _alive(self.model):
            self.model.clear()
        self._set_status(TabStatus())

    # -- loading --------------------------------------------------------------------------------

    async def load(self, *, full: bool = False, cached: bool = True) -> None:
        """Show the cached rows (when ``cached``), then refresh from the server."""
        if cached:
            await self.show_cached()
        if self.workspace.can_refresh:
            await self.refresh(full=full)

    async def show_cached(self) -> bool:
        """Put the cached rows in the model, a chunk at a time.

        Returns:
            True if cached rows were shown; False when the dataset was never synced.
        """
        session = self.workspace.session
        if session is None:
            return False
        generation = self._generation
        repo = session.repository(self.dataset.name)
        try:
            meta = repo.cached_meta()
        except CacheError as exc:
            log.warning("cache of %s unreadable: %s", self.dataset.name, exc)
            meta = None
        if meta is None or meta.synced_at is None:
            self._set_status(TabStatus(Phase.CACHED))
            return False
        self._set_status(TabStatus(Phase.READING_CACHE, synced_at=meta.synced_at))
        if not await self._load_cache(generation):
            return False
        self._set_status(TabStatus(Phase.CACHED, synced_at=meta.synced_at))
        return True

    async def _load_cache(self, generation: int) -> bool:
        """Replace the model's rows with the cached ones, a chunk per turn of the loop."""
        session = self.workspace.session
        if session is None:
            return False
        repo = session.repository(self.dataset.name)
        first = True
        chunks: Iterator[list[Row]] = iter(())
        try:
            chunks = repo.iter_cached(chunk=CACHE_CHUNK)
            for rows in chunks:
                if not self._current(generation):
                    return False
                self._feed(rows, replace_all=first)
                first = False
                settle_garbage()
                await asyncio.sleep(0)  # let Qt paint between chunks
        except CacheError as exc:
            log.warning("cache of %s unreadable: %s", self.dataset.name, exc)
        finally:
            close = getattr(chunks, "close", None)
            if close is not None:
                close()
        if not self._current(generation):
            return False
        if first:
            self._feed([], replace_all=True)
        self._complete = True
        return True

    async def refresh(self, *, full: bool = False) -> SyncResult | None:
        """Bring the tab up to date from the server.

        Rows appear as pages arrive when the table is empty; otherwise the refreshed list
        replaces the shown one at the end, touching only rows that changed.

        Returns:
            The sync's result, or None when it failed or its tab was reset meanwhile.
        """
        session = self.workspace.session
        if session is None:
            return None
        generation = self._generation
        self._refresh_seq += 1
        seq = self._refresh_seq
        repo = session.repository(self.dataset.name)
        synced_at = self.status.synced_at
        streaming = self.model.total == 0
        if streaming:
            self._complete = False  # until the stream ends, the table holds part of a list
        self._set_status(TabStatus(Phase.SYNCING, synced_at=synced_at))
        self.workspace.tab_busy_changed()

        def on_page(rows: list[Row], progress: Progress) -> None:
            if not self._current(generation):
                return
            if streaming:
                self._feed(rows, replace_all=False)
                settle_garbage()
            self._set_status(replace(self.status, progress=progress))

        try:
            result = await repo.refresh(full=full, on_page=on_page)
        except asyncio.CancelledError:
            # Cancelled by the user, or by a newer refresh (which then owns the status).
            if self._current(generation) and seq == self._refresh_seq:
                self._set_status(TabStatus(Phase.CANCELLED, synced_at=synced_at))
                self.workspace.tab_busy_changed()
            raise
        except MakiniError as err:
            if self._current(generation):
                self._failed(err, synced_at)
            return None
        except CacheError as exc:
            if self._current(generation):
                self._set_status(TabStatus(
                    Phase.FAILED, synced_at=synced_at,
                    message=f"The offline cache could not be updated: {exc}",
                ))
                self.workspace.tab_busy_changed()
            return None
        if not self._current(generation):
            return None
        if result.rows is not None:  # a full sync: the whole new list
            if streaming and self.model.total == 0:
                await self._fill(result.rows, generation)
            else:
                await self._replace(result.rows, generation)
        elif self._complete:  # incremental: apply the changes to what is shown
            if self.feeds_lookups:
                self.lookups.update_rows(self.dataset.name, result.upserts, result.deleted_keys)
            self.model.apply_changes(result.upserts, result.deleted_keys)
            settle_garbage()
        else:
            # The table holds a partial list (a load was cancelled part-way): changes alone
            # cannot complete it, the cache (now up to date) can.
            await self._load_cache(generation)
        if not self._current(generation):
            return None
        self._complete = True
        self.last_result = result
        self._set_status(TabStatus(Phase.UP_TO_DATE, synced_at=result.synced_at))
        self.workspace.tab_busy_changed()
        self.workspace.tab_succeeded()
        return result

    # -- internals ------------------------------------------------------------------------------

    def _current(self, generation: int) -> bool:
        """True while the load that started at ``generation`` may still touch the UI."""
        return generation == self._generation and _alive(self.model) and _alive(self)

    def _feed(self, rows: list[Row], *, replace_all: bool) -> None:
        """Hand dataset rows to the lookups (sites, locations) and to the model."""
        if self.feeds_lookups:
            if replace_all:
                self.lookups.set_rows(self.dataset.name, rows)
            else:
                self.lookups.update_rows(self.dataset.name, rows)
        if replace_all:
            self.model.set_rows(rows)
        else:
            self.model.append_rows(rows)

    async def _fill(self, rows: Sequence[Row], generation: int) -> None:
        """Add a whole list to an empty model in slices, yielding between them."""
        for start in range(0, len(rows), FILL_CHUNK):
            if not self._current(generation):
                return
            self._feed(list(rows[start:start + FILL_CHUNK]), replace_all=start == 0)
            settle_garbage()
            await asyncio.sleep(0)
        if not rows and self._current(generation):
            self._feed([], replace_all=True)

    async def _replace(self, rows: Sequence[Row], generation: int) -> None:
        """Bring the model to ``rows``, comparing in slices so the loop keeps turning."""
        model = self.model
        if self.feeds_lookups:
            await self._replace_names(rows, generation)
        if model.total == 0:
            await self._fill(rows, generation)
            return
        upserts: list[Row] = []
        seen: set[str] = set()
        for start in range(0, len(rows), DIFF_CHUNK):
            if not self._current(generation):
                return
            upserts.extend(model.changed_rows(rows[start:start + DIFF_CHUNK], seen))
            await asyncio.sleep(0)
        if not self._current(generation):
            return
        deleted = model.keys_not_in(seen)
        model.apply_changes(upserts, deleted)
        settle_garbage()

    async def _replace_names(self, rows: Sequence[Row], generation: int) -> None:
        """Replace the lookups' names of this dataset, a slice at a time."""
        seen: set[str] = set()
        for start in range(0, len(rows), DIFF_CHUNK):
            if not self._current(generation):
                return
            chunk = rows[start:start + DIFF_CHUNK]
            seen.update(str(r[res.F_KEY]) for r in chunk if r.get(res.F_KEY) is not None)
            self.lookups.update_rows(self.dataset.name, chunk)
            await asyncio.sleep(0)
        if self._current(generation):
            self.lookups.retain(self.dataset.name, seen)

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
        # Offline with cached rows on screen, the status bar and the tab say enough; a
        # dialog at every start on a train would only be in the way.
        quiet = err.is_connection and self.model.total > 0
        self.workspace.report_error(err, show=not quiet)

    def mark_offline(self, err: MakiniError) -> None:
        """The server cannot be reached: say the rows shown are the cached ones."""
        if self.status.phase in (Phase.CACHED, Phase.IDLE):
            self._set_status(TabStatus(
                Phase.OFFLINE, synced_at=self.status.synced_at, message=err.summary()
            ))

    def _set_status(self, status: TabStatus) -> None:
        self.status = status
        if _alive(self):
            self.sig_status_changed.emit()


class Workspace(QObject):
    """The active connection: its session, shared lookups, and one model per tab.

    Args:
        views: the tab views, in tab order.
        session_factory: builds a Session (tests substitute one); called as
            ``factory(info, token, on_retry=callback)``.
        parent: the Qt parent.

    Signals:
        sig_state_changed: :meth:`state_text` changed (connection state, countdown).
        sig_error(object): a :class:`MakiniError` that reached the user (show it).
        sig_connection_changed: a connection was opened or closed.
    """

    sig_state_changed = Signal()
    sig_error = Signal(object)
    sig_connection_changed = Signal()

    def __init__(
        self,
        views: Iterable[res.View],
        *,
        session_factory: SessionFactory = Session,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.lookups = Lookups(self)
        self.models: dict[str, ResourceTableModel] = {}
        self.tabs: dict[str, TabController] = {}
        for view in views:
            model = ResourceTableModel(view, self.lookups, self)
            self.models[view.name] = model
            self.tabs[view.name] = TabController(view, model, self.lookups, self)
        self.session_factory = session_factory
        self.session: Session | None = None
        self.info: ConnectionInfo | None = None
        self.integration: IntegrationStatus | None = None
        self.state = ConnState.UNKNOWN
        self.problem: ConnState | None = None  # NEEDS_RECONNECT or OFFLINE until a success
        self.load_task: asyncio.Task[None] | None = None
        self._retry: RetryEvent | None = None
        self._retry_until = 0.0
        self._countdown = QTimer(self)
        self._countdown.setInterval(250)
        self._countdown.timeout.connect(self._on_countdown_timeout)
        self._closing: list[asyncio.Task[None]] = []

    # -- connection -----------------------------------------------------------------------------

    @property
    def can_refresh(self) -> bool:
        """False while the connection needs a new token: a refresh could only fail again."""
        return self.session is not None and self.problem is not ConnState.NEEDS_RECONNECT

    def open(self, info: ConnectionInfo, token: str) -> None:
        """Switch to a connection: cancel every load, empty every tab, open a new session.

        Call :meth:`start_all` (or await :meth:`load_all`) afterwards to load the tabs.

        Raises:
            ValueError: the token is empty or malformed, or the URL is unusable.
        """
        self._close_session()
        for tab in self.tabs.values():
            tab.reset()
        self.lookups.clear()
        self.session = self.session_factory(info, token, on_retry=self._on_client_retry)
        self.info = info
        self.integration = None
        self.problem = None
        self.state = ConnState.CONNECTING
        self._stop_countdown()
        self.sig_connection_changed.emit()
        self.sig_state_changed.emit()

    def detach(self) -> None:
        """Close the connection right now, its cache file included (it is being deleted).

        Loads are cancelled and the HTTP pool closes in the background, as in :meth:`close`.
        """
        session = self.session
        if session is not None and session.cache is not None:
            session.cache.close()
        self._close_session()
        for tab in self.tabs.values():
            tab.reset()
        self.lookups.clear()

    async def close(self) -> None:
        """Cancel every load and close the session (HTTP pool, cache). Safe to call twice."""
        self._close_session()
        closing, self._closing = self._closing, []
        if closing:
            await asyncio.gather(*closing, return_exceptions=True)

    def _close_session(self) -> None:
        if self.load_task is not None and not self.load_task.done():
            self.load_task.cancel()
        tasks = [t.task for t in self.tabs.values() if t.task is not None and not t.task.done()]
        for tab in self.tabs.values():
            tab.cancel()
        session, self.session = self.session, None
        if session is not None or tasks:
            self._closing.append(asyncio.ensure_future(_close_after(tasks, session)))
        self._stop_countdown()
        if self.info is not None:
            self.info = None
            self.state = ConnState.UNKNOWN
            if _alive(self):
                self.sig_connection_changed.emit()
                self.sig_state_changed.emit()

    # -- loading --------------------------------------------------------------------------------

    def start_all(self, *, full: bool = False) -> asyncio.Task[None]:
        """Load every tab as one task (cancelling a previous load of them all)."""
        if self.load_task is not None and not self.load_task.done():
            self.load_task.cancel()
        self.load_task = asyncio.ensure_future(self.load_all(full=full))
        return self.load_task

    async def load_all(self, *, full: bool = False) -> None:
        """Cached rows of every tab, the connection's status, then a refresh of each tab.

        Sites and locations come first: the other tabs show their names.
        """
        if self.session is None:
            return
        ordered = self._ordered_tabs()
        for tab in ordered:
            await tab.show_cached()
        if not await self.check():
            return
        first = [t.start(full=full) for t in ordered if t.feeds_lookups]
        if first:
            await asyncio.wait(first)
        rest = [t.start(full=full) for t in ordered if not t.feeds_lookups]
        if rest:
            await asyncio.wait(rest)

    def refresh_tab(self, name: str, *, full: bool = False) -> asyncio.Task[None]:
        """Refresh one tab (cancelling its running load)."""
        if self.problem is ConnState.NEEDS_RECONNECT or self.problem is ConnState.OFFLINE:
            self.problem = None  # the user asks to try again
        return self.tabs[name].start(full=full)

    async def check(self) -> bool:
        """Ask the connection's status; False when loading cannot go on (401, offline)."""
        session = self.session
        if session is None:
            return False
        try:
            status = await session.check()
        except MakiniError as err:
            if session is self.session:
                offline = err.is_connection
                if offline:
                    for tab in self.tabs.values():
                        tab.mark_offline(err)
                cached = any(m.total for m in self.models.values())
                self.report_error(err, show=not (offline and cached))
            return False
        if session is not self.session:
            return False
        self.integration = status
        self.state = status.state
        self.problem = None
        self._emit_state()
        return True

    def _ordered_tabs(self) -> list[TabController]:
        tabs = list(self.tabs.values())
        return sorted(tabs, key=lambda t: (not t.feeds_lookups, LOOKUP_DATASETS.index(
            t.dataset.name) if t.feeds_lookups else 0))

    # -- state ----------------------------------------------------------------------------------

    @property
    def busy(self) -> bool:
        return any(t.status.busy for t in self.tabs.values())

    def report_error(self, err: MakiniError, *, show: bool = True) -> None:
        """An error that reached the user: update the state and ask the window to show it.

        Args:
            err: the error.
            show: False to only update the state (the tab shows the problem already).
        """
        if err.is_auth:
            self.problem = ConnState.NEEDS_RECONNECT
        elif err.is_connection:
            self.problem = ConnState.OFFLINE
        self._stop_countdown()
        self._emit_state()
        if show and _alive(self):
            self.sig_error.emit(err)

    def tab_busy_changed(self) -> None:
        self._emit_state()

    def tab_succeeded(self) -> None:
        """A refresh worked: the connection is evidently reachable and authorised."""
        if self.problem is not None:
            self.problem = None
        self._emit_state()

    def current_state(self) -> ConnState:
        """The state the status bar shows (see :meth:`state_text`)."""
        if self._retry is not None and self._retry.is_rate_limit:
            return ConnState.RATE_LIMITED
        if self.problem is not None:
            return self.problem
        if self.busy:
            return ConnState.SYNCING
        return self.state

    def state_text(self) -> str:
        """E.g. "Ready", "Syncing", "Rate limited — retrying in 12 s", "Offline"."""
        if self.session is None:
            return "Not connected"
        if self._retry is not None:
            secs = max(1, round(self._retry_until - time.monotonic()))
            event = replace(self._retry, delay=secs)
            return event.describe()
        return self.current_state().label

    def state_tooltip(self) -> str:
        """Provider, company and the status call's latency and request ID."""
        status = self.integration
        lines = []
        if self.info is not None:
            lines.append(f"{self.info.name} — {self.info.base_url}")
        if status is not None:
            if status.provider or status.company:
                lines.append(" · ".join(p for p in (status.company, status.provider) if p))
            lines.append(f"Status call: {status.latency_ms:.0f} ms, request ID {status.request_id}")
        return "\n".join(lines)

    def _emit_state(self) -> None:
        if _alive(self):
            self.sig_state_changed.emit()

    def _on_client_retry(self, event: RetryEvent) -> None:
        """The client waits before retrying: count down in the status bar, no dialog."""
        self._retry = event
        self._retry_until = time.monotonic() + event.delay
        if _alive(self):
            self._countdown.start()
        self._emit_state()

    def _on_countdown_timeout(self) -> None:
        if self._retry is None or time.monotonic() >= self._retry_until:
            self._stop_countdown()
        self._emit_state()

    def _stop_countdown(self) -> None:
        self._retry = None
        if _alive(self._countdown):
            self._countdown.stop()


async def _close_after(tasks: list[asyncio.Task[None]], session: Session | None) -> None:
    """Wait for cancelled loads to unwind, then close the session they used."""
    if tasks:
        await asyncio.wait(tasks)
    if session is not None:
        try:
            await session.aclose()
        except Exception:  # closing must not fail a connection switch or the app's exit
            log.exception("closing the session of %s failed", session.info.name)


__all__ = [
    "Phase",
    "TabController",
    "TabStatus",
    "Workspace",
    "relative_time",
]
