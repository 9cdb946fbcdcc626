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
from datetime import UTC, datetime, timedelta
from enum import Enum
from typing import Any

import shiboken6
from PySide6.QtCore import QDateTime, QLocale, QObject, QTimer, Signal

from makini_desktop.api import resources as res
from makini_desktop.api.client import RetryEvent
from makini_desktop.api.errors import MakiniError
from makini_desktop.api.values import relative_age
from makini_desktop.redact import scrub
from makini_desktop.store.cache import CacheError
from makini_desktop.sync.connectivity import Reach
from makini_desktop.sync.repository import Progress, SyncResult
from makini_desktop.sync.session import (
    NO_TOKEN_REASON,
    ConnectionInfo,
    ConnState,
    IntegrationStatus,
    Session,
)
from makini_desktop.ui.table_model import Lookups, ResourceTableModel

log = logging.getLogger(__name__)

Row = dict[str, Any]

CACHE_CHUNK = 500
"""Cached rows read and added per step (about 10 ms of work)."""
FILL_CHUNK = 500
"""Rows added to a model per step when a whole list arrives at once."""
DIFF_CHUNK = 5000
"""Rows compared per step when a refreshed list replaces what a table shows."""
NAMES_CHUNK = 2000
"""Cached rows read per step when only their names are needed."""

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
            # "Up to date" is only true for a while: later the label says how fresh it is.
            if self.synced_at is not None and _age(self.synced_at, now) >= FRESH_FOR:
                return f"Last synced {relative_age(self.synced_at, now)}"
            return "Up to date"
        if phase is Phase.UNAVAILABLE:
            return "Not available"
        ago = f"last synced {relative_age(self.synced_at, now)}" if self.synced_at else ""
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


FRESH_FOR = timedelta(minutes=1)
"""How long a tab that just synced says "Up to date" before it says how long ago it was."""


def _age(when: datetime, now: datetime | None) -> timedelta:
    now = now or datetime.now(UTC)
    return now - (when if when.tzinfo is not None else when.replace(tzinfo=UTC))


def at_time(when: datetime, now: datetime | None = None) -> str:
    """A past instant as a person says it: ``at 09:41``, ``yesterday at 09:41``,
    ``on 12 Mar at 09:41``, ``on 12/03/2025 at 09:41``.

    Local time, in the user's locale's short time format.
    """
    now = (now or datetime.now(UTC)).astimezone()
    local = (when if when.tzinfo is not None else when.replace(tzinfo=UTC)).astimezone()
    locale = QLocale()
    stamp = QDateTime.fromSecsSinceEpoch(int(local.timestamp()))
    clock = locale.toString(stamp.time(), QLocale.FormatType.ShortFormat)
    days = (now.date() - local.date()).days
    if days <= 0:
        return f"at {clock}"
    if days == 1:
        return f"yesterday at {clock}"
    if local.year == now.year:
        month = locale.monthName(local.month, QLocale.FormatType.ShortFormat)
        return f"on {local.day} {month} at {clock}"
    return f"on {locale.toString(stamp.date(), QLocale.FormatType.ShortFormat)} at {clock}"


def offline_text(reach: Reach, cached_at: datetime | None, now: datetime | None = None) -> str:
    """The offline banner's sentence, e.g. "Offline — showing data cached at 09:41"."""
    lead = "Working offline" if reach is Reach.WORK_OFFLINE else "Offline"
    if cached_at is None:
        return f"{lead} — nothing of this connection is cached yet"
    return f"{lead} — showing data cached {at_time(cached_at, now)}"


TOKEN_REFUSED_REASON = "The server did not accept this connection's token"


def held_text(reason: str, cached_at: datetime | None, now: datetime | None = None) -> str:
    """The banner's sentence when the connection cannot be used, e.g. "No token for this
    connection — showing cached data, last synced at 09:41"."""
    if cached_at is None:
        return f"{reason} — nothing of this connection is cached yet"
    return f"{reason} — showing cached data, last synced {at_time(cached_at, now)}"


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
    import sys

    log.error("unexpected %s in a load", type(exc).__name__)
    sys.excepthook(type(exc), exc, exc.__traceback__)


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


