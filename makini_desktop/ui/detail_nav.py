"""The detail pane's glue to the window: what it shows, following links, Back and Forward.

:class:`DetailNavigator` opens the pane on a row (Enter or double-click in a table), keeps
it on the selected row while it is open, follows a related record's link to that record's
tab (selecting its row), and walks the :class:`~makini_desktop.table.detail_history.History`
with Back/Forward (Alt+Left/Alt+Right, the mouse's back and forward buttons). The pane is
redrawn when rows arrive or change and when a list's state changes (still loading,
offline), so it never shows stale or invented relations.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

import shiboken6
from PySide6.QtCore import (
    QCoreApplication,
    QEvent,
    QItemSelectionModel,
    QModelIndex,
    QObject,
    Qt,
    QTimer,
    Slot,
)
from PySide6.QtGui import QAction, QMouseEvent
from PySide6.QtWidgets import QAbstractItemView

from makini_desktop.api import resources as res
from makini_desktop.sync.connectivity import Reach
from makini_desktop.sync.tab_status import Phase, held_text, offline_text
from makini_desktop.table.detail import Describer, place_of
from makini_desktop.table.detail_history import History, Place
from makini_desktop.ui.detail_pane import DetailPane

if TYPE_CHECKING:  # the window imports this module
    from makini_desktop.ui.main_window import MainWindow

__all__ = ["REDRAW_DELAY_MS", "DetailNavigator"]

REDRAW_DELAY_MS = 250
"""Rows arriving (dozens of pages a second) redraw the pane at most this often."""

_TAB_OF_DATASET = {res.VIEWS[name].dataset.name: name for name in res.TAB_VIEWS}
_PLACE_TAB = {"floors": None}  # a floor has no tab of its own: it is shown in the pane only
_PLACES = ("sites", "locations")
_RELEVANT: dict[str, frozenset[str]] = {
    "buildings": frozenset(_PLACES),
    "floors": frozenset(_PLACES),
    "spaces": frozenset((*_PLACES, "assets", "moves", "visits")),
    "assets": frozenset((*_PLACES, "assets", "moves")),
    "moves": frozenset((*_PLACES, "assets", "moves")),
    "visitors": frozenset((*_PLACES, "visits")),
}
"""The datasets whose rows or state a record's pane shows: only they redraw it."""


def _tr(text: str) -> str:
    return QCoreApplication.translate("DetailNavigator", text)


