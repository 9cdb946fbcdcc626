"""The active connection, Qt-free: its session, the load order, offline and back.

A :class:`Workspace` opens and closes a connection's :class:`Session` (and its shared
offline cache, in a worker thread), checks the integration, loads every tab (lookups first:
the other tabs show their names), and follows the session's reachability: offline, every
tab says its rows are the cached ones; back online, it checks the connection again and
refreshes only the tabs that are not current. Errors are sorted here (a refused token holds
the connection until the user reconnects; offline is said once, by the banner) and the
client's retry waits are counted down for the status bar.

It tells its owner what changed through plain callbacks (``on_state``, ``on_reach``,
``on_connection``, ``on_error``; each tab's ``on_status``), as
:class:`~makini_desktop.sync.connectivity.Connectivity` does, and publishes its sentences
for the user on a :class:`~makini_desktop.sync.notify.Notifier`. The UI's
``ui.controllers.Workspace`` turns those into signals; tests drive this class directly.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime

from makini_desktop.api import resources as res
from makini_desktop.api.client import RetryEvent
from makini_desktop.api.errors import MakiniError
from makini_desktop.sync import integration_check
from makini_desktop.sync import workspace_texts as texts
from makini_desktop.sync.cached_open import show_cached_tabs
from makini_desktop.sync.connectivity import Reach
from makini_desktop.sync.countdown import RetryCountdown
from makini_desktop.sync.notify import Level, Notifier, bus
from makini_desktop.sync.outbox_link import OutboxLink
from makini_desktop.sync.session import (
    ConnectionInfo,
    ConnState,
    IntegrationStatus,
    Session,
)
from makini_desktop.sync.tab import (
    LOOKUP_DATASETS,
    RowSink,
    TabLoader,
)
from makini_desktop.sync.tab_status import Phase
from makini_desktop.sync.tasks import TaskSlots
from makini_desktop.table.lookups import Lookups

log = logging.getLogger(__name__)

SessionFactory = Callable[..., Session]

SOURCE = "workspace"
"""The notifier source of the workspace's messages."""

# Task slots of the workspace's own tasks.
_LOAD, _RESUME, _PROBE = "load", "resume", "probe"


def _always() -> bool:
    return True


def _quiet() -> None:
    """No listener."""


def _no_error(err: MakiniError) -> None:
    """No listener."""


