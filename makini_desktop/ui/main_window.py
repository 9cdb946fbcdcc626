"""The main window: one tab per resource view, a connection switcher and a status bar.

Widgets only: loading is done by :class:`~makini_desktop.ui.controllers.Workspace` and its
tab controllers, which tests drive directly. The window wires them to widgets, shows their
state, and keeps the user's layout (geometry, active tab, column order and widths) in
QSettings.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

import shiboken6
from PySide6.QtCore import QByteArray, QEvent, QPoint, QSettings, QSize, Qt, QTimer, Signal, Slot
from PySide6.QtGui import (
    QAction,
    QCloseEvent,
    QColor,
    QGuiApplication,
    QIcon,
    QKeyEvent,
    QKeySequence,
    QPalette,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QComboBox,
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMainWindow,
    QMenu,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QStackedWidget,
    QStyle,
    QTableView,
    QTabWidget,
    QToolBar,
    QVBoxLayout,
    QWidget,
)
from qasync import asyncSlot

from makini_desktop import __version__
from makini_desktop.api import resources as res
from makini_desktop.api.errors import MakiniError
from makini_desktop.export import FORMATS, format_for_path, write_export
from makini_desktop.store.paths import settings_path
from makini_desktop.store.profiles import ProfileError, ProfileStore
from makini_desktop.store.secrets import TokenStore
from makini_desktop.sync.connectivity import Reach
from makini_desktop.sync.session import ConnectionInfo, Session
from makini_desktop.ui.controllers import (
    Phase,
    TabController,
    Workspace,
    at_time,
    held_text,
    offline_text,
    settle_garbage,
)
from makini_desktop.ui.error_dialog import ErrorReporter
from makini_desktop.ui.table_model import ResourceTableModel, count_label

log = logging.getLogger(__name__)

APP_TITLE = "makini-desktop"
DEMO_BADGE_TEXT = "Demo data"
SEARCH_DEBOUNCE_MS = 150
"""Typing pauses this long before the table filters: a fast typist filters once."""
WIDTH_SAMPLE_ROWS = 200
"""Rows measured to choose a column's initial width."""
MAX_COLUMN_CHARS = 36
"""No column starts wider than about this many characters (long text gets a tooltip)."""
RELATIVE_TIME_REFRESH_MS = 30_000
STATUS_THROTTLE_MS = 100

# QSettings keys.
_K_GEOMETRY = "window/geometry"
_K_STATE = "window/state"
_K_TAB = "window/activeTab"
_K_WORK_OFFLINE = "network/workOffline"


def open_settings() -> QSettings:
    """The app's settings, in an ini file that follows ``MAKINI_DESKTOP_HOME``."""
    return QSettings(str(settings_path()), QSettings.Format.IniFormat)


def _column_signature(view: res.View) -> str:
    return ",".join(c.id for c in view.columns)


