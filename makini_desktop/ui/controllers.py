"""Qt adapters of the Qt-free workspace: its events become signals, its tabs feed models.

The decisions live in :mod:`makini_desktop.sync.workspace` (the connection's lifecycle, the
load order, offline and back, errors, the retry countdown) and
:mod:`makini_desktop.sync.tab` (one tab's load); tests drive them without a widget. Here:

* :class:`TabController` is one tab's :class:`~makini_desktop.sync.tab.TabLoader` as a
  QObject whose ``sig_status_changed`` follows the loader's status.
* :class:`Workspace` builds the shared Qt :class:`~makini_desktop.ui.table_model.Lookups`
  and one :class:`~makini_desktop.ui.table_model.ResourceTableModel` per tab, hands them to
  the sync workspace, and re-emits its callbacks and its notices as signals.

Widgets call these through one-line ``@asyncSlot`` wrappers. No widget is created here.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from datetime import datetime
from typing import Any

import shiboken6
from PySide6.QtCore import QDateTime, QLocale, QObject, Signal

from makini_desktop.api import resources as res
from makini_desktop.sync import tab_status
from makini_desktop.sync import workspace as core
from makini_desktop.sync.notify import Message, Notifier
from makini_desktop.sync.repository import SyncResult
from makini_desktop.sync.session import Session
from makini_desktop.sync.tab import LOOKUP_DATASETS, TabLoader, settle_garbage
from makini_desktop.sync.tab_status import (
    Phase,
    TabStatus,
    at_time,
    held_text,
    offline_text,
)
from makini_desktop.table.related import RelatedIndex
from makini_desktop.ui.notifier import weak_listener
from makini_desktop.ui.table_model import Lookups, ResourceTableModel, Row

SessionFactory = core.SessionFactory

_INDEX_RELATED = "index related"
"""The workspace's task slot of :meth:`RelatedIndex.catch_up`."""


class LocaleClock:
    """Times in the user's locale's short formats (``tab_status``'s :class:`Clock`)."""

    def time(self, local: datetime) -> str:
        return QLocale().toString(_stamp(local).time(), QLocale.FormatType.ShortFormat)

    def day_month(self, local: datetime) -> str:
        month = QLocale().monthName(local.month, QLocale.FormatType.ShortFormat)
        return f"{local.day} {month}"

    def date(self, local: datetime) -> str:
        return QLocale().toString(_stamp(local).date(), QLocale.FormatType.ShortFormat)


def _stamp(local: datetime) -> QDateTime:
    return QDateTime.fromSecsSinceEpoch(int(local.timestamp()))


tab_status.set_clock(LocaleClock())


def _alive(obj: QObject | None) -> bool:
    return obj is not None and shiboken6.isValid(obj)