class Workspace:
    """The active connection: its session, shared lookups, and one loader per tab.

    Reachability is the session's :class:`~makini_desktop.sync.connectivity.Connectivity`:
    when a request cannot reach the API it goes offline once, every tab says its rows are
    the cached ones, and it probes in the background; when the API answers again every tab
    that is not current refreshes by itself. "Work offline" (:meth:`set_work_offline`) stops
    all network use.

    Args:
        views: the tab views, in tab order.
        lookups: the connection's shared names.
        models: each view's rows, by view name.
        session_factory: builds a Session (tests substitute one); called as
            ``factory(info, token, on_retry=..., on_reach=..., open_cache="later")``.
        notifier: where messages for the user go (default: the app's bus).
        alive: False once the owner is gone (the UI's widgets were deleted): nothing is
            reported or started any more.

    Attributes:
        probe_delays: (first, longest) seconds between background probes while offline,
            applied to each new session; None keeps the Connectivity's defaults.
        work_offline: the "Work offline" toggle; it carries over to the next connection.
        probe_failed_at: when the last "Try now" found the API still unreachable.
        focus: the view name of the tab the user looks at: its cached rows come first.
        on_state: :meth:`state_text` changed (connection state, countdown).
        on_error: a :class:`MakiniError` reached the user (show it).
        on_connection: a connection was opened or closed.
        on_reach: online, offline or working offline changed, or a probe started or ended.
        on_tabs_shown: every tab shows its rows (the cached ones at a start, or after a
            refresh of them all): the moment for work the tables do not wait for.
    """

    def __init__(
        self,
        views: Iterable[res.View],
        lookups: Lookups,
        models: Mapping[str, RowSink],
        *,
        session_factory: SessionFactory = Session,
        notifier: Notifier | None = None,
        alive: Callable[[], bool] = _always,
    ) -> None:
        self.lookups = lookups
        self.outboxes = OutboxLink()  # the active connection's changes on their way
        # A list the user changes reaches its model through the outbox's overlay: a
        # refresh landing while a change is on its way never undoes it.
        self.tabs: dict[str, TabLoader] = {
            view.name: TabLoader(view, self.outboxes.sink(view, models[view.name]), lookups,
                                 self)
            for view in views
        }
        self.session_factory = session_factory
        self.notifier = notifier if notifier is not None else bus
        self.alive = alive
        self.on_state: Callable[[], None] = _quiet
        self.on_error: Callable[[MakiniError], None] = _no_error
        self.on_connection: Callable[[], None] = _quiet
        self.on_reach: Callable[[], None] = _quiet
        self.on_tabs_shown: Callable[[], None] = _quiet
        self.session: Session | None = None
        self.info: ConnectionInfo | None = None
        self.integration: IntegrationStatus | None = None
        self.state = ConnState.UNKNOWN
        self.problem: ConnState | None = None  # NEEDS_RECONNECT until a success
        self.token_missing = False  # the connection was opened on its cache alone
        self.connect_failure: str = ""  # why the last connect failed (Retry clears it)
        self.connect_request_id = ""
        self.probe_delays: tuple[float, float] | None = None
        self.focus: str | None = None
        self.work_offline = False
        self.probe_failed_at: datetime | None = None
        self.slots = TaskSlots()
        self._cached_names: set[str] = set()  # lookups read from the cache by load_all
        self._cache_task: asyncio.Task[None] | None = None  # once per session, never cancelled
        self._cache_session: Session | None = None
        self._resume_full: str | None = None  # the tab whose Full refresh found us offline
        self.countdown = RetryCountdown()
        self.countdown.on_tick = self._emit_state
        self._closing: list[asyncio.Task[None]] = []

    # -- connection -----------------------------------------------------------------------------

    @property
    def load_task(self) -> asyncio.Task[None] | None:
        """The latest load of every tab (:meth:`start_all`), running or ended."""
        return self.slots.get(_LOAD)

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
        return self.slots.running(_PROBE)

    @property
    def held_reason(self) -> str:
        """Why this connection cannot fetch anything until the user acts ("" when it can)."""
        return texts.held_reason(self)

    @property
    def held_words(self) -> str:
        """:attr:`held_reason` in a few words, for a tab's status line ("no token")."""
        return texts.held_words(self)

    def offline_message(self) -> str:
        """What a tab that shows cached rows says about why (its tooltip)."""
        return texts.offline_message(self)

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

        def on_reach(reach: Reach) -> None:
            self._on_session_reach(session, reach)

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
        self.on_connection()
        self.on_state()
        self.on_reach()

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
        load = self.slots.get(_LOAD)
        own = [t for t in self.slots.cancel_all() if t is not load]
        tasks = [t.task for t in self.tabs.values() if t.task is not None and not t.task.done()]
        tasks += own
        for tab in self.tabs.values():
            tab.cancel()
        session, self.session = self.session, None
        self._closing += self.outboxes.closed(session)
        # The cache may still be opening in its thread: the session is closed after it
        # opened, or the file would stay open.
        opening = self._cache_task if self._cache_session is session else None
        self._cache_task = self._cache_session = None
        if session is not None or tasks:
            self._closing.append(asyncio.ensure_future(_close_after(tasks, session, opening)))
        self._stop_countdown()
        self.token_missing = False
        self.connect_failure = self.connect_request_id = ""
        if self.info is not None:
            self.info = None
            self.state = ConnState.UNKNOWN
            if self.alive():
                self.on_connection()
                self.on_state()
                self.on_reach()

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
        if session is not self.session or not self.alive():
            return
        self.outboxes.opened(session)  # sends what an earlier run or connection left
        recovered = session.cache_recovered
        if recovered is not None:
            self.notify(Level.WARNING, recovered.message)
        elif session.cache_problem:
            self.notify(
                Level.WARNING,
                f"{session.cache_problem.rstrip('.')}. Until the offline copy can be opened, "
                "this connection works online only: nothing is kept for offline use.",
            )

    def notify(self, level: Level, text: str, request_id: str | None = None) -> None:
        """Tell the user something, through the notifier."""
        self.notifier.publish(level, text, request_id=request_id, source=SOURCE, origin=self)

    # -- loading --------------------------------------------------------------------------------

    def start_all(self, *, full: bool = False) -> asyncio.Task[None]:
        """Load every tab as one task (cancelling a previous load of them all)."""
        return self.slots.start(_LOAD, self.load_all(full=full))

    async def load_all(self, *, full: bool = False) -> None:
        """Cached rows of every tab, the connection's status, then a refresh of each tab.

        Sites and locations come first: the other tabs show their names. Every tab shows
        its cached rows before the first request is made.
        """
        if self.session is None:
            return
        await self.ensure_cache()
        ordered = await show_cached_tabs(self, self._ordered_tabs())
        self._cached_names.clear()
        if self.alive():
            self.on_tabs_shown()
        if self.token_missing:
            self._mark_offline()  # every tab says why it shows cached rows; nothing is sent
            return
        if not await self.check():
            if not self.online:
                self._mark_offline()
            return
        await self._refresh_tabs(ordered, full=full)

    def names_read_from_cache(self, dataset: str) -> None:
        """The lookups hold ``dataset``'s names, just read from the cache."""
        self._cached_names.add(dataset)

    def take_cached_names(self, dataset: str) -> bool:
        """True if the lookups hold ``dataset``'s names, read from the cache by this start
        (for every tab of the dataset: Floors and Spaces both show the locations; until
        :meth:`load_all` has shown every tab's cached rows)."""
        return dataset in self._cached_names

    async def _refresh_tabs(
        self, tabs: Sequence[TabLoader], *, full: bool = False, full_tab: str | None = None
    ) -> None:
        """Refresh tabs, the ones other tabs take names from first; then have the row images
        of the lists the refresh changed made again, off the GUI thread, for a fast next
        start (store/row_image.py)."""
        def go(t: TabLoader) -> asyncio.Task[None]:
            return t.start(full=full or t.view.name == full_tab)

        first = [go(t) for t in tabs if t.feeds_lookups]
        if first:
            await asyncio.wait(first)
        rest = [go(t) for t in tabs if not t.feeds_lookups]
        if rest:
            await asyncio.wait(rest)
        if self.alive():
            self.on_tabs_shown()
        session = self.session
        if session is not None and session.cache is not None:
            session.cache.keep_row_images()

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
        return self.slots.ensure(_PROBE, lambda: self._try_now(full_tab))

    async def _try_now(self, full_tab: str | None) -> None:
        session = self.session
        if session is None or self.reach is not Reach.OFFLINE:
            self.slots.release(_PROBE)
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
            self.slots.release(_PROBE)  # no longer "probing" when the banner is told
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
        """Ask the connection's status; False when loading cannot go on (401, offline)."""
        return await integration_check.check(self)

    def retry(self) -> asyncio.Task[None]:
        """Try a connection whose connect failed again: every tab loads anew."""
        self.connect_failure = self.connect_request_id = ""
        if self.session is not None and not self.token_missing:
            self.state = ConnState.CONNECTING
        self._emit_state()
        self._emit_reach()
        return self.start_all()

    def _ordered_tabs(self) -> list[TabLoader]:
        tabs = list(self.tabs.values())
        return sorted(tabs, key=lambda t: (not t.feeds_lookups, LOOKUP_DATASETS.index(
            t.dataset.name) if t.feeds_lookups else 0))

    # -- offline and back ---------------------------------------------------------------------

    def _on_session_reach(self, session: Session, reach: Reach) -> None:
        """The session went offline, back online, or the user toggled Work offline."""
        if session is not self.session or not self.alive():
            return  # a session already closed
        self.outboxes.reach(session, reach)
        if reach is Reach.ONLINE:
            self.probe_failed_at = None
            self.slots.ensure(_RESUME, self.resume)
        else:
            self._stop_countdown()  # no "retrying in 3 s" under an offline banner
            self.slots.cancel(_RESUME)
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

    async def resume(self) -> None:
        """Back online: check the connection, then refresh every tab that is not current."""
        load = self.load_task
        if load is not None and not load.done():
            await asyncio.wait([load])  # a start still under way refreshes what it can
        full_tab, self._resume_full = self._resume_full, None
        if not await self.check():
            return
        ordered = self._ordered_tabs()
        stale = [t for t in ordered if not t.status.busy and t.status.phase
                 not in (Phase.UP_TO_DATE, Phase.UNAVAILABLE)]
        if full_tab is not None:
            stale += [t for t in ordered if t.view.name == full_tab
                      and t not in stale and not t.status.busy]
        await self._refresh_tabs(stale, full_tab=full_tab)

    def cached_at(self) -> datetime | None:
        """When the oldest data shown was fetched (what the offline banner names)."""
        return texts.cached_at(self)

    def offline_tooltip(self) -> str:
        """Since when, why, and what the app does about it."""
        return texts.offline_tooltip(self)

    def current_state(self) -> ConnState:
        """The state the status bar shows (see :meth:`state_text`)."""
        return texts.current_state(self)

    def state_text(self) -> str:
        """E.g. "Ready", "Syncing", "Rate limited — retrying in 12 s", "Offline"."""
        return texts.state_text(self)

    def state_tooltip(self) -> str:
        """Provider, company and the status call's latency and request ID."""
        return texts.state_tooltip(self)

    # -- state ----------------------------------------------------------------------------------

    @property
    def busy(self) -> bool:
        return any(t.status.busy for t in self.tabs.values())

    def report_error(self, err: MakiniError, *, show: bool = True) -> None:
        """An error that reached the user: update the state and ask the owner to show it.

        Args:
            err: the error.
            show: False to only update the state (the tab or the banner says it already).
        """
        if err.is_auth:  # every tab says its rows are cached because of the token
            self.problem = ConnState.NEEDS_RECONNECT
            self._mark_offline()
        self._stop_countdown()
        self._emit_state()
        if show and self.alive():
            self.on_error(err)

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

    def _emit_state(self) -> None:
        if self.alive():
            self.on_state()

    def _emit_reach(self) -> None:
        if self.alive():
            self.on_reach()

    def _on_client_retry(self, event: RetryEvent) -> None:
        """The client waits before retrying: count down in the status bar, no dialog."""
        if self.alive():
            self.countdown.start(event)
        self._emit_state()

    def _stop_countdown(self) -> None:
        self.countdown.stop()


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


__all__ = ["SOURCE", "SessionFactory", "Workspace"]
