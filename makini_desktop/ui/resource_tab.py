"""One tab of the window: search box, row count, load status with Cancel, and the table."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Mapping

import shiboken6
from PySide6.QtCore import Qt, QTimer, Signal, Slot
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QStackedWidget,
    QStyle,
    QVBoxLayout,
    QWidget,
)

from makini_desktop.sync.tasks import TaskSlots
from makini_desktop.table import filters
from makini_desktop.table.cells import Row
from makini_desktop.ui.banner import Banner
from makini_desktop.ui.controllers import Phase, TabController
from makini_desktop.ui.filter_bar import FilterBar, SearchBox
from makini_desktop.ui.table_model import count_label
from makini_desktop.ui.table_view import ResourceTableView

__all__ = ["HELD_COUNT_MS", "SEARCH_DEBOUNCE_MS", "STATUS_THROTTLE_MS", "ResourceTab"]

SEARCH_DEBOUNCE_MS = 150
"""Typing pauses this long before the table filters: a fast typist filters once."""
STATUS_THROTTLE_MS = 100
"""The status strip repaints at most this often while pages arrive."""
HELD_COUNT_MS = 250
"""While only the rows held grow (a start from the cache holds a list's rows unshown until
they are sorted), the count beside the search box changes at most this often. Each new text
lays the row above the table out again and repaints it: 50 times over a 100k-row start,
about a tenth of its CPU."""


class ResourceTab(QWidget):
    """One tab: search box, count, load status with Cancel, and the table.

    Args:
        controller: the tab's controller (its model is shown).
        parent: the Qt parent.

    Signals:
        sig_search_entered: Enter was pressed in the search box (the search is applied).
        filters_changed(dict): the filters beside the search box changed; the new
            :meth:`filter_state`.
    """

    sig_search_entered = Signal()
    filters_changed = Signal(dict)

    def __init__(self, controller: TabController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.controller = controller
        self.view = controller.view
        self.model = controller.model
        self.setObjectName(f"{self.view.name}Tab")
        self.setAccessibleName(self.view.title)
        self._setup_ui()
        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(SEARCH_DEBOUNCE_MS)
        self._debounce.timeout.connect(self._on_debounce_timeout)
        self._tasks = TaskSlots()  # the search being applied, a newer one preempting it
        # Progress arrives with every page (dozens a second); the strip repaints at most
        # this often, since QProgressBar.setValue repaints synchronously.
        self._status_throttle = QTimer(self)
        self._status_throttle.setSingleShot(True)
        self._status_throttle.setInterval(STATUS_THROTTLE_MS)
        self._status_throttle.timeout.connect(self._show_status)
        self._shown_phase: Phase | None = None
        self._counts = self._counts_shown = (-1, -1)  # (rows shown, rows held)
        self._count_throttle = QTimer(self)
        self._count_throttle.setSingleShot(True)
        self._count_throttle.setInterval(HELD_COUNT_MS)
        self._count_throttle.timeout.connect(self._show_count)
        self.model.sig_counts_changed.connect(self._on_model_sig_counts_changed)
        controller.sig_status_changed.connect(self._on_controller_sig_status_changed)
        self._on_model_sig_counts_changed(self.model.rowCount(), self.model.total)
        self._on_controller_sig_status_changed()

    def _setup_ui(self) -> None:
        name = self.view.name
        self.search = SearchBox(parent=self)
        self.search.setObjectName(f"{name}Search")
        self.search.setAccessibleName(f"Search {self.view.title.lower()}")
        self.search.setPlaceholderText(f"Search {self.view.title.lower()}…")
        self.search.setClearButtonEnabled(True)
        self.search.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        self.search.textChanged.connect(self._on_search_text_changed)
        self.search.returnPressed.connect(self._on_search_return_pressed)

        self.count = QLabel(self)
        self.count.setObjectName(f"{name}Count")
        self.count.setAccessibleName(f"{self.view.title} shown")

        self.status = QLabel(self)
        self.status.setObjectName(f"{name}LoadStatus")
        self.status.setAccessibleName(f"{self.view.title} load status")
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        # The status takes the row's spare room and gives it up first: a long "Syncing —
        # page 24 of 31" never makes the window wider than a laptop screen (its tooltip has
        # the whole text).
        self.status.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.status.setMinimumWidth(self.fontMetrics().averageCharWidth() * 12)
        self.status.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)

        self.progress = QProgressBar(self)
        self.progress.setObjectName(f"{name}Progress")
        self.progress.setAccessibleName(f"{self.view.title} loading progress")
        self.progress.setMaximumWidth(self.fontMetrics().averageCharWidth() * 18)
        self.progress.setTextVisible(False)
        self.progress.hide()

        self.cancel = QPushButton("Cancel", self)
        self.cancel.setObjectName(f"{name}CancelButton")
        self.cancel.setAccessibleName(f"Cancel loading {self.view.title.lower()}")
        self.cancel.setToolTip("Stop loading; the data shown so far stays")
        self.cancel.clicked.connect(self._on_cancel_clicked)
        self.cancel.hide()

        self.filter_bar = FilterBar(self.model, self)
        self.filter_bar.setVisible(bool(self.filter_bar.combos))
        self.filter_bar.filters_changed.connect(self._on_filter_bar_filters_changed)

        top = QHBoxLayout()
        top.addWidget(self.search)
        top.addWidget(self.filter_bar)
        top.addSpacing(self.fontMetrics().averageCharWidth() * 2)
        top.addWidget(self.count)
        top.addWidget(self.status, 1)
        top.addWidget(self.progress)
        top.addWidget(self.cancel)
        self.top_row = top
        """The row above the table (saved views add their selector to it)."""

        self.table = ResourceTableView(self.model, self)

        # A line for what an action on this tab's rows met (a 409: "already checked out").
        self.notice = Banner(f"{name}Notice", f"{self.view.title} notice", "warning", self)
        dismiss = self.notice.add_button("Dismiss", f"{name}NoticeDismiss", "Dismiss notice")
        dismiss.clicked.connect(self.notice.hide)
        self.notice.hide()

        self.unavailable = QLabel(self)
        self.unavailable.setObjectName(f"{name}Unavailable")
        self.unavailable.setAccessibleName(f"{self.view.title} not available")
        self.unavailable.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.unavailable.setWordWrap(True)
        self.unavailable.setEnabled(False)  # the platform's dimmed text colour

        self.stack = QStackedWidget(self)
        self.stack.setObjectName(f"{name}Stack")
        self.stack.setAccessibleName(self.view.title)
        self.stack.addWidget(self.table)
        self.stack.addWidget(self.unavailable)

        layout = QVBoxLayout(self)
        margin = self.style().pixelMetric(QStyle.PixelMetric.PM_LayoutTopMargin) // 2
        layout.setContentsMargins(margin, margin, margin, margin)
        layout.addLayout(top)
        layout.addWidget(self.notice)
        layout.addWidget(self.stack, 1)
        self._layout = layout

    def refresh_status_text(self) -> None:
        """Recompute "last synced 5 min ago" (called periodically)."""
        status = self.controller.status
        self.status.setText(status.text())
        self.status.setToolTip(status.tooltip())

    def add_toolbar(self, bar: QWidget) -> None:
        """Put a row of actions (the front desk's) between the search row and the table."""
        self._layout.insertWidget(1, bar)

    def show_notice(self, text: str) -> None:
        """Say something about this tab's rows in a line above the table (until dismissed)."""
        self.notice.show_message(text)

    def apply_search_now(self) -> None:
        """Filter with the search box's text without waiting for the debounce."""
        self._debounce.stop()
        self._start_search()

    async def apply_search(self) -> None:
        """Filter the table by the search box, a slice of rows per turn of the event loop.

        On 100k rows the whole filter takes longer than a frame; sliced, no turn of the loop
        blocks for more than a few milliseconds, and typing on cancels the filter that is
        running (the model changes only when a filter completes).
        """
        model = self.model
        for _ in model.search_steps(self.search.text()):
            await asyncio.sleep(0)
            if not shiboken6.isValid(model):
                return

    async def wait_search(self) -> None:
        """Wait until the search being applied (if any) has filtered the table."""
        task = self._tasks.get("search")
        if task is not None and not task.done():
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.shield(task)

    def cancel_search(self) -> None:
        """Drop a typed search that has not been applied yet (the window is closing)."""
        self._debounce.stop()
        self._tasks.cancel("search")
        self._tasks.cancel("filter")

    # -- filters (see makini_desktop.table.filters for the ids and values) -------------------

    def filter_state(self) -> dict[str, str]:
        """Filter id → chosen value id (``{"floor": <key>, "vacancy": "vacant"}``); a filter
        on "All" is absent."""
        return self.filter_bar.state()

    def apply_filter_state(self, state: Mapping[str, str]) -> None:
        """Set the filters to ``state`` (absent or empty: All; unknown ids are ignored) and
        apply them to the table; :attr:`filters_changed` is emitted when they changed."""
        self.filter_bar.set_state(state)

    @property
    def filter_pending(self) -> bool:
        """True while a filter change has not been applied to the table yet."""
        return self._tasks.running("filter")

    async def apply_filters(self, row_filter: Callable[[Row], bool] | None) -> None:
        """Filter the table, a slice of rows per turn of the event loop."""
        model = self.model
        for _ in model.row_filter_steps(row_filter):
            await asyncio.sleep(0)
            if not shiboken6.isValid(model):
                return

    def _start_filter(self, state: Mapping[str, str]) -> None:
        row_filter = filters.row_filter(self.view, state, self.model.lookups)
        try:
            asyncio.get_running_loop()
        except RuntimeError:  # no event loop (a widget used on its own): filter at once
            self._tasks.cancel("filter")
            self.model.set_row_filter(row_filter)
            return
        self._tasks.start("filter", self.apply_filters(row_filter))

    @property
    def search_pending(self) -> bool:
        """True while a typed search has not been applied to the table yet."""
        return self._debounce.isActive() or self._tasks.running("search")

    def _start_search(self) -> None:
        try:
            asyncio.get_running_loop()
        except RuntimeError:  # no event loop (a widget used on its own): filter at once
            self._tasks.cancel("search")
            self.model.set_search(self.search.text())
            return
        self._tasks.start("search", self.apply_search())

    # -- slots ------------------------------------------------------------------------------

    @Slot(dict)
    def _on_filter_bar_filters_changed(self, state: dict[str, str]) -> None:
        self._start_filter(state)
        self.filters_changed.emit(dict(state))

    @Slot(str)
    def _on_search_text_changed(self, _text: str) -> None:
        self._debounce.start()

    @Slot()
    def _on_search_return_pressed(self) -> None:
        self.apply_search_now()
        self.sig_search_entered.emit()

    @Slot()
    def _on_debounce_timeout(self) -> None:
        self._start_search()

    @Slot(int, int)
    def _on_model_sig_counts_changed(self, shown: int, total: int) -> None:
        self._counts = (shown, total)
        if shown == self._counts_shown[0] and self._count_throttle.isActive():
            return  # only the rows held changed, a moment ago: shown when the timer ends
        self._show_count()

    @Slot()
    def _show_count(self) -> None:
        if self._counts != self._counts_shown:
            self._counts_shown = self._counts
            self.count.setText(count_label(self.view, *self._counts))
            self._count_throttle.start()

    @Slot()
    def _on_cancel_clicked(self) -> None:
        self.controller.cancel()

    @Slot()
    def _on_controller_sig_status_changed(self) -> None:
        if self.controller.status.phase is self._shown_phase and self._shown_phase is Phase.SYNCING:
            if not self._status_throttle.isActive():
                self._status_throttle.start()
            return
        self._show_status()

    @Slot()
    def _show_status(self) -> None:
        self._status_throttle.stop()
        status = self.controller.status
        self._shown_phase = status.phase
        self.refresh_status_text()
        busy = status.busy
        self.cancel.setVisible(busy)
        self.progress.setVisible(busy)
        if busy:
            progress = status.progress
            if progress is not None and progress.last_page:
                self.progress.setRange(0, progress.last_page)
                self.progress.setValue(progress.page)
            else:
                self.progress.setRange(0, 0)  # busy indicator until the page count is known
        if status.phase is Phase.UNAVAILABLE:
            self.unavailable.setText(status.message)
            self.stack.setCurrentWidget(self.unavailable)
            self.search.setEnabled(False)
            self.filter_bar.setEnabled(False)
        else:
            self.stack.setCurrentWidget(self.table)
            self.search.setEnabled(True)
            self.filter_bar.setEnabled(True)