class ResourceTableView(QTableView):
    """A read-only table of one view: fixed row heights, copy as TSV, column chooser.

    Args:
        model: the tab's model.
        parent: the Qt parent.
    """

    def __init__(self, model: ResourceTableModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.resource_model = model
        self.widths_chosen = False
        self.setModel(model)
        self.setObjectName(f"{model.view.name}Table")
        self.setAccessibleName(f"{model.view.title} table")
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setAlternatingRowColors(True)
        self.setWordWrap(False)
        self.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.setShowGrid(False)
        self.setCornerButtonEnabled(False)
        self.setHorizontalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerItem)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.customContextMenuRequested.connect(self._on_self_context_menu_requested)

        vertical = self.verticalHeader()
        vertical.hide()
        # Uniform fixed heights: the view never measures 100k rows.
        vertical.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        vertical.setDefaultSectionSize(self.fontMetrics().height() + 10)
        vertical.setMinimumSectionSize(self.fontMetrics().height() + 4)

        header = self.horizontalHeader()
        header.setSectionsMovable(True)
        header.setHighlightSections(False)
        # No stretching: a stretched last column pushes a number (Items) to the far right.
        header.setStretchLastSection(False)
        # Sorting is ours, not QTableView's: the first sort by a column builds 100k keys,
        # which runs in slices on the event loop (see ResourceTableModel.sort_steps).
        header.setSortIndicatorShown(True)
        header.setSectionsClickable(True)
        header.sortIndicatorChanged.connect(self._on_header_sort_indicator_changed)
        self._sort_task: asyncio.Task[None] | None = None
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        header.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        header.customContextMenuRequested.connect(self._on_header_context_menu_requested)
        header.sectionResized.connect(self._on_header_section_resized)
        header.setAccessibleName(f"{model.view.title} columns")
        for i, col in enumerate(model.columns):
            self.setColumnHidden(i, col.hidden)
        self._apply_default_widths()
        model.rowsInserted.connect(self._on_model_rows_appeared)
        model.modelReset.connect(self._on_model_rows_appeared)

    # -- layout -----------------------------------------------------------------------------

    def restore_header(self, state: Any) -> bool:
        """Restore a saved column order, widths, hidden columns and sort; False if unusable."""
        if not isinstance(state, QByteArray) or state.isEmpty():
            return False
        if not self.horizontalHeader().restoreState(state):
            return False
        self.widths_chosen = True
        self.resource_model.set_searchable_columns(self.visible_columns())
        header = self.horizontalHeader()
        self.resource_model.sort(header.sortIndicatorSection(), header.sortIndicatorOrder())
        return True

    def visible_columns(self) -> list[int]:
        """Logical indexes of the shown columns, in the order they appear."""
        header = self.horizontalHeader()
        logical = [header.logicalIndex(v) for v in range(header.count())]
        return [i for i in logical if not header.isSectionHidden(i)]

    def _apply_default_widths(self) -> None:
        """Widths from the headers alone, until rows arrive to measure."""
        fm = self.fontMetrics()
        for i in range(len(self.resource_model.columns)):
            self.setColumnWidth(i, self._header_width(i) + fm.averageCharWidth() * 6)

    def _header_width(self, column: int) -> int:
        text = str(self.resource_model.headerData(column, Qt.Orientation.Horizontal))
        margin = self.style().pixelMetric(QStyle.PixelMetric.PM_HeaderMargin, None, self)
        # Room for the sort arrow, so sorting never truncates a header.
        arrow = self.style().pixelMetric(QStyle.PixelMetric.PM_HeaderMarkSize, None, self)
        return self.fontMetrics().horizontalAdvance(text) + 4 * margin + arrow + 8

    def choose_widths(self) -> None:
        """Size every column to its header and the typical width of its first rows."""
        model = self.resource_model
        rows = min(model.rowCount(), WIDTH_SAMPLE_ROWS)
        if rows == 0:
            return
        fm = self.fontMetrics()
        padding = fm.averageCharWidth() * 3
        cap = fm.averageCharWidth() * MAX_COLUMN_CHARS
        wants: list[int] = []
        widths: list[int] = []
        for i in range(model.columnCount()):
            widest = max(fm.horizontalAdvance(model.display_text(r, i)) for r in range(rows))
            want = max(self._header_width(i), widest + padding)
            wants.append(want)
            # Wide enough for the sampled values, but one very long value (a description)
            # does not take the screen: past the cap, the cell elides and has a tooltip.
            widths.append(max(self._header_width(i), min(want, cap)))
        # Room left in the window goes to the columns the cap cut short (a move's title).
        # A tab never shown yet has no real size: the window's width is the best guess.
        room = self.viewport().width() if self.isVisible() else self.window().width() - 40
        spare = room - sum(
            w for i, w in enumerate(widths) if not self.isColumnHidden(i))
        short = [i for i in range(len(widths))
                 if wants[i] > widths[i] and not self.isColumnHidden(i)]
        while spare > 0 and short:
            share = max(1, spare // len(short))
            for i in list(short):
                extra = min(share, wants[i] - widths[i], spare)
                widths[i] += extra
                spare -= extra
                if widths[i] >= wants[i]:
                    short.remove(i)
        for i, width in enumerate(widths):
            self.setColumnWidth(i, width)
        self.widths_chosen = True

    # -- copying ----------------------------------------------------------------------------

    def selected_rows(self) -> list[int]:
        model = self.selectionModel()
        return sorted({i.row() for i in model.selectedRows()}) if model else []

    def selection_as_tsv(self, *, headers: bool = False) -> str:
        """The selected rows as tab-separated text, in the columns and order shown."""
        model = self.resource_model
        columns = self.visible_columns()
        lines = []
        if headers:
            lines.append("\t".join(model.columns[c].header for c in columns))
        for row in self.selected_rows():
            cells = (_tsv_cell(model.display_text(row, c)) for c in columns)
            lines.append("\t".join(cells))
        return "\n".join(lines)

    def copy_selection(self, *, headers: bool = False) -> None:
        """Put the selected rows on the clipboard as TSV (pastes as rows in a spreadsheet)."""
        if self.selected_rows():
            QGuiApplication.clipboard().setText(self.selection_as_tsv(headers=headers))

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.matches(QKeySequence.StandardKey.Copy):
            self.copy_selection()
            event.accept()
            return
        super().keyPressEvent(event)

    # -- slots ------------------------------------------------------------------------------

    @Slot(QPoint)
    def _on_self_context_menu_requested(self, pos: QPoint) -> None:
        menu = QMenu(self)
        menu.setAccessibleName("Table actions")
        copy = menu.addAction("Copy")
        copy.setShortcut(QKeySequence(QKeySequence.StandardKey.Copy))
        copy.triggered.connect(lambda: self.copy_selection())
        copy_headers = menu.addAction("Copy with headers")
        copy_headers.triggered.connect(lambda: self.copy_selection(headers=True))
        has_selection = bool(self.selected_rows())
        copy.setEnabled(has_selection)
        copy_headers.setEnabled(has_selection)
        menu.popup(self.viewport().mapToGlobal(pos))

    @Slot(QPoint)
    def _on_header_context_menu_requested(self, pos: QPoint) -> None:
        menu = QMenu(self)
        menu.setAccessibleName("Columns")
        header = self.horizontalHeader()
        shown = self.visible_columns()
        for i, col in enumerate(self.resource_model.columns):
            action = menu.addAction(col.header)
            action.setCheckable(True)
            action.setChecked(not header.isSectionHidden(i))
            # The last visible column cannot be hidden: the table would be blank.
            action.setEnabled(not (len(shown) == 1 and i in shown))
            action.toggled.connect(lambda on, column=i: self._set_column_shown(column, on))
        menu.popup(header.mapToGlobal(pos))

    def _set_column_shown(self, column: int, shown: bool) -> None:
        self.setColumnHidden(column, not shown)
        if shown and self.columnWidth(column) < self._header_width(column):
            self.setColumnWidth(column, self._header_width(column) + 40)
        # Search looks at what is shown, nothing else.
        self.resource_model.set_searchable_columns(self.visible_columns())

    @Slot(int, Qt.SortOrder)
    def _on_header_sort_indicator_changed(self, column: int, order: Qt.SortOrder) -> None:
        if self._sort_task is not None and not self._sort_task.done():
            self._sort_task.cancel()
        try:
            asyncio.get_running_loop()
        except RuntimeError:  # no event loop (a table used on its own): sort at once
            self.resource_model.sort(column, order)
            return
        self._sort_task = asyncio.ensure_future(self.sort_by(column, order))

    async def sort_by(self, column: int, order: Qt.SortOrder) -> None:
        """Sort the table, building a new column's keys a slice per turn of the loop."""
        model = self.resource_model
        for _ in model.sort_steps(column, order):
            # Each slice's new keys are frozen at once: left to pile up, 100k key tuples
            # set off a full collection that blocked the first sort by name for ~150 ms.
            settle_garbage()
            await asyncio.sleep(0)
            if not shiboken6.isValid(model):
                return
        settle_garbage()  # the rest of a new column's keys, never walked by a full gc

    @property
    def sort_pending(self) -> bool:
        """True while a requested sort has not been applied yet."""
        return self._sort_task is not None and not self._sort_task.done()

    def cancel_sort(self) -> None:
        if self._sort_task is not None and not self._sort_task.done():
            self._sort_task.cancel()

    @Slot()
    def _on_model_rows_appeared(self, *_args: Any) -> None:
        if not self.widths_chosen and self.resource_model.rowCount() > 0:
            self.choose_widths()

    @Slot(int, int, int)
    def _on_header_section_resized(self, _index: int, _old: int, _new: int) -> None:
        # A width the user chose (or restored) is never overridden by measuring rows.
        if self.isVisible() and self.resource_model.rowCount():
            self.widths_chosen = True


def _tsv_cell(text: str) -> str:
    return text.replace("\t", " ").replace("\r", " ").replace("\n", " ")


class ResourceTab(QWidget):
    """One tab: search box, count, load status with Cancel, and the table.

    Args:
        controller: the tab's controller (its model is shown).
        parent: the Qt parent.
    """

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
        self._search_task: asyncio.Task[None] | None = None
        # Progress arrives with every page (dozens a second); the strip repaints at most
        # this often, since QProgressBar.setValue repaints synchronously.
        self._status_throttle = QTimer(self)
        self._status_throttle.setSingleShot(True)
        self._status_throttle.setInterval(STATUS_THROTTLE_MS)
        self._status_throttle.timeout.connect(self._show_status)
        self._shown_phase: Phase | None = None
        self.model.sig_counts_changed.connect(self._on_model_sig_counts_changed)
        controller.sig_status_changed.connect(self._on_controller_sig_status_changed)
        self._on_model_sig_counts_changed(self.model.rowCount(), self.model.total)
        self._on_controller_sig_status_changed()

    def _setup_ui(self) -> None:
        name = self.view.name
        self.search = QLineEdit(self)
        self.search.setObjectName(f"{name}Search")
        self.search.setAccessibleName(f"Search {self.view.title.lower()}")
        self.search.setPlaceholderText(f"Search {self.view.title.lower()}…")
        self.search.setClearButtonEnabled(True)
        self.search.setMinimumWidth(self.fontMetrics().averageCharWidth() * 32)
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

        top = QHBoxLayout()
        top.addWidget(self.search)
        top.addSpacing(self.fontMetrics().averageCharWidth() * 2)
        top.addWidget(self.count)
        top.addStretch(1)
        top.addWidget(self.status)
        top.addWidget(self.progress)
        top.addWidget(self.cancel)

        self.table = ResourceTableView(self.model, self)

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
        layout.addWidget(self.stack, 1)

    def refresh_status_text(self) -> None:
        """Recompute "last synced 5 min ago" (called periodically)."""
        status = self.controller.status
        self.status.setText(status.text())
        self.status.setToolTip(status.tooltip())

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

    def cancel_search(self) -> None:
        """Drop a typed search that has not been applied yet (the window is closing)."""
        self._debounce.stop()
        if self._search_task is not None and not self._search_task.done():
            self._search_task.cancel()

    @property
    def search_pending(self) -> bool:
        """True while a typed search has not been applied to the table yet."""
        task = self._search_task
        return self._debounce.isActive() or (task is not None and not task.done())

    def _start_search(self) -> None:
        if self._search_task is not None and not self._search_task.done():
            self._search_task.cancel()
        try:
            asyncio.get_running_loop()
        except RuntimeError:  # no event loop (a widget used on its own): filter at once
            self.model.set_search(self.search.text())
            return
        self._search_task = asyncio.ensure_future(self.apply_search())

    # -- slots ------------------------------------------------------------------------------

    @Slot(str)
    def _on_search_text_changed(self, _text: str) -> None:
        self._debounce.start()

    @Slot()
    def _on_search_return_pressed(self) -> None:
        self.apply_search_now()

    @Slot()
    def _on_debounce_timeout(self) -> None:
        self._start_search()

    @Slot(int, int)
    def _on_model_sig_counts_changed(self, shown: int, total: int) -> None:
        self.count.setText(count_label(self.view, shown, total))

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
        else:
            self.stack.setCurrentWidget(self.table)
            self.search.setEnabled(True)


class Banner(QFrame):
    """A message strip across the top of the window, in the manner of KMessageWidget.

    Its colours are mixed from the palette (window colour, text colour, and a tint per
    kind), so it reads well in light and dark mode and follows a theme change live.

    Args:
        name: the object name.
        accessible: the accessible name.
        kind: ``warning`` or ``information``.
        parent: the Qt parent.
    """

    TINTS = {"warning": QColor(0xF6, 0x74, 0x00), "information": QColor(0x3D, 0xAE, 0xE9)}

    def __init__(self, name: str, accessible: str, kind: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName(name)
        self.setAccessibleName(accessible)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self._kind = kind
        self.icon = QLabel(self)
        self.icon.setObjectName(f"{name}Icon")
        self.icon.setAccessibleName(f"{accessible} icon")
        self.label = QLabel(self)
        self.label.setObjectName(f"{name}Text")
        self.label.setAccessibleName(f"{accessible} text")
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.label.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self._layout = QHBoxLayout(self)
        fm = self.fontMetrics()
        self._layout.setContentsMargins(fm.averageCharWidth() * 2, fm.height() // 3,
                                        fm.averageCharWidth(), fm.height() // 3)
        self._layout.setSpacing(fm.averageCharWidth() * 2)
        self._layout.addWidget(self.icon)
        self._layout.addWidget(self.label, 1)
        self.hide()
        self._restyle()

    def add_button(self, text: str, name: str, accessible: str) -> QPushButton:
        """A button at the banner's right end."""
        button = QPushButton(text, self)
        button.setObjectName(name)
        button.setAccessibleName(accessible)
        self._layout.addWidget(button)
        return button

    def set_kind(self, kind: str) -> None:
        if kind != self._kind:
            self._kind = kind
            self._restyle()

    @property
    def kind(self) -> str:
        return self._kind

    def show_message(self, text: str, tooltip: str = "") -> None:
        self.label.setText(text)
        self.setToolTip(tooltip)
        self.setAccessibleDescription(text)
        self.show()

    def style_sheet(self) -> str:
        """The banner's colours, mixed from the application's current palette."""
        # The application palette, not the banner's own: a style sheet changes the latter.
        palette = QApplication.palette()
        window = palette.color(QPalette.ColorRole.Window)
        tint = self.TINTS.get(self._kind, self.TINTS["information"])
        background = _mix(window, tint, 0.2)
        text = palette.color(QPalette.ColorRole.WindowText)
        return (
            f"QFrame#{self.objectName()} {{ background-color: {background.name()};"
            f" border: 1px solid {tint.name()}; border-radius: 4px; }}"
            f" QLabel#{self.label.objectName()} {{ color: {text.name()}; }}"
        )

    def _restyle(self) -> None:
        sheet = self.style_sheet()
        if sheet != self.styleSheet():  # setting it again would re-polish for nothing
            self.setStyleSheet(sheet)
        pixmap = (QStyle.StandardPixmap.SP_MessageBoxWarning if self._kind == "warning"
                  else QStyle.StandardPixmap.SP_MessageBoxInformation)
        side = self.style().pixelMetric(QStyle.PixelMetric.PM_SmallIconSize, None, self)
        self.icon.setPixmap(self.style().standardIcon(pixmap, None, self).pixmap(
            QSize(side, side), self.devicePixelRatioF()))

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() in (QEvent.Type.PaletteChange, QEvent.Type.ApplicationPaletteChange):
            self._restyle()  # light and dark mode switched while the app runs


def _mix(base: QColor, tint: QColor, share: float) -> QColor:
    """``base`` with ``share`` of ``tint`` blended in (an opaque colour)."""
    return QColor(
        round(base.red() + (tint.red() - base.red()) * share),
        round(base.green() + (tint.green() - base.green()) * share),
        round(base.blue() + (tint.blue() - base.blue()) * share),
    )


class MainWindow(QMainWindow):
    """The main window.

    Args:
        profiles: the saved connections.
        tokens: where their tokens are.
        settings: where the layout is kept (default: :func:`open_settings`).
        session_factory: builds sessions (tests may substitute one).
        show_error_dialogs: False to only record errors (headless runs).
        parent: the Qt parent.

    Signals:
        sig_closed: the window was closed (the app shuts down).
    """

    sig_closed = Signal()

    def __init__(
        self,
        profiles: ProfileStore,
        tokens: TokenStore,
        *,
        settings: QSettings | None = None,
        session_factory: Callable[..., Session] = Session,
        show_error_dialogs: bool = True,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.profiles = profiles
        self.tokens = tokens
        self.settings = settings if settings is not None else open_settings()
        self.views = [res.VIEWS[name] for name in res.TAB_VIEWS]
        self.workspace = Workspace(self.views, session_factory=session_factory, parent=self)
        self.reporter = ErrorReporter(self, show_dialogs=show_error_dialogs)
        self.connection_dialog: Any = None
        self.tabs: dict[str, ResourceTab] = {}
        self._export_view = self.views[0].name
        self._exporting: asyncio.Task[Any] | None = None
        self._quit_confirmed = False  # the manager's unsaved connection was dealt with
        self._export_dialog: QFileDialog | None = None
        self.setObjectName("mainWindow")
        self.setAccessibleName("makini-desktop")
        self._setup_ui()
        self._setup_actions()
        self._restore_settings()
        self.workspace.focus = self.current_tab().view.name
        self.resource_tabs.currentChanged.connect(self._on_resource_tabs_current_changed)
        self.workspace.sig_state_changed.connect(self._on_workspace_sig_state_changed)
        self.workspace.sig_error.connect(self._on_workspace_sig_error)
        self.workspace.sig_connection_changed.connect(self._on_workspace_sig_connection_changed)
        self.workspace.sig_reach_changed.connect(self._on_workspace_sig_reach_changed)
        for controller in self.workspace.tabs.values():
            # The banner names when the data shown was cached: it follows the tabs.
            controller.sig_status_changed.connect(self._on_controller_sig_status_changed)
        self.workspace.sig_notice.connect(self._on_workspace_sig_notice)
        self.workspace.lookups.sig_changed.connect(self._on_lookups_sig_changed)
        self.reporter.sig_reconnect.connect(self._on_reporter_sig_reconnect)
        self._clock = QTimer(self)
        self._clock.setInterval(RELATIVE_TIME_REFRESH_MS)
        self._clock.timeout.connect(self._on_clock_timeout)
        self._clock.start()
        self._update_connection_ui()
        self._on_workspace_sig_state_changed()
        self._on_workspace_sig_reach_changed()

    # -- construction -----------------------------------------------------------------------

    def _setup_ui(self) -> None:
        self.setWindowTitle(APP_TITLE)
        self.resource_tabs = QTabWidget(self)
        self.resource_tabs.setObjectName("resourceTabs")
        self.resource_tabs.setAccessibleName("Resources")
        self.resource_tabs.setDocumentMode(True)
        for view in self.views:
            tab = ResourceTab(self.workspace.tabs[view.name], self.resource_tabs)
            self.tabs[view.name] = tab
            self.resource_tabs.addTab(tab, view.title)

        # Offline is said here, once for the whole window; never a dialog per tab.
        self.offline_banner = Banner("offlineBanner", "Offline", "warning", self)
        self.try_now_button = self.offline_banner.add_button(
            "Try now", "tryNowButton", "Try to reach the server now")
        self.try_now_button.setToolTip("Check the connection now instead of waiting")
        self.try_now_button.clicked.connect(self._on_try_now_button_clicked)
        self.reconnect_button = self.offline_banner.add_button(
            "Reconnect…", "reconnectButton", "Enter a token for this connection")
        self.reconnect_button.setToolTip("Enter a new token for this connection")
        self.reconnect_button.clicked.connect(self._on_reconnect_button_clicked)
        self.reconnect_button.hide()
        self.cache_notice = Banner("cacheNotice", "Offline copy notice", "information", self)
        dismiss = self.cache_notice.add_button("Dismiss", "cacheNoticeDismiss", "Dismiss notice")
        dismiss.clicked.connect(self.cache_notice.hide)
        dismiss.clicked.connect(self._update_banner_area)

        self.banner_area = QWidget(self)
        self.banner_area.setObjectName("bannerArea")
        self.banner_area.setAccessibleName("Messages")
        banners = QVBoxLayout(self.banner_area)
        margin = self.style().pixelMetric(QStyle.PixelMetric.PM_LayoutTopMargin) // 2
        banners.setContentsMargins(margin, margin, margin, 0)
        banners.setSpacing(margin)
        banners.addWidget(self.offline_banner)
        banners.addWidget(self.cache_notice)
        self.banner_area.hide()

        central = QWidget(self)
        central.setObjectName("central")
        central.setAccessibleName("Workspace")
        column = QVBoxLayout(central)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(0)
        column.addWidget(self.banner_area)
        column.addWidget(self.resource_tabs, 1)
        self.setCentralWidget(central)

        self.connection_switcher = QComboBox(self)
        self.connection_switcher.setObjectName("connectionSwitcher")
        self.connection_switcher.setAccessibleName("Active connection")
        self.connection_switcher.setToolTip("Switch to another saved connection")
        self.connection_switcher.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToContents
        )
        self.connection_switcher.setMinimumContentsLength(16)
        self.connection_switcher.activated.connect(self._on_connection_switcher_activated)

        self.building_filter = QComboBox(self)
        self.building_filter.setObjectName("buildingFilter")
        self.building_filter.setAccessibleName("Building filter")
        self.building_filter.setToolTip("Show only the rows of one building, in every tab")
        self.building_filter.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.building_filter.setMinimumContentsLength(18)
        self.building_filter.addItem("All buildings", None)
        self.building_filter.currentIndexChanged.connect(self._on_building_filter_changed)

        status_bar = self.statusBar()
        status_bar.setObjectName("statusBar")
        status_bar.setAccessibleName("Status")
        self.sync_status = QLabel(self)
        self.sync_status.setObjectName("syncStatus")
        self.sync_status.setAccessibleName("Connection state")
        self.connection_label = QLabel(self)
        self.connection_label.setObjectName("connectionName")
        self.connection_label.setAccessibleName("Connection")
        self.demo_badge = QLabel(DEMO_BADGE_TEXT, self)
        self.demo_badge.setObjectName("demoBadge")
        self.demo_badge.setAccessibleName("Demo data: this connection shows generated data")
        self.demo_badge.setToolTip("Generated data from the built-in sandbox, not a real system")
        # Palette roles, not colours: the badge follows light and dark mode.
        self.demo_badge.setStyleSheet(
            "QLabel#demoBadge { background: palette(highlight); color: palette(highlighted-text);"
            " border-radius: 4px; padding: 1px 8px; font-weight: bold; }"
        )
        self.demo_badge.hide()
        status_bar.addWidget(self.sync_status)
        status_bar.addPermanentWidget(self.demo_badge)
        status_bar.addPermanentWidget(self.connection_label)

    def _setup_actions(self) -> None:
        style = self.style()
        self.refresh_action = QAction("&Refresh", self)
        self.refresh_action.setObjectName("refreshAction")
        refresh_keys = [QKeySequence(QKeySequence.StandardKey.Refresh), QKeySequence("Ctrl+R")]
        self.refresh_action.setShortcuts(_unique(refresh_keys))
        self.refresh_action.setIcon(style.standardIcon(QStyle.StandardPixmap.SP_BrowserReload))
        self.refresh_action.setToolTip("Fetch what changed in the current tab (F5)")
        self.refresh_action.triggered.connect(self._on_refresh_action_triggered)

        self.full_refresh_action = QAction("&Full refresh", self)
        self.full_refresh_action.setObjectName("fullRefreshAction")
        self.full_refresh_action.setShortcuts(
            _unique([QKeySequence("Shift+F5"), QKeySequence("Ctrl+Shift+R")])
        )
        self.full_refresh_action.setToolTip("Download the whole list of the current tab again")
        self.full_refresh_action.triggered.connect(self._on_full_refresh_action_triggered)

        self.work_offline_action = QAction("Work &offline", self)
        self.work_offline_action.setObjectName("workOfflineAction")
        self.work_offline_action.setCheckable(True)
        offline_icon = QIcon.fromTheme(QIcon.ThemeIcon.NetworkOffline)  # where the OS has one
        if not offline_icon.isNull():
            self.work_offline_action.setIcon(offline_icon)
        self.work_offline_action.setToolTip(
            "Use only the data on this computer: nothing is fetched until you turn it off")
        self.work_offline_action.setStatusTip(self.work_offline_action.toolTip())
        self.work_offline_action.toggled.connect(self._on_work_offline_action_toggled)

        self.connections_action = QAction("&Connections…", self)
        self.connections_action.setObjectName("connectionsAction")
        self.connections_action.setShortcut(QKeySequence("Ctrl+Shift+O"))
        self.connections_action.setIcon(style.standardIcon(QStyle.StandardPixmap.SP_DriveNetIcon))
        self.connections_action.setToolTip("Add, edit or switch connections (Ctrl+Shift+O)")
        self.connections_action.triggered.connect(self._on_connections_action_triggered)

        self.export_action = QAction("&Export…", self)
        self.export_action.setObjectName("exportAction")
        self.export_action.setShortcut(QKeySequence("Ctrl+E"))
        self.export_action.setIcon(style.standardIcon(QStyle.StandardPixmap.SP_DialogSaveButton))
        self.export_action.setToolTip("Save the rows shown in this tab as CSV, Excel or JSON")
        self.export_action.triggered.connect(self._on_export_action_triggered)

        self.quit_action = QAction("&Quit", self)
        self.quit_action.setObjectName("quitAction")
        self.quit_action.setShortcuts(
            _unique([QKeySequence(QKeySequence.StandardKey.Quit), QKeySequence("Ctrl+Q")])
        )
        self.quit_action.setMenuRole(QAction.MenuRole.QuitRole)
        self.quit_action.triggered.connect(self.close)

        self.find_action = QAction("&Find", self)
        self.find_action.setObjectName("findAction")
        self.find_action.setShortcut(QKeySequence(QKeySequence.StandardKey.Find))
        self.find_action.triggered.connect(self._on_find_action_triggered)

        self.about_action = QAction("&About makini-desktop", self)
        self.about_action.setObjectName("aboutAction")
        self.about_action.setMenuRole(QAction.MenuRole.AboutRole)
        self.about_action.triggered.connect(self._on_about_action_triggered)

        menu_bar = self.menuBar()
        menu_bar.setAccessibleName("Menu bar")
        file_menu = menu_bar.addMenu("&File")
        file_menu.addAction(self.connections_action)
        file_menu.addAction(self.export_action)
        file_menu.addSeparator()
        file_menu.addAction(self.work_offline_action)
        file_menu.addSeparator()
        file_menu.addAction(self.quit_action)
        view_menu = menu_bar.addMenu("&View")
        view_menu.addAction(self.refresh_action)
        view_menu.addAction(self.full_refresh_action)
        view_menu.addAction(self.find_action)
        view_menu.addSeparator()
        self.tab_actions: list[QAction] = []
        for i, view in enumerate(self.views):
            action = QAction(view.title, self)
            action.setObjectName(f"show{view.title}Action")
            if i < 9:
                action.setShortcut(QKeySequence(f"Ctrl+{i + 1}"))
            action.triggered.connect(lambda _checked=False, index=i: self._show_tab(index))
            view_menu.addAction(action)
            self.tab_actions.append(action)
        help_menu = menu_bar.addMenu("&Help")
        help_menu.addAction(self.about_action)

        toolbar = QToolBar("Main toolbar", self)
        toolbar.setObjectName("mainToolbar")
        toolbar.setAccessibleName("Main toolbar")
        toolbar.setMovable(False)
        toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        toolbar.addAction(self.refresh_action)
        toolbar.addAction(self.work_offline_action)
        toolbar.addAction(self.connections_action)
        toolbar.addSeparator()
        connection_caption = QLabel("Connection: ", toolbar)
        connection_caption.setAccessibleName("Connection")
        connection_caption.setBuddy(self.connection_switcher)
        toolbar.addWidget(connection_caption)
        toolbar.addWidget(self.connection_switcher)
        toolbar.addSeparator()
        building_caption = QLabel("Building: ", toolbar)
        building_caption.setAccessibleName("Building")
        building_caption.setBuddy(self.building_filter)
        toolbar.addWidget(building_caption)
        toolbar.addWidget(self.building_filter)
        toolbar.addSeparator()
        toolbar.addAction(self.export_action)
        self.addToolBar(toolbar)

    # -- settings ---------------------------------------------------------------------------

    def _restore_settings(self) -> None:
        settings = self.settings
        geometry = settings.value(_K_GEOMETRY)
        if isinstance(geometry, QByteArray) and not geometry.isEmpty():
            self.restoreGeometry(geometry)
        else:
            self.resize(1280, 800)
        state = settings.value(_K_STATE)
        if isinstance(state, QByteArray) and not state.isEmpty():
            self.restoreState(state)
        try:
            active = int(str(settings.value(_K_TAB, 0)))
        except (TypeError, ValueError):
            active = 0
        if 0 <= active < self.resource_tabs.count():
            self.resource_tabs.setCurrentIndex(active)
        # Like a mail client: "Work offline" stays on until the user turns it off.
        if str(settings.value(_K_WORK_OFFLINE, "false")).lower() == "true":
            self.work_offline_action.setChecked(True)
        for view in self.views:
            table = self.tabs[view.name].table
            restored = False
            if settings.value(f"tables/{view.name}/columns") == _column_signature(view):
                restored = table.restore_header(settings.value(f"tables/{view.name}/header"))
            if not restored:
                table.horizontalHeader().setSortIndicator(0, Qt.SortOrder.AscendingOrder)
                table.resource_model.sort(0, Qt.SortOrder.AscendingOrder)

    def save_settings(self) -> None:
        """Keep the window's geometry, the active tab and every table's columns."""
        settings = self.settings
        settings.setValue(_K_GEOMETRY, self.saveGeometry())
        settings.setValue(_K_STATE, self.saveState())
        settings.setValue(_K_TAB, self.resource_tabs.currentIndex())
        for view in self.views:
            header = self.tabs[view.name].table.horizontalHeader()
            settings.setValue(f"tables/{view.name}/header", header.saveState())
            settings.setValue(f"tables/{view.name}/columns", _column_signature(view))
        settings.sync()

    # -- connections ------------------------------------------------------------------------

    def open_connection(self, info: ConnectionInfo, token: str | None) -> asyncio.Task[None]:
        """Switch to a connection and load every tab (returns the loading task).

        Without a token (None) the tabs show the connection's cached rows under a banner
        that says why and offers Reconnect….
        """
        self.reporter.close_all(info.name)
        self.cache_notice.hide()
        self.workspace.open(info, token)
        for tab in self.tabs.values():
            tab.search.clear()
            tab.apply_search_now()
        return self.workspace.start_all()

    def activate_profile(self, profile_id: str) -> asyncio.Task[None] | None:
        """Open a saved connection; without a stored token, on its cached rows alone (the
        banner says so and offers Reconnect…)."""
        profile = self.profiles.get(profile_id)
        if profile is None:
            return None
        token = self.tokens.get(profile_id) or None
        try:
            task = self.open_connection(ConnectionInfo.from_profile(profile), token)
        except ValueError as exc:  # a malformed token or URL: let the user fix it
            self.statusBar().showMessage(f"Cannot open “{profile.name}”: {exc}", 10_000)
            self.show_connections(profile_id, focus_token=True)
            return None
        try:
            self.profiles.set_active(profile_id)
            self.profiles.touch(profile_id)
        except ProfileError as exc:  # a profile file that cannot be written must not stop work
            log.warning("could not record the active connection: %s", exc)
        return task

    def show_connections(self, profile_id: str | None = None, *, focus_token: bool = False) -> Any:
        """Open the connection manager (non-modal), optionally with the token field focused."""
        from makini_desktop.ui.connection_dialog import ConnectionDialog

        dialog = self.connection_dialog
        if dialog is None or not shiboken6.isValid(dialog):
            dialog = ConnectionDialog(self.profiles, self.tokens, self)
            dialog.sig_activate.connect(self._on_connection_dialog_sig_activate)
            dialog.sig_profiles_changed.connect(self._on_connection_dialog_sig_profiles_changed)
            dialog.sig_removing.connect(self._on_connection_dialog_sig_removing)
            self.connection_dialog = dialog
        dialog.open_on(profile_id, focus_token=focus_token)
        return dialog

    async def shutdown(self) -> None:
        """Cancel every load and close the session; the window may be deleted afterwards."""
        self._clock.stop()
        for tab in self.tabs.values():
            tab.cancel_search()
            tab.table.cancel_sort()
        if self._exporting is not None and not self._exporting.done():
            await asyncio.wait([self._exporting])  # never leave a half-written file behind
        self.reporter.close_all()
        await self.workspace.close()

    def current_tab(self) -> ResourceTab:
        widget = self.resource_tabs.currentWidget()
        assert isinstance(widget, ResourceTab)
        return widget

    def _show_tab(self, index: int) -> None:
        self.resource_tabs.setCurrentIndex(index)

    def _update_connection_ui(self) -> None:
        info = self.workspace.info
        demo = info is not None and info.demo
        if info is None:
            self.setWindowTitle(APP_TITLE)
            self.connection_label.setText("Not connected")
        else:
            title = f"{info.name} — {APP_TITLE}"
            self.setWindowTitle(f"{title} — {DEMO_BADGE_TEXT}" if demo else title)
            self.connection_label.setText(info.name)
            self.connection_label.setToolTip(info.base_url)
        self.demo_badge.setVisible(demo)
        self._fill_switcher()
        self._fill_building_filter()

    def _fill_switcher(self) -> None:
        combo = self.connection_switcher
        combo.blockSignals(True)
        combo.clear()
        info = self.workspace.info
        current = -1
        for profile in self.profiles.list():
            combo.addItem(profile.name, profile.id)
            if info is not None and info.profile_id == profile.id:
                current = combo.count() - 1
        if info is not None and info.profile_id is None:
            combo.insertItem(0, info.name, None)  # the unsaved (ad-hoc or demo) connection
            current = 0
        if combo.count() == 0:
            combo.addItem("No connection", None)
        combo.setCurrentIndex(max(current, 0))
        combo.blockSignals(False)

    def _fill_building_filter(self) -> None:
        combo = self.building_filter
        selected = combo.currentData()
        names = self.workspace.lookups.names(res.SITES.name)
        combo.blockSignals(True)
        combo.clear()
        combo.addItem("All buildings", None)
        for key, name in sorted(names.items(), key=lambda kv: (kv[1].casefold(), kv[0])):
            combo.addItem(name or key, key)
        index = combo.findData(selected) if selected is not None else 0
        combo.setCurrentIndex(max(index, 0))
        combo.blockSignals(False)
        if index < 0:
            self._apply_building_filter(None)

    def _apply_building_filter(self, key: str | None) -> None:
        for model in self.workspace.models.values():
            model.set_building_filter(key)

    # -- Qt overrides -----------------------------------------------------------------------

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() in (QEvent.Type.PaletteChange, QEvent.Type.ApplicationPaletteChange):
            # A banner's style sheet pins its palette, so a switch between light and dark
            # mode reaches the window but not the banners inside it.
            for banner in (self.offline_banner, self.cache_notice):
                banner.changeEvent(event)

    def closeEvent(self, event: QCloseEvent) -> None:
        dialog = self.connection_dialog
        dialog_alive = dialog is not None and shiboken6.isValid(dialog)
        if dialog_alive and not self._quit_confirmed:
            assert dialog is not None
            # A half-filled connection in the manager is never dropped without asking.
            if dialog.ask_before_quit(self._quit_after_asking):
                event.ignore()
                return
        self._quit_confirmed = False
        self.save_settings()
        if dialog_alive:
            assert dialog is not None
            dialog.close()
        self.reporter.close_all()
        event.accept()
        self.sig_closed.emit()

    # -- slots ------------------------------------------------------------------------------

    def _quit_after_asking(self) -> None:
        """The manager's unsaved connection was saved or discarded: quit as asked."""
        if shiboken6.isValid(self):
            self._quit_confirmed = True
            self.close()

    @Slot()
    def _on_workspace_sig_state_changed(self) -> None:
        ws = self.workspace
        state = ws.current_state()
        self.sync_status.setText(ws.state_text())
        self.sync_status.setToolTip(ws.state_tooltip())
        self.sync_status.setProperty("state", state.name.lower())
        self.refresh_action.setEnabled(ws.session is not None)
        self.full_refresh_action.setEnabled(ws.session is not None)
        if ws.held_reason or ws.connect_failure or not self.offline_banner.isHidden():
            self._update_offline_banner()  # a refused token, a failed connect, or over

    @Slot()
    def _on_workspace_sig_reach_changed(self) -> None:
        ws = self.workspace
        reach = ws.reach
        action = self.work_offline_action
        if action.isChecked() != (reach is Reach.WORK_OFFLINE):
            action.blockSignals(True)
            action.setChecked(reach is Reach.WORK_OFFLINE)
            action.blockSignals(False)
        self._update_offline_banner()

    @Slot(int)
    def _on_resource_tabs_current_changed(self, _index: int) -> None:
        self.workspace.focus = self.current_tab().view.name

    @Slot()
    def _on_controller_sig_status_changed(self) -> None:
        if not self.offline_banner.isHidden() or not self.workspace.online:
            self._update_offline_banner()

    def _update_offline_banner(self) -> None:
        """Show, word or hide the offline banner (also every half minute: it names times)."""
        ws = self.workspace
        reach = ws.reach
        banner = self.offline_banner
        reason = ws.held_reason
        if ws.session is None or (reach is Reach.ONLINE and not reason
                                  and not ws.connect_failure):
            banner.hide()
            self._update_banner_area()
            return
        self.reconnect_button.setVisible(bool(reason))
        self.try_now_button.setVisible(not reason)
        if reason:
            # Nothing can be fetched until the user gives a token: that is the news, also
            # while working offline.
            banner.set_kind("warning")
            banner.show_message(held_text(reason, ws.cached_at()), ws.offline_message())
            self._update_banner_area()
            return
        if reach is Reach.ONLINE:  # the connect failed: say what, and offer Retry
            name = ws.info.name if ws.info is not None else "the server"
            text = f"Could not connect to {name}: {ws.connect_failure}"
            if ws.connect_request_id:
                text += f" (request ID {ws.connect_request_id})"
            banner.set_kind("warning")
            self.try_now_button.setText("Retry")
            self.try_now_button.setAccessibleName("Try to connect again")
            self.try_now_button.setToolTip("Connect again and refresh every tab")
            self.try_now_button.setEnabled(not ws.busy)
            banner.show_message(text, "The cached rows stay shown; nothing was changed.")
            self._update_banner_area()
            return
        text = offline_text(reach, ws.cached_at())
        if reach is Reach.WORK_OFFLINE:
            banner.set_kind("information")
            self.try_now_button.setText("Work online")
            self.try_now_button.setAccessibleName("Turn Work offline off")
            self.try_now_button.setToolTip("Turn “Work offline” off and refresh every tab")
            self.try_now_button.setEnabled(True)
        else:
            banner.set_kind("warning")
            if ws.probing:
                text += " — trying to connect…"
            elif ws.probe_failed_at is not None:
                text += f" — still unreachable {at_time(ws.probe_failed_at)}"
            self.try_now_button.setText("Try now")
            self.try_now_button.setAccessibleName("Try to reach the server now")
            self.try_now_button.setToolTip(
                "Check the connection now; the app also retries by itself")
            self.try_now_button.setEnabled(not ws.probing)
        banner.show_message(text, ws.offline_tooltip())
        self._update_banner_area()

    def _update_banner_area(self) -> None:
        shown = not self.offline_banner.isHidden() or not self.cache_notice.isHidden()
        self.banner_area.setVisible(shown)

    @Slot(str)
    def _on_workspace_sig_notice(self, text: str) -> None:
        self.cache_notice.show_message(text)
        self._update_banner_area()

    @Slot()
    def _on_try_now_button_clicked(self) -> None:
        if self.workspace.reach is Reach.WORK_OFFLINE:
            self.work_offline_action.setChecked(False)
        elif self.workspace.reach is Reach.ONLINE and self.workspace.connect_failure:
            self.workspace.retry()
        else:
            self.workspace.try_now()

    @Slot()
    def _on_reconnect_button_clicked(self) -> None:
        info = self.workspace.info
        if info is not None:
            self._on_reporter_sig_reconnect(info.name)

    @Slot(bool)
    def _on_work_offline_action_toggled(self, on: bool) -> None:
        self.workspace.set_work_offline(on)
        self.settings.setValue(_K_WORK_OFFLINE, on)

    def _refuse_while_working_offline(self) -> bool:
        """True (and says why) when Work offline or a missing token keeps a refresh from
        running."""
        if self.workspace.token_missing:
            self.statusBar().showMessage(
                "No token for this connection: choose Reconnect… to enter one.", 8000)
            return True
        if self.workspace.reach is not Reach.WORK_OFFLINE:
            return False
        self.statusBar().showMessage(
            "Working offline: turn “Work offline” off to refresh.", 8000)
        return True

    @Slot(object)
    def _on_workspace_sig_error(self, err: MakiniError) -> None:
        info = self.workspace.info
        if info is None:
            return
        self.reporter.report(err, connection_name=info.name, base_url=info.base_url)

    @Slot()
    def _on_workspace_sig_connection_changed(self) -> None:
        self._update_connection_ui()

    @Slot(str)
    def _on_lookups_sig_changed(self, dataset: str) -> None:
        if dataset == res.SITES.name:
            self._fill_building_filter()

    @Slot(str)
    def _on_reporter_sig_reconnect(self, connection_name: str) -> None:
        info = self.workspace.info
        profile_id = info.profile_id if info is not None and info.name == connection_name else None
        if profile_id is None:
            profile = self.profiles.find_by_name(connection_name)
            profile_id = profile.id if profile is not None else None
        if profile_id is None and info is not None and info.name == connection_name:
            self.ask_new_token(info)  # an unsaved (--base-url) connection has no profile
            return
        self.show_connections(profile_id, focus_token=True)

    def ask_new_token(self, info: ConnectionInfo) -> QInputDialog:
        """Ask for a new token for an unsaved connection and reconnect with it (no profile,
        nothing saved: the token stays in memory)."""
        dialog = QInputDialog(self)
        dialog.setObjectName("newTokenDialog")
        dialog.setAccessibleName("New token")
        dialog.setWindowTitle("Reconnect")
        dialog.setLabelText(
            f"The token for {info.base_url} was not accepted.\nPaste a new token:"
        )
        dialog.setTextEchoMode(QLineEdit.EchoMode.Password)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)

        def reconnect(text: str) -> None:
            token = text.strip()
            if token:
                self.open_connection(ConnectionInfo.adhoc(info.base_url, token, info.name), token)

        dialog.textValueSelected.connect(reconnect)
        dialog.open()  # never exec(): the event loop keeps running
        return dialog

    @Slot(str)
    def _on_connection_dialog_sig_activate(self, profile_id: str) -> None:
        self.activate_profile(profile_id)

    @Slot()
    def _on_connection_dialog_sig_profiles_changed(self) -> None:
        info = self.workspace.info
        if info is not None and info.profile_id is not None:
            profile = self.profiles.get(info.profile_id)
            if profile is not None and (profile.name, profile.base_url) != (
                info.name, info.base_url
            ):
                # Renamed or moved: reconnect so the session talks to the right place.
                self.activate_profile(profile.id)
                return
        self._fill_switcher()

    @Slot(str)
    def _on_connection_dialog_sig_removing(self, profile_id: str) -> None:
        info = self.workspace.info
        if info is not None and info.profile_id == profile_id:
            # Its cache file is deleted right after this signal: close it now.
            self.workspace.detach()

    @Slot(int)
    def _on_connection_switcher_activated(self, index: int) -> None:
        profile_id = self.connection_switcher.itemData(index)
        info = self.workspace.info
        if profile_id is None or (info is not None and info.profile_id == profile_id):
            return
        self.activate_profile(profile_id)

    @Slot(int)
    def _on_building_filter_changed(self, index: int) -> None:
        self._apply_building_filter(self.building_filter.itemData(index))

    @Slot()
    def _on_refresh_action_triggered(self) -> None:
        if self.workspace.session is not None and not self._refuse_while_working_offline():
            self.workspace.refresh_tab(self.current_tab().view.name)

    @Slot()
    def _on_full_refresh_action_triggered(self) -> None:
        if self.workspace.session is not None and not self._refuse_while_working_offline():
            self.workspace.refresh_tab(self.current_tab().view.name, full=True)

    @Slot()
    def _on_connections_action_triggered(self) -> None:
        info = self.workspace.info
        self.show_connections(info.profile_id if info is not None else None)

    @Slot()
    def _on_find_action_triggered(self) -> None:
        search = self.current_tab().search
        search.setFocus(Qt.FocusReason.ShortcutFocusReason)
        search.selectAll()

    @Slot()
    def _on_about_action_triggered(self) -> None:
        box = QMessageBox(self)
        box.setObjectName("aboutBox")
        box.setAccessibleName("About makini-desktop")
        box.setWindowTitle("About makini-desktop")
        box.setIcon(QMessageBox.Icon.Information)
        box.setText(f"<b>makini-desktop</b> {__version__}")
        box.setInformativeText(
            "Spaces, assets, moves and visitors of your workplace systems, "
            "through the Makini unified API."
        )
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()

    @Slot()
    def _on_clock_timeout(self) -> None:
        for tab in self.tabs.values():
            tab.refresh_status_text()
        self._update_offline_banner()

    @Slot()
    def _on_export_action_triggered(self) -> None:
        tab = self.current_tab()
        dialog = QFileDialog(self, f"Export {tab.view.title.lower()}")
        dialog.setObjectName("exportDialog")
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        dialog.setNameFilters([
            "CSV (*.csv)", "Excel workbook (*.xlsx)", "JSON (*.json)",
        ])
        dialog.setDefaultSuffix("csv")
        dialog.selectFile(f"{tab.view.name}.csv")
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.filterSelected.connect(
            lambda name, d=dialog: d.setDefaultSuffix(_suffix_of_filter(name))
        )
        dialog.fileSelected.connect(self._on_export_dialog_file_selected)
        self._export_view = tab.view.name
        self._export_dialog = dialog
        dialog.open()  # never exec(): the loop keeps loading while the dialog is up

    @asyncSlot(str)  # type: ignore[untyped-decorator]  # qasync ships no type hints
    async def _on_export_dialog_file_selected(self, path: str) -> None:
        await self.export_tab(self._export_view, path)

    async def export_tab(self, view_name: str, path: str) -> bool:
        """Write the rows shown in a tab (search and filter applied) to ``path``.

        The format follows the file's extension (CSV when unknown). Works offline: it only
        reads the table.

        Returns:
            True when the file was written.
        """
        model = self.workspace.models[view_name]
        rows = model.visible_rows()
        fmt = format_for_path(path)
        view = model.view
        self.statusBar().showMessage(f"Exporting {len(rows):,} {view.noun[1]}…")
        self._exporting = asyncio.ensure_future(
            asyncio.to_thread(write_export, path, fmt, view, rows)
        )
        try:
            result = await asyncio.shield(self._exporting)
        except (OSError, ValueError) as exc:
            if shiboken6.isValid(self):
                reason = getattr(exc, "strerror", None) or str(exc)
                self.statusBar().clearMessage()
                box = QMessageBox(QMessageBox.Icon.Warning, "Export failed",
                                  f"Could not write {path}: {reason}", parent=self)
                box.setObjectName("exportFailedBox")
                box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
                box.open()
            return False
        if shiboken6.isValid(self):
            noun = view.noun[0] if len(rows) == 1 else view.noun[1]
            message = f"Exported {len(rows):,} {noun} to {path}"
            note = result.note()
            if note is None:
                self.statusBar().showMessage(message, 8000)
            else:
                # Kept until the next message: the file differs from what the table shows.
                self.statusBar().showMessage(f"{message} — {note}.")
        return True


def _suffix_of_filter(name: str) -> str:
    for fmt in FORMATS:
        if f"*.{fmt}" in name:
            return fmt
    return "csv"


def _unique(keys: list[QKeySequence]) -> list[QKeySequence]:
    """Shortcuts without duplicates (on macOS Refresh already is Cmd+R)."""
    seen: set[str] = set()
    out = []
    for key in keys:
        text = key.toString()
        if text and text not in seen:
            seen.add(text)
            out.append(key)
    return out


__all__ = [
    "MainWindow",
    "ResourceTab",
    "ResourceTableView",
    "open_settings",
]
