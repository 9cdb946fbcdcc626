"""The front desk's day: the Visitors tab's "Today" and the building the desk works in.

A receptionist opens the app in the morning on the same building and today's visitors.
:class:`FrontDeskDay` keeps the toolbar's building per connection in the settings and puts
it back when the connection's buildings are known, and gives the Visitors tab a checkable
**Today** action (``frontDeskTodayAction``): today's visits only (local time), sorted by
status (expected, then on site, then left) and then by the expected time, so the three
groups of the day read top to bottom. Both are remembered across restarts.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import shiboken6
from PySide6.QtCore import QObject, Qt, QTimer, Slot
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QLabel

from makini_desktop.api import resources as res
from makini_desktop.table import filters

if TYPE_CHECKING:
    from makini_desktop.ui.main_window import MainWindow
    from makini_desktop.ui.table_model import ResourceTableModel

__all__ = ["TODAY_KEY", "FrontDeskDay", "building_key", "day_summary"]

TODAY_KEY = "frontDesk/today"
"""Settings key: the Visitors tab opens on Today."""


def building_key(connection_id: str) -> str:
    """Settings key of the building chosen for a connection (its profile id or base URL)."""
    return f"frontDesk/building/{connection_id.replace('/', '_')}"


class FrontDeskDay(QObject):
    """The Today action and the remembered building (see the module's docstring).

    Args:
        window: the main window.
    """

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.today_action = QAction(self.tr("&Today"), window)
        self.today_action.setObjectName("frontDeskTodayAction")
        self.today_action.setCheckable(True)
        self.today_action.setToolTip(
            self.tr("Today's visitors in this building: expected, on site, then left"))
        self.today_action.toggled.connect(self._on_today_action_toggled)
        self.summary = QLabel(window)
        self.summary.setObjectName("frontDeskSummary")
        self.summary.setAccessibleName(self.tr("Today at the front desk"))
        self.summary.hide()
        self.summary_action: QAction | None = None
        """The summary's place in a toolbar (a toolbar shows a widget through its action)."""
        self._restoring = False
        # The summary is counted once the model has applied a change whole (its signals
        # come step by step) and once for a burst of them (a refresh of the list).
        self._summary_timer = QTimer(self)
        self._summary_timer.setSingleShot(True)
        self._summary_timer.setInterval(0)
        self._summary_timer.timeout.connect(self.update_summary)
        visitors = window.tabs.get("visitors")
        if visitors is not None:
            for signal in (visitors.model.sig_counts_changed, visitors.model.dataChanged,
                           visitors.model.modelReset):
                # Not start itself: it would take the signal's row count as its interval.
                signal.connect(self._on_visitors_changed)
        window.building_filter.currentIndexChanged.connect(self._on_building_changed)
        window.workspace.lookups.sig_changed.connect(self._on_lookups_changed)
        window.workspace.sig_connection_changed.connect(self._on_lookups_changed)
        if str(window.settings.value(TODAY_KEY, "false")).lower() == "true":
            self.today_action.setChecked(True)

    def _connection_id(self) -> str | None:
        info = self.window.workspace.info
        if info is None:
            return None
        # The demo's sandbox gets a new port each start: it is known by its name.
        if getattr(info, "demo", False):
            return str(info.name)
        return str(getattr(info, "profile_id", None) or info.base_url)

    @Slot(int)
    def _on_building_changed(self, index: int) -> None:
        conn = self._connection_id()
        if conn is None or self._restoring:
            return
        key = self.window.building_filter.itemData(index)
        self.window.settings.setValue(building_key(conn), key or "")

    def _on_lookups_changed(self, *_args: object) -> None:
        # After the window has refilled the building box from the same signal.
        QTimer.singleShot(0, self.restore_building)

    def restore_building(self) -> None:
        """Choose the building remembered for this connection, once it is in the box."""
        if not shiboken6.isValid(self.window):
            return
        conn = self._connection_id()
        box = self.window.building_filter
        if conn is None or box.currentData():
            return
        wanted = str(self.window.settings.value(building_key(conn), "") or "")
        index = box.findData(wanted) if wanted else -1
        if index > 0:
            self._restoring = True
            try:
                box.setCurrentIndex(index)
            finally:
                self._restoring = False

    @Slot(bool)
    def _on_today_action_toggled(self, on: bool) -> None:
        self.window.settings.setValue(TODAY_KEY, "true" if on else "false")
        tab = self.window.tabs.get("visitors")
        if tab is None:
            return
        state = dict(tab.filter_state())
        if on:
            state[filters.DATE] = filters.TODAY
        elif state.get(filters.DATE) == filters.TODAY:
            state.pop(filters.DATE)
        tab.apply_filter_state(state)
        if on:
            column = next((i for i, c in enumerate(tab.model.columns) if c.id == "expected"), -1)
            if column >= 0:
                tab.table.sortByColumn(column, Qt.SortOrder.AscendingOrder)
        self.update_summary()

    @staticmethod
    def today_test(model: ResourceTableModel) -> Callable[[Mapping[str, Any]], bool]:
        """Whether a visit is expected today (local time), as the Today filter says."""
        test = filters.row_filter(model.view, {filters.DATE: filters.TODAY}, model.lookups)
        return test if test is not None else (lambda _row: True)

    def _on_visitors_changed(self, *_args: object) -> None:
        self._summary_timer.start()

    @Slot()
    def update_summary(self) -> None:
        """Today on: "Today: 12 expected · 5 on site · 8 left" beside the action: the day
        of the building chosen in the toolbar, whatever the search or the other filters
        show."""
        self._summary_timer.stop()
        tab = self.window.tabs.get("visitors")
        if tab is None or not shiboken6.isValid(self.summary):
            return
        if not self.today_action.isChecked():
            self._show_summary(False)
            return
        today = self.today_test(tab.model)
        counts = {"expected": 0, "checked_in": 0, "checked_out": 0}
        for row in tab.model.row_index.building_rows():
            status = row.get(res.F_STATUS)
            if status in counts and today(row):
                counts[str(status)] += 1
        self.summary.setText(day_summary(counts["expected"], counts["checked_in"],
                                         counts["checked_out"]))
        self._show_summary(True)

    def _show_summary(self, shown: bool) -> None:
        if self.summary_action is not None:
            self.summary_action.setVisible(shown)
        else:
            self.summary.setVisible(shown)


def day_summary(expected: int, on_site: int, left: int) -> str:
    """The front desk's day in one line."""
    return f"Today: {expected:,} expected · {on_site:,} on site · {left:,} left"