class DetailNavigator(QObject):
    """Shows records in the window's detail pane and keeps the path through them.

    Args:
        window: the main window (its tabs, workspace and notifier).
        pane: the dock the records are shown in.
        back_action: the window's Back action.
        forward_action: the window's Forward action.
    """

    def __init__(self, window: MainWindow, pane: DetailPane, back_action: QAction,
                 forward_action: QAction) -> None:
        super().__init__(window)
        self.window = window
        self.pane = pane
        self.back_action = back_action
        self.forward_action = forward_action
        ws = window.workspace
        self.describer = Describer(ws.lookups, ws.related, self.dataset_state)
        self.history = History()
        self._navigating = False  # selecting a row ourselves: not a move of the user's
        self._redraw = QTimer(self)
        self._redraw.setSingleShot(True)
        self._redraw.setInterval(REDRAW_DELAY_MS)
        self._redraw.timeout.connect(self._on_redraw_timeout)
        pane.set_nav_actions(back_action, forward_action)
        pane.sig_follow.connect(self._on_pane_sig_follow)
        pane.sig_show_all.connect(self._on_pane_sig_show_all)
        self._show_all: set[str] = set()  # groups of the record shown listed whole
        self._shown_place: Place | None = None
        pane.visibilityChanged.connect(self._on_pane_visibility_changed)
        back_action.triggered.connect(self.back)
        forward_action.triggered.connect(self.forward)
        ws.related.subscribe(self._on_related_changed)
        ws.sig_connection_changed.connect(self._on_workspace_sig_connection_changed)
        ws.sig_reach_changed.connect(self._on_workspace_sig_reach_changed)
        for name, tab in window.tabs.items():
            table = tab.table
            table.sig_open_requested.connect(functools.partial(self.open_row, name))
            table.selectionModel().currentRowChanged.connect(
                functools.partial(self._on_table_current_row_changed, name))
            tab.controller.sig_status_changed.connect(
                functools.partial(self.schedule_redraw, tab.view.dataset.name))
            table.viewport().installEventFilter(self)
        pane.related.viewport().installEventFilter(self)
        pane.widget().installEventFilter(self)
        window.installEventFilter(self)
        self._update_actions()

    # -- what a list's state means for the pane -------------------------------------------------

    def dataset_state(self, dataset: str) -> str | None:
        """None when a dataset's list is whole (fresh or cached); else what it lacks."""
        name = _TAB_OF_DATASET.get(dataset)
        tab = self.window.workspace.tabs.get(name) if name else None
        if tab is None:
            return None
        status = tab.status
        phase = status.phase
        if phase is Phase.UNAVAILABLE:
            return _tr("not offered by this connection's system")
        if phase is Phase.IDLE:
            return _tr("not loaded yet")
        if phase is Phase.READING_CACHE:
            return _tr("still loading")
        if status.synced_at is not None:
            return None  # a whole list, fresh or from the offline copy
        if phase is Phase.SYNCING:
            return _tr("still loading")
        if phase is Phase.CANCELLED:
            return _tr("loading was cancelled")
        if phase is Phase.FAILED:
            return _tr("could not be loaded")
        if phase in (Phase.OFFLINE, Phase.CACHED):
            return _tr("not in the offline copy")
        return None

    def note(self) -> str:
        """The remark above the fields: where the data comes from when not fresh."""
        ws = self.window.workspace
        if ws.info is None:
            return ""
        if ws.held_reason:
            return held_text(ws.held_reason, ws.cached_at())
        if ws.reach is not Reach.ONLINE:
            return offline_text(ws.reach, ws.cached_at())
        return ""

    # -- going places ---------------------------------------------------------------------------

    def open_row(self, view_name: str, row: int) -> None:
        """Open the pane on a table's row (Enter or double-click)."""
        model = self.window.tabs[view_name].model
        if not 0 <= row < model.rowCount():
            return
        record = model.row_at(row)
        place = place_of(model.view.dataset.name, record)
        self.pane.show()
        self.pane.raise_()
        self.go(place, select=False)  # the row the user is on

    def go(self, place: Place, *, record: bool = True, select: bool = True) -> None:
        """Show a record in the pane and select it in its tab.

        Args:
            place: the record.
            record: add it to the history (False for Back and Forward).
            select: select it in its tab, scrolled into view (False for the row the user
                selected there: selecting it again mid-click, and scrolling, would leave
                the click's release on another row).
        """
        if place != self._shown_place:
            self._show_all.clear()
        if record:
            self.history.visit(place)
        self._update_actions()
        if select:
            self._select_in_tab(place)
        self._show(place)

    @Slot()
    def back(self) -> None:
        """Go back to the record shown before."""
        place = self.history.back()
        if place is not None:
            self.pane.show()
            self.go(place, record=False)

    @Slot()
    def forward(self) -> None:
        """Go forward again after Back."""
        place = self.history.forward()
        if place is not None:
            self.pane.show()
            self.go(place, record=False)

    def _select_in_tab(self, place: Place) -> None:
        name = _PLACE_TAB.get(place.view, place.view)
        tab = self.window.tabs.get(name) if name else None
        if tab is None:
            return
        self._navigating = True
        try:
            self.window.resource_tabs.setCurrentWidget(tab)
            row = tab.model.row_of_key(place.key)
            table = tab.table
            if row < 0:
                table.clearSelection()
                if self.describer.row(place) is not None:
                    self.window.tell(_tr("It is not shown in the {0} tab: the search or the "
                                         "building filter hides it.").format(tab.view.title))
                return
            columns = table.visible_columns()
            index = tab.model.index(row, columns[0] if columns else 0)
            flags = (QItemSelectionModel.SelectionFlag.ClearAndSelect
                     | QItemSelectionModel.SelectionFlag.Rows)
            table.selectionModel().setCurrentIndex(index, flags)
            if not table.viewport().rect().contains(table.visualRect(index)):
                table.scrollTo(index, QAbstractItemView.ScrollHint.PositionAtCenter)
        finally:
            self._navigating = False

    def _show(self, place: Place) -> None:
        self._shown_place = place
        row = self.describer.row(place)
        if row is None:
            noun = res.VIEWS[place.view].noun[0]
            state = self.dataset_state(res.VIEWS[place.view].dataset.name)
            why = (_tr("its list is {0}").format(state) if state
                   else _tr("it is no longer in the list"))
            self.pane.show_message(_tr("This {0} cannot be shown: {1}.").format(noun, why))
            return
        detail = self.describer.describe(place, row, show_all=frozenset(self._show_all))
        note = self.note()
        if self.pane.detail != detail or self.pane.note_label.text() != note:
            self.pane.show_detail(detail, note)

    def _update_actions(self) -> None:
        self.back_action.setEnabled(self.history.can_back)
        self.forward_action.setEnabled(self.history.can_forward)

    # -- redrawing ------------------------------------------------------------------------------

    def schedule_redraw(self, dataset: str | None = None) -> None:
        """Redraw the pane soon: rows or the state of ``dataset`` (None: any) changed."""
        if not shiboken6.isValid(self):
            return
        place = self.history.current
        if place is None or (dataset is not None and dataset not in _RELEVANT.get(
                place.view, frozenset())):
            return
        if not self._redraw.isActive():
            self._redraw.start()

    def _on_related_changed(self, dataset: str) -> None:
        self.schedule_redraw(dataset)

    @Slot()
    def _on_workspace_sig_reach_changed(self) -> None:
        self.schedule_redraw()

    @Slot()
    def _on_redraw_timeout(self) -> None:
        place = self.history.current
        if place is not None and self.pane.isVisible():
            self._show(place)

    # -- slots ----------------------------------------------------------------------------------

    @Slot(object)
    def _on_pane_sig_follow(self, place: Place) -> None:
        self.go(place)

    @Slot(str)
    def _on_pane_sig_show_all(self, title: str) -> None:
        place = self.history.current
        if place is not None:
            self._show_all.add(title)
            self._show(place)

    @Slot(bool)
    def _on_pane_visibility_changed(self, visible: bool) -> None:
        if not visible:
            return
        tab = self.window.current_tab()
        current = tab.table.currentIndex()
        if current.isValid():
            self.go(self._casual(tab.view.name, current.row()), select=False)  # selected now
        elif self.history.current is not None:
            self._show(self.history.current)  # rows may have changed while it was hidden

    def _casual(self, view_name: str, row: int) -> Place:
        model = self.window.tabs[view_name].model
        place = place_of(model.view.dataset.name, model.row_at(row))
        return Place(place.view, place.key, casual=True)

    def _on_table_current_row_changed(self, view_name: str, current: QModelIndex,
                                      _previous: QModelIndex) -> None:
        if self._navigating or not current.isValid() or not self.pane.isVisible():
            return
        if self.window.current_tab().view.name != view_name:
            return
        self.go(self._casual(view_name, current.row()), select=False)

    @Slot()
    def _on_workspace_sig_connection_changed(self) -> None:
        self.history.clear()
        self._update_actions()
        self.pane.show_message(_tr("Select a row and press Enter (or double-click it) to "
                                   "see everything about it here."))

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.MouseButtonPress and isinstance(event, QMouseEvent):
            button = event.button()
            if button == Qt.MouseButton.BackButton:
                self.back_action.trigger()
                return True
            if button == Qt.MouseButton.ForwardButton:
                self.forward_action.trigger()
                return True
        return False