# Phases a tab rests in (no load running) that going offline turns into "Offline".
_SETTLED = (Phase.IDLE, Phase.CACHED, Phase.UP_TO_DATE, Phase.CANCELLED, Phase.FAILED)


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
        """Show the cached rows (when ``cached``), then refresh from the server.

        Offline (or working offline) the refresh is left out: the tab says its rows are the
        cached ones, and the workspace refreshes it when the connection is back.
        """
        generation = self._generation
        try:
            if cached:
                await self.show_cached()
            if self.workspace.can_refresh:
                await self.refresh(full=full)
            elif not self.workspace.online or self.workspace.held_reason:
                self.mark_offline(self.workspace.offline_message())
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a bug, or a failure nobody foresaw: never "Syncing…" forever
            if self._current(generation):
                self._set_status(TabStatus(
                    Phase.FAILED, synced_at=self.status.synced_at,
                    message=f"Refresh failed: {failure_sentence(exc)}",
                ))
                self.workspace.tab_busy_changed()
            report_unexpected(exc)

    async def show_cached(self) -> bool:
        """Put the cached rows in the model, a chunk at a time.

        Returns:
            True if cached rows were shown; False when the dataset was never synced.
        """
        session = self.workspace.session
        if session is None:
            return False
        generation = self._generation
        await self.workspace.ensure_cache()  # opened in a worker thread, once per session
        if not self._current(generation) or session is not self.workspace.session:
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
        if not await self._load_cache(generation, names_known=names_known):
            return False
        self._set_status(TabStatus(self._cached_phase(), synced_at=meta.synced_at))
        return True

    def _cached_phase(self) -> Phase:
        """"Offline" when nothing can be fetched (offline, no token); else "Cached"."""
        ws = self.workspace
        return Phase.OFFLINE if not ws.online or ws.token_missing else Phase.CACHED

    async def _load_cache(self, generation: int, *, names_known: bool = False) -> bool:
        """Replace the model's rows with the cached ones, a chunk per turn of the loop.

        Args:
            generation: the load's generation (a reset drops it).
            names_known: the lookups already hold this dataset's names from the cache, so
                they are updated, not replaced chunk by chunk (which would blank the names
                other tabs show until the last chunk).
        """
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
                self._feed(rows, replace_all=first, names_known=names_known)
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
        await self.workspace.ensure_cache()  # a refresh keeps what it fetches
        if not self._current(generation) or session is not self.workspace.session:
            return None
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
            # Cancelled by the user, by a newer refresh (which then owns the status), or
            # because the connection went offline (then the tab says it shows cached data).
            if self._current(generation) and seq == self._refresh_seq:
                phase = Phase.CANCELLED if self.workspace.online else Phase.OFFLINE
                self._set_status(TabStatus(phase, synced_at=synced_at))
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

    def _feed(self, rows: list[Row], *, replace_all: bool, names_known: bool = False) -> None:
        """Hand dataset rows to the lookups (sites, locations) and to the model."""
        if self.feeds_lookups:
            if replace_all and not names_known:
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
        if self.status.phase in _SETTLED or self.status.phase is Phase.OFFLINE:
            self._set_status(TabStatus(
                Phase.OFFLINE, synced_at=self.status.synced_at, message=message
            ))

    def _set_status(self, status: TabStatus) -> None:
        self.status = status
        if _alive(self):
            self.sig_status_changed.emit()