class _Forward:
    """An attribute of the adapter that is the sync object's attribute of the same name."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, obj: Any, owner: type | None = None) -> Any:
        if obj is None:
            return self
        return getattr(obj._core, self.name)

    def __set__(self, obj: Any, value: Any) -> None:
        setattr(obj._core, self.name, value)


def _listed(items: Iterable[Any]) -> list[Any]:
    """``items`` as a list, without a copy when it is one (rows are read twice)."""
    return items if isinstance(items, list) else list(items)


class IndexedTableModel(ResourceTableModel):
    """A tab's model that also hands every row of its dataset to the related index.

    The rows arrive here (the tab's :class:`~makini_desktop.sync.tab.RowSink`), so the
    index follows every load, page and change set without a scan. The rows a view leaves
    out (the Spaces tab's floors) are compared and dropped against the index, so a refresh
    keeps them current too.
    """

    def __init__(self, view: res.View, lookups: Lookups, related: RelatedIndex,
                 parent: QObject | None = None) -> None:
        super().__init__(view, lookups, parent)
        self.related = related
        self._dataset = view.dataset.name
        self._narrowed = view.row_filter is not None

    def set_rows(self, rows: Iterable[Row]) -> None:
        rows = _listed(rows)
        self.related.set_rows(self._dataset, rows)
        super().set_rows(rows)

    def append_rows(self, rows: Iterable[Row]) -> None:
        rows = _listed(rows)
        self.related.update_rows(self._dataset, rows)
        super().append_rows(rows)

    def stage_rows(self, rows: Iterable[Row], *, keyed: bool = True) -> None:
        # A start from the cache stages all but its first chunk: the index must hold them
        # too, or the detail pane's related records stop at the first 500 rows offline.
        # It indexes them once every tab is filled, or when first read.
        rows = _listed(rows)
        self.related.update_rows(self._dataset, rows, later=True)
        super().stage_rows(rows, keyed=keyed)

    def apply_changes(self, upserts: Iterable[Row], deleted_keys: Iterable[str]) -> None:
        upserts, deleted_keys = _listed(upserts), _listed(deleted_keys)
        self.related.update_rows(self._dataset, upserts, deleted_keys)
        super().apply_changes(upserts, deleted_keys)

    def changed_rows(self, rows: Iterable[Row], seen: set[str] | None = None) -> list[Row]:
        rows = _listed(rows)
        out = super().changed_rows(rows, seen)
        if self._narrowed:
            out += self.related.changed_outside(self._dataset, rows, self.view.accepts, seen)
        return out

    def keys_not_in(self, seen: set[str]) -> list[str]:
        out = super().keys_not_in(seen)
        if self._narrowed:
            out += self.related.keys_outside_not_in(self._dataset, seen, self.view.accepts)
        return out


class TabController(QObject):
    """One tab's loader, with a signal.

    Args:
        loader: the tab's Qt-free load.
        workspace: the owner (the Qt parent).

    Signals:
        sig_status_changed: :attr:`status` changed.
    """

    sig_status_changed = Signal()

    view = _Forward()
    dataset = _Forward()
    lookups = _Forward()
    status = _Forward()
    task = _Forward()
    last_result: SyncResult | None = _Forward()  # type: ignore[assignment]
    feeds_lookups = _Forward()

    def __init__(self, loader: TabLoader, workspace: Workspace) -> None:
        super().__init__(workspace)
        self._core = loader
        self.workspace = workspace
        # The Qt model itself (the loader may feed it through the outbox's overlay).
        self.model: ResourceTableModel = workspace.models[loader.view.name]
        model = self.model
        loader.alive = lambda: _alive(self) and _alive(model)
        loader.on_status = self._on_loader_status

    def _on_loader_status(self) -> None:
        if _alive(self):
            self.sig_status_changed.emit()

    def start(self, *, full: bool = False, cached: bool = False) -> asyncio.Task[None]:
        """Start a load as a task, cancelling this tab's previous one."""
        return self._core.start(full=full, cached=cached)

    def cancel(self) -> None:
        """Cancel the running load, if any (the cache stays as it was)."""
        self._core.cancel()

    async def wait(self) -> None:
        """Wait until the current load has ended (whatever its outcome)."""
        await self._core.wait()

    def reset(self) -> None:
        """Forget everything (the connection changed): cancel, empty the model."""
        self._core.reset()

    async def load(self, *, full: bool = False, cached: bool = True) -> None:
        """Show the cached rows (when ``cached``), then refresh from the server."""
        await self._core.load(full=full, cached=cached)

    async def show_cached(self) -> bool:
        """Put the cached rows in the model, a chunk at a time."""
        return await self._core.show_cached()

    async def refresh(self, *, full: bool = False) -> SyncResult | None:
        """Bring the tab up to date from the server."""
        return await self._core.refresh(full=full)

    def mark_failed(self, message: str, request_id: str = "") -> None:
        self._core.mark_failed(message, request_id)

    def mark_offline(self, message: str = "") -> None:
        self._core.mark_offline(message)


class Workspace(QObject):
    """The active connection (see :class:`makini_desktop.sync.workspace.Workspace`), with
    Qt models and signals.

    Args:
        views: the tab views, in tab order.
        session_factory: builds a Session (tests substitute one).
        notifier: the bus the workspace's notices go through (default: the app's).
        parent: the Qt parent.

    Signals:
        sig_state_changed: :meth:`state_text` changed (connection state, countdown).
        sig_error(object): a :class:`MakiniError` that reached the user (show it).
        sig_connection_changed: a connection was opened or closed.
        sig_reach_changed: online, offline or working offline changed, or a probe started
            or ended (the offline banner).
        sig_notice(str): a one-time message for the user (the offline cache was damaged
            and set aside, or could not be opened): the workspace's notices on the bus.
    """

    sig_state_changed = Signal()
    sig_error = Signal(object)
    sig_connection_changed = Signal()
    sig_reach_changed = Signal()
    sig_notice = Signal(str)

    # The sync workspace's state, read (and for the settings, written) through the adapter.
    session = _Forward()
    info = _Forward()
    integration = _Forward()
    state = _Forward()
    problem = _Forward()
    token_missing = _Forward()
    connect_failure = _Forward()
    connect_request_id = _Forward()
    probe_delays = _Forward()
    focus = _Forward()
    work_offline = _Forward()
    probe_failed_at = _Forward()
    load_task = _Forward()
    reach = _Forward()
    online = _Forward()
    probing = _Forward()
    held_reason = _Forward()
    can_refresh = _Forward()
    busy = _Forward()
    session_factory = _Forward()

    def __init__(
        self,
        views: Iterable[res.View],
        *,
        session_factory: SessionFactory = Session,
        notifier: Notifier | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        views = list(views)
        self.lookups = Lookups(self)
        self.related = RelatedIndex()
        """Every row of the connection by key, and who refers to whom (the detail pane)."""
        self.models: dict[str, ResourceTableModel] = {
            view.name: IndexedTableModel(view, self.lookups, self.related, self)
            for view in views
        }
        self._core = core.Workspace(
            views, self.lookups, self.models, session_factory=session_factory,
            notifier=notifier, alive=lambda: _alive(self),
        )
        self._core.on_state = self._on_core_state
        self._core.on_error = self._on_core_error
        self._core.on_connection = self._on_core_connection
        self._core.on_reach = self._on_core_reach
        self._core.on_tabs_shown = self._on_core_tabs_shown
        self.notifier = self._core.notifier
        self._listener = weak_listener(self, self.notifier)
        self.tabs: dict[str, TabController] = {
            name: TabController(loader, self) for name, loader in self._core.tabs.items()
        }

    @property
    def core(self) -> core.Workspace:
        """The Qt-free workspace this adapts."""
        return self._core

    # -- events → signals ---------------------------------------------------------------------

    def _on_core_state(self) -> None:
        if _alive(self):
            self.sig_state_changed.emit()

    def _on_core_error(self, err: object) -> None:
        if _alive(self):
            self.sig_error.emit(err)

    def _on_core_connection(self) -> None:
        if _alive(self):
            self.sig_connection_changed.emit()

    def _on_core_reach(self) -> None:
        if _alive(self):
            self.sig_reach_changed.emit()

    def _on_core_tabs_shown(self) -> None:
        # The detail pane's index of the rows that arrived, a slice per turn (a read
        # meanwhile indexes its own list at once).
        self._core.slots.ensure(_INDEX_RELATED, self.related.catch_up)

    def _on_notifier_message(self, message: Message) -> None:
        if message.origin is self._core:
            self.sig_notice.emit(message.text)

    # -- the sync workspace's calls -----------------------------------------------------------

    def open(self, info: Any, token: str | None) -> None:
        """Switch to a connection (see :meth:`makini_desktop.sync.workspace.Workspace.open`)."""
        self._core.open(info, token)

    def detach(self) -> None:
        """Close the connection right now, its cache file included."""
        self._core.detach()

    async def close(self) -> None:
        """Cancel every load and close the session. Safe to call twice."""
        await self._core.close()

    async def ensure_cache(self) -> None:
        await self._core.ensure_cache()

    def start_all(self, *, full: bool = False) -> asyncio.Task[None]:
        """Load every tab as one task (cancelling a previous load of them all)."""
        return self._core.start_all(full=full)

    async def load_all(self, *, full: bool = False) -> None:
        await self._core.load_all(full=full)

    def refresh_tab(self, name: str, *, full: bool = False) -> asyncio.Task[None]:
        """Refresh one tab (offline: try the connection once; working offline: nothing)."""
        return self._core.refresh_tab(name, full=full)

    def try_now(self, *, full_tab: str | None = None) -> asyncio.Task[None]:
        """Offline: probe the API once now; when it answers, every tab refreshes."""
        return self._core.try_now(full_tab=full_tab)

    def set_work_offline(self, on: bool) -> None:
        self._core.set_work_offline(on)

    async def check(self) -> bool:
        return await self._core.check()

    def retry(self) -> asyncio.Task[None]:
        """Try a connection whose connect failed again: every tab loads anew."""
        return self._core.retry()

    async def resume(self) -> None:
        await self._core.resume()

    def offline_message(self) -> str:
        return self._core.offline_message()

    def cached_at(self) -> datetime | None:
        return self._core.cached_at()

    def offline_tooltip(self) -> str:
        return self._core.offline_tooltip()

    def report_error(self, err: Any, *, show: bool = True) -> None:
        self._core.report_error(err, show=show)

    def current_state(self) -> Any:
        return self._core.current_state()

    def state_text(self) -> str:
        return self._core.state_text()

    def state_tooltip(self) -> str:
        return self._core.state_tooltip()


__all__ = [
    "LOOKUP_DATASETS",
    "IndexedTableModel",
    "LocaleClock",
    "Phase",
    "TabController",
    "TabStatus",
    "Workspace",
    "at_time",
    "held_text",
    "offline_text",
    "settle_garbage",
]