class Workspace(QObject):
    """The active connection: its session, shared lookups, and one model per tab.

    Reachability is the session's :class:`~makini_desktop.sync.connectivity.Connectivity`:
    when a request cannot reach the API it goes offline once, every tab says its rows are
    the cached ones, and it probes in the background; when the API answers again every tab
    refreshes by itself. "Work offline" (:meth:`set_work_offline`) stops all network use.

    Args:
        views: the tab views, in tab order.
        session_factory: builds a Session (tests substitute one); called as
            ``factory(info, token, on_retry=..., on_reach=..., open_cache="later")``.
        parent: the Qt parent.

    Attributes:
        probe_delays: (first, longest) seconds between background probes while offline,
            applied to each new session; None keeps the Connectivity's defaults (tests
            shorten them).
        work_offline: the "Work offline" toggle; it carries over to the next connection.
        probe_failed_at: when the last "Try now" found the API still unreachable.
        focus: the view name of the tab the user looks at: its cached rows come first.

    Signals:
        sig_state_changed: :meth:`state_text` changed (connection state, countdown).
        sig_error(object): a :class:`MakiniError` that reached the user (show it).
        sig_connection_changed: a connection was opened or closed.
        sig_reach_changed: online, offline or working offline changed, or a probe started
            or ended (the offline banner).
        sig_notice(str): a one-time message for the user (the offline cache was damaged
            and set aside, or could not be opened).
    """

    sig_state_changed = Signal()
    sig_error = Signal(object)
    sig_connection_changed = Signal()
    sig_reach_changed = Signal()
    sig_notice = Signal(str)

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
        self.problem: ConnState | None = None  # NEEDS_RECONNECT until a success
        self.token_missing = False  # the connection was opened on its cache alone
        self.connect_failure: str = ""  # why the last connect failed (Retry clears it)
        self.connect_request_id = ""
        self.load_task: asyncio.Task[None] | None = None
        self.probe_delays: tuple[float, float] | None = None
        self.focus: str | None = None
        self.work_offline = False
        self._cached_names: set[str] = set()  # lookups read from the cache by load_all
        self.probe_failed_at: datetime | None = None
        self._session_gen = 0  # bumped per session: a callback of an older one is ignored
        self._cache_task: asyncio.Task[None] | None = None
        self._cache_session: Session | None = None
        self._resume_task: asyncio.Task[None] | None = None
        self._resume_full: str | None = None  # the tab whose Full refresh found us offline
        self._probe_task: asyncio.Task[None] | None = None
        self._retry: RetryEvent | None = None
        self._retry_until = 0.0
        self._countdown = QTimer(self)
        self._countdown.setInterval(250)
        self._countdown.timeout.connect(self._on_countdown_timeout)
        self._closing: list[asyncio.Task[None]] = []

    # -- connection -----------------------------------------------------------------------------

    @property
    def reach(self) -> Reach:
        """Online, offline, or working offline (the toggle alone when nothing is open)."""
        if self.session is not None:
            return self.session.connectivity.reach
        return Reach.WORK_OFFLINE if self.work_offline else Reach.ONLINE

    @property
    def online(self) -> bool:
        return self.reach is Reach.ONLINE

    @property
    def probing(self) -> bool:
        """True while a "Try now" probe runs."""
        return self._probe_task is not None and not self._probe_task.done()

    @property
    def held_reason(self) -> str:
        """Why this connection cannot fetch anything until the user acts ("" when it can):
        its token is missing, or the server refused it."""
        if self.session is None:
            return ""
        if self.token_missing:
            return NO_TOKEN_REASON
        if self.problem is ConnState.NEEDS_RECONNECT:
            return TOKEN_REFUSED_REASON
        return ""

    def offline_message(self) -> str:
        """What a tab that shows cached rows says about why (its tooltip)."""
        reason = self.held_reason
        if reason:
            return f"{reason} — showing cached data. Choose Reconnect… to enter a token."
        err = self.session.connectivity.last_error if self.session is not None else None
        return err.summary() if err is not None and self.reach is Reach.OFFLINE else ""

    @property
    def can_refresh(self) -> bool:
        """False offline, and while the connection needs a new token: a refresh would fail."""
        return (
            self.session is not None
            and self.problem is not ConnState.NEEDS_RECONNECT
            and self.online
        )

    def open(self, info: ConnectionInfo, token: str | None) -> None:
        """Switch to a connection: cancel every load, empty every tab, open a new session.

        The session's offline cache is opened later, in a worker thread (see
        :meth:`ensure_cache`). Call :meth:`start_all` (or await :meth:`load_all`) afterwards
        to load the tabs. Without a token (``None``: none is stored) the tabs show the
        cached rows and nothing is fetched until the user reconnects.

        Raises:
            ValueError: the token is empty or malformed, or the URL is unusable.
        """
        self._close_session()
        for tab in self.tabs.values():
            tab.reset()
        self.lookups.clear()
        self._cached_names.clear()
        self._session_gen += 1
        gen = self._session_gen
        def on_reach(reach: Reach) -> None:
            self._on_session_reach(gen, reach)

        if token is None:
            session = Session(info, None, on_reach=on_reach, open_cache="later")
        else:
            session = self.session_factory(
                info, token,
                on_retry=self._on_client_retry,
                on_reach=on_reach,
                open_cache="later",
            )
        if self.probe_delays is not None:
            session.connectivity.first_delay, session.connectivity.max_delay = self.probe_delays
        self.session = session
        self.info = info
        self.integration = None
        self.token_missing = token is None
        self.problem = ConnState.NEEDS_RECONNECT if token is None else None
        self.connect_failure = self.connect_request_id = ""
        self.probe_failed_at = None
        self.state = ConnState.NEEDS_RECONNECT if token is None else ConnState.CONNECTING
        self._stop_countdown()
        if self.work_offline:
            session.connectivity.set_work_offline(True)
        self.sig_connection_changed.emit()
        self.sig_state_changed.emit()
        self.sig_reach_changed.emit()

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
        own = [t for t in (self.load_task, self._resume_task, self._probe_task)
               if t is not None and not t.done()]
        for task in own:
            task.cancel()
        tasks = [t.task for t in self.tabs.values() if t.task is not None and not t.task.done()]
        tasks += [t for t in own if t is not self.load_task]
        for tab in self.tabs.values():
            tab.cancel()
        session, self.session = self.session, None
        # The cache may still be opening in its thread: the session is closed after it
        # opened, or the file would stay open.
        opening = self._cache_task if self._cache_session is session else None
        self._cache_task = self._cache_session = None
        self._resume_task = self._probe_task = None
        if session is not None or tasks:
            self._closing.append(asyncio.ensure_future(_close_after(tasks, session, opening)))
        self._stop_countdown()
        self.token_missing = False
        self.connect_failure = self.connect_request_id = ""
        if self.info is not None:
            self.info = None
            self.state = ConnState.UNKNOWN
            if _alive(self):
                self.sig_connection_changed.emit()
                self.sig_state_changed.emit()
                self.sig_reach_changed.emit()

    async def ensure_cache(self) -> None:
        """Open the session's offline cache in a worker thread (once); tell the user once
        if it was damaged and set aside, or could not be opened."""
        session = self.session
        if session is None:
            return
        if self._cache_session is not session or self._cache_task is None:
            self._cache_session = session
            self._cache_task = asyncio.ensure_future(self._open_cache(session))
        # Shielded: a cancelled load must not abandon a cache half-opened in its thread.
        await asyncio.shield(self._cache_task)

    async def _open_cache(self, session: Session) -> None:
        await session.ensure_cache()
        if session is not self.session or not _alive(self):
            return
        recovered = session.cache_recovered
        if recovered is not None:
            self.sig_notice.emit(recovered.message)
        elif session.cache_problem:
            self.sig_notice.emit(
                f"{session.cache_problem.rstrip('.')}. Until the offline copy can be opened, "
                "this connection works online only: nothing is kept for offline use."
            )

    # -- loading --------------------------------------------------------------------------------

    def start_all(self, *, full: bool = False) -> asyncio.Task[None]:
        """Load every tab as one task (cancelling a previous load of them all)."""
        if self.load_task is not None and not self.load_task.done():
            self.load_task.cancel()
        self.load_task = asyncio.ensure_future(self.load_all(full=full))
        return self.load_task

    async def load_all(self, *, full: bool = False) -> None:
        """Cached rows of every tab, the connection's status, then a refresh of each tab.

        Sites and locations come first: the other tabs show their names. Every tab shows
        its cached rows before the first request is made.
        """
        if self.session is None:
            return
        await self.ensure_cache()
        ordered = self._ordered_tabs()
        focus = self.tabs.get(self.focus or "")
        if focus is not None and not focus.feeds_lookups:
            # The tab on screen first, with the names it shows: reading only the names
            # of 50k locations is far quicker than filling the Spaces tab with them.
            await self._names_from_cache()
            ordered.remove(focus)
            ordered.insert(0, focus)
        for tab in ordered:
            await tab.show_cached()
        self._cached_names.clear()
        if self.token_missing:
            self._mark_offline()  # every tab says why it shows cached rows; nothing is sent
            return
        if not await self.check():
            if not self.online:
                self._mark_offline()
            return
        await self._refresh_tabs(ordered, full=full)

    async def _names_from_cache(self) -> None:
        """Fill the lookups (site and location names) from the cache, a chunk per turn."""
        session = self.session
        if session is None:
            return
        for name in LOOKUP_DATASETS:
            chunks: Iterator[list[Row]] = iter(())
            try:
                chunks = session.repository(name).iter_cached(chunk=NAMES_CHUNK)
                for rows in chunks:
                    if session is not self.session:
                        return
                    self.lookups.update_rows(name, rows)
                    await asyncio.sleep(0)
            except CacheError as exc:
                log.warning("cached names of %s unreadable: %s", name, exc)
                continue
            finally:
                close = getattr(chunks, "close", None)
                if close is not None:
                    close()
            if session is self.session:
                self._cached_names.add(name)

    def take_cached_names(self, dataset: str) -> bool:
        """True (once) if the lookups hold ``dataset``'s names, read from the cache."""
        if dataset in self._cached_names:
            self._cached_names.discard(dataset)
            return True
        return False

    async def _refresh_tabs(
        self, tabs: Sequence[TabController], *, full: bool = False, full_tab: str | None = None
    ) -> None:
        """Refresh tabs, the ones other tabs take names from first."""
        def go(t: TabController) -> asyncio.Task[None]:
            return t.start(full=full or t.view.name == full_tab)

        first = [go(t) for t in tabs if t.feeds_lookups]
        if first:
            await asyncio.wait(first)
        rest = [go(t) for t in tabs if not t.feeds_lookups]
        if rest:
            await asyncio.wait(rest)

    def refresh_tab(self, name: str, *, full: bool = False) -> asyncio.Task[None]:
        """Refresh one tab (cancelling its running load).

        Offline, it tries the connection once instead (see :meth:`try_now`); working
        offline, it does nothing: no request is made.
        """
        if self.token_missing:
            return asyncio.ensure_future(_nothing())  # no token: nothing can be fetched
        if self.problem is ConnState.NEEDS_RECONNECT:
            self.problem = None  # the user asks to try again
        reach = self.reach
        if reach is Reach.WORK_OFFLINE:
            return asyncio.ensure_future(_nothing())
        if reach is Reach.OFFLINE:
            return self.try_now(full_tab=name if full else None)
        return self.tabs[name].start(full=full)

    def try_now(self, *, full_tab: str | None = None) -> asyncio.Task[None]:
        """Offline: probe the API once now; when it answers, every tab refreshes.

        Args:
            full_tab: a tab to refresh in full then (its Full refresh found us offline).
        """
        if self._probe_task is None or self._probe_task.done():
            self._probe_task = asyncio.ensure_future(self._try_now(full_tab))
        return self._probe_task

    async def _try_now(self, full_tab: str | None) -> None:
        session = self.session
        if session is None or self.reach is not Reach.OFFLINE:
            return
        self._emit_reach()  # the banner says it is trying
        self._resume_full = full_tab  # read by _on_session_reach if the probe gets through
        try:
            online = await session.connectivity.probe_now()
            if not online:
                self._resume_full = None
                if session is self.session:
                    self.probe_failed_at = datetime.now(UTC)
        finally:
            self._probe_task = None
            self._emit_reach()

    def set_work_offline(self, on: bool) -> None:
        """Turn "Work offline" on (no request at all, running refreshes stop) or off
        (every tab refreshes)."""
        self.work_offline = on
        if self.session is not None:
            self.session.connectivity.set_work_offline(on)
        self._emit_reach()
        self._emit_state()

    async def check(self) -> bool:
        """Ask the connection's status; False when loading cannot go on (401, offline).

        One quick attempt decides whether the API is reachable at all (offline is said
        within a second, not after a minute of retries) and usually answers the question;
        only when the server answered with an error is the status asked again, with the
        client's retries.
        """
        session = self.session
        if session is None or not self.online or self.token_missing:
            return False
        try:
            return await self._check(session)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a bug: say the connect failed, never "Connecting…" for good
            if session is self.session:
                self._connect_failed(failure_sentence(exc))
            report_unexpected(exc)
            return False

    async def _check(self, session: Session) -> bool:
        status: IntegrationStatus | None = None
        try:
            status = await session.probe()
        except MakiniError as err:
            if err.is_connection:
                if session is self.session:
                    session.connectivity.note_error(err)  # offline: _on_session_reach
                return False
        if session is not self.session or not self.online:
            return False
        if status is not None:
            session.connectivity.note_success()
        else:
            try:
                status = await session.check()
            except MakiniError as err:
                if session is self.session and not err.is_connection:
                    if not err.is_auth:
                        self._connect_failed(err.summary(), err.request_id)
                    self.report_error(err)
                return False
        if session is not self.session:
            return False
        self.integration = status
        self.state = status.state
        self.problem = None
        self.connect_failure = self.connect_request_id = ""
        self._emit_state()
        self._emit_reach()
        return True

    def _connect_failed(self, sentence: str, request_id: str = "") -> None:
        """The connection's status could not be had: the status bar, the banner (with
        Retry) and every tab not yet refreshed say what failed."""
        self.connect_failure = sentence
        self.connect_request_id = request_id
        for tab in self.tabs.values():
            tab.mark_failed(f"Not refreshed: the connection failed. {sentence}", request_id)
        self._emit_state()
        self._emit_reach()

    def retry(self) -> asyncio.Task[None]:
        """Try a connection whose connect failed again: every tab loads anew."""
        self.connect_failure = self.connect_request_id = ""
        if self.session is not None and not self.token_missing:
            self.state = ConnState.CONNECTING
        self._emit_state()
        self._emit_reach()
        return self.start_all()

    def _ordered_tabs(self) -> list[TabController]:
        tabs = list(self.tabs.values())
        return sorted(tabs, key=lambda t: (not t.feeds_lookups, LOOKUP_DATASETS.index(
            t.dataset.name) if t.feeds_lookups else 0))

    # -- offline and back ---------------------------------------------------------------------

    def _on_session_reach(self, gen: int, reach: Reach) -> None:
        """The session went offline, back online, or the user toggled Work offline."""
        if gen != self._session_gen or not _alive(self):
            return  # a session already closed
        if reach is Reach.ONLINE:
            self.probe_failed_at = None
            self._schedule_resume()
        else:
            self._stop_countdown()  # no "retrying in 3 s" under an offline banner
            if self._resume_task is not None and not self._resume_task.done():
                self._resume_task.cancel()
            self._mark_offline()
        self._emit_state()
        self._emit_reach()

    def _mark_offline(self) -> None:
        """Every tab says it shows cached rows; running refreshes stop (they could not end)."""
        message = self.offline_message()
        for tab in self.tabs.values():
            if tab.status.phase is Phase.SYNCING:
                tab.cancel()  # its handler marks it offline
            else:
                tab.mark_offline(message)

    def _schedule_resume(self) -> None:
        if self._resume_task is None or self._resume_task.done():
            self._resume_task = asyncio.ensure_future(self.resume())

    async def resume(self) -> None:
        """Back online: check the connection, then refresh every tab that is not current."""
        load = self.load_task
        if load is not None and not load.done():
            await asyncio.wait([load])  # a start still under way refreshes what it can
        full_tab, self._resume_full = self._resume_full, None
        if not await self.check():
            return
        stale = [t for t in self._ordered_tabs() if not t.status.busy and t.status.phase
                 not in (Phase.UP_TO_DATE, Phase.UNAVAILABLE)]
        if full_tab is not None:
            stale += [t for t in self._ordered_tabs() if t.view.name == full_tab
                      and t not in stale and not t.status.busy]
        await self._refresh_tabs(stale, full_tab=full_tab)

    def cached_at(self) -> datetime | None:
        """When the oldest data shown was fetched (what the offline banner names)."""
        times = [t.status.synced_at for t in self.tabs.values()
                 if t.status.synced_at is not None and t.status.phase is not Phase.UNAVAILABLE]
        return min(times) if times else None

    def offline_tooltip(self) -> str:
        """Since when, why, and what the app does about it."""
        if self.reach is Reach.WORK_OFFLINE:
            return "Work offline is on: nothing is fetched until you turn it off."
        lines = []
        conn = self.session.connectivity if self.session is not None else None
        if conn is not None and conn.offline_since is not None:
            lines.append(f"Offline since {at_time(conn.offline_since).removeprefix('at ')}.")
        if conn is not None and conn.last_error is not None:
            lines.append(conn.last_error.summary())
        lines.append("The app retries by itself and refreshes every tab when it can.")
        return "\n".join(lines)

    # -- state ----------------------------------------------------------------------------------

    @property
    def busy(self) -> bool:
        return any(t.status.busy for t in self.tabs.values())

    def report_error(self, err: MakiniError, *, show: bool = True) -> None:
        """An error that reached the user: update the state and ask the window to show it.

        Args:
            err: the error.
            show: False to only update the state (the tab or the banner says it already).
        """
        if err.is_auth:
            self.problem = ConnState.NEEDS_RECONNECT
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
        reached = bool(self.connect_failure)
        self.connect_failure = self.connect_request_id = ""
        self._emit_state()
        if reached:
            self._emit_reach()

    def current_state(self) -> ConnState:
        """The state the status bar shows (see :meth:`state_text`)."""
        if self.session is not None and not self.online:
            return ConnState.OFFLINE
        if self._retry is not None and self._retry.is_rate_limit:
            return ConnState.RATE_LIMITED
        if self.problem is not None:
            return self.problem
        if self.busy:
            return ConnState.SYNCING
        if self.connect_failure:
            return ConnState.UNKNOWN  # not "Connecting…": the attempt is over
        return self.state

    def state_text(self) -> str:
        """E.g. "Ready", "Syncing", "Rate limited — retrying in 12 s", "Offline"."""
        if self.session is None:
            return "Not connected"
        if not self.online:
            return ConnState.OFFLINE.label
        if self.connect_failure and not self.busy:
            return f"Could not connect: {self.connect_failure}"
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
        if self.session is not None and not self.online:
            lines.append(self.offline_tooltip())
        elif status is not None:
            if status.provider or status.company:
                lines.append(" · ".join(p for p in (status.company, status.provider) if p))
            lines.append(f"Status call: {status.latency_ms:.0f} ms, request ID {status.request_id}")
        return "\n".join(lines)

    def _emit_state(self) -> None:
        if _alive(self):
            self.sig_state_changed.emit()

    def _emit_reach(self) -> None:
        if _alive(self):
            self.sig_reach_changed.emit()

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


async def _nothing() -> None:
    """A task that does nothing (a refresh asked for while working offline)."""


async def _close_after(
    tasks: list[asyncio.Task[None]],
    session: Session | None,
    opening: asyncio.Task[None] | None = None,
) -> None:
    """Wait for cancelled loads to unwind (and the cache to finish opening), then close the
    session they used."""
    if tasks:
        await asyncio.wait(tasks)
    if opening is not None:
        await asyncio.gather(opening, return_exceptions=True)
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
    "at_time",
    "offline_text",
]
