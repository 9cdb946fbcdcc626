"""The table of one resource view: fixed row heights, sorting in slices, copy as TSV.

:class:`ResourceTableView` also chooses its columns' first widths from the header and a
sample of rows, offers a column chooser on the header, and restores a saved header.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import shiboken6
from PySide6.QtCore import QByteArray, QModelIndex, QPoint, Qt, Signal, Slot
from PySide6.QtGui import QAction, QGuiApplication, QKeyEvent, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QMenu,
    QStyle,
    QTableView,
    QWidget,
)

from makini_desktop.sync.tasks import TaskSlots
from makini_desktop.ui.controllers import settle_garbage
from makini_desktop.ui.table_model import ResourceTableModel

__all__ = ["MAX_COLUMN_CHARS", "REF_NAMES_MEASURED", "WIDTH_SAMPLE_ROWS", "ResourceTableView"]

WIDTH_SAMPLE_ROWS = 200
"""Rows measured to choose a column's initial width."""
MAX_COLUMN_CHARS = 36
"""No column starts wider than about this many characters (long text gets a tooltip)."""
REF_NAMES_MEASURED = 500
"""A column naming records of a list this short (the buildings) is as wide as its longest
name, not only as the first rows' (a later building's name was cut short beside empty
room)."""


class ResourceTableView(QTableView):
    """A read-only table of one view: fixed row heights, copy as TSV, column chooser.

    Args:
        model: the tab's model.
        parent: the Qt parent.

    Signals:
        sig_open_requested(int): Enter or a double-click on a row: show it in the detail pane.
    """

    sig_open_requested = Signal(int)

    def __init__(self, model: ResourceTableModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.resource_model = model
        self.widths_chosen = False
        self.extra_actions: list[QAction] = []
        """Actions on the selected rows, shown in the rows' context menu after Copy (the
        front desk's Check in, the move desk's Approve…)."""
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
        self._tasks = TaskSlots()  # the sort being applied, a newer one preempting it
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
        # A reset or a new layout (a search, a filter, a sort) lays the rows out on a timer,
        # after the viewport has painted once: the view then paints it all again (20-30 ms
        # a paint). Laid out at once, the two repaints are one.
        model.modelReset.connect(self._on_model_laid_out)
        model.layoutChanged.connect(self._on_model_laid_out)
        self.doubleClicked.connect(self._on_self_double_clicked)

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
        for i, column in enumerate(model.columns):
            widest = max(fm.horizontalAdvance(model.display_text(r, i)) for r in range(rows))
            names = model.lookups.names(column.ref) if column.ref else {}
            if 0 < len(names) <= REF_NAMES_MEASURED:
                widest = max(widest, *(fm.horizontalAdvance(n) for n in names.values()))
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
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self.currentIndex().isValid():
            self.sig_open_requested.emit(self.currentIndex().row())
            event.accept()
            return
        super().keyPressEvent(event)

    @Slot(QModelIndex)
    def _on_self_double_clicked(self, index: QModelIndex) -> None:
        if index.isValid():
            self.sig_open_requested.emit(index.row())

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
        if self.extra_actions:
            menu.addSeparator()
            menu.addActions(self.extra_actions)
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
            action.toggled.connect(lambda on, column=i: self.set_column_shown(column, on))
        menu.addSeparator()
        choose = menu.addAction("Choose columns…")
        choose.triggered.connect(self.choose_columns)
        menu.popup(header.mapToGlobal(pos))

    def choose_columns(self) -> Any:
        """Open the column chooser: every column, checkable and in order (non-modal)."""
        from makini_desktop.ui.column_chooser import ColumnChooser

        chooser = ColumnChooser(self)
        chooser.open()
        return chooser

    def column_ids(self) -> list[str]:
        """The ids of the shown columns, in the order they appear."""
        return [self.resource_model.columns[i].id for i in self.visible_columns()]

    def show_columns(self, ids: Sequence[str]) -> None:
        """Show exactly these columns (by id, unknown ids ignored) in this order, the others
        hidden after them; no ids: the view's default columns and order."""
        columns = self.resource_model.columns
        position = {c.id: i for i, c in enumerate(columns)}
        shown = [position[c] for c in dict.fromkeys(ids) if c in position]
        if not shown:
            shown = [i for i, c in enumerate(columns) if not c.hidden]
            order = list(range(len(columns)))
        else:
            order = shown + [i for i in range(len(columns)) if i not in shown]
        header = self.horizontalHeader()
        for visual, logical in enumerate(order):
            current = header.visualIndex(logical)
            if current != visual:
                header.moveSection(current, visual)
        for i in range(len(columns)):
            self._show_column(i, i in shown)
        self.resource_model.set_searchable_columns(self.visible_columns())

    def set_column_shown(self, column: int, shown: bool) -> None:
        """Show or hide a column; a search then looks at the columns shown."""
        self._show_column(column, shown)
        # Search looks at what is shown, nothing else.
        self.resource_model.set_searchable_columns(self.visible_columns())

    def _show_column(self, column: int, shown: bool) -> None:
        self.setColumnHidden(column, not shown)
        if shown and self.columnWidth(column) < self._header_width(column):
            self.setColumnWidth(column, self._header_width(column) + 40)

    @Slot(int, Qt.SortOrder)
    def _on_header_sort_indicator_changed(self, column: int, order: Qt.SortOrder) -> None:
        try:
            asyncio.get_running_loop()
        except RuntimeError:  # no event loop (a table used on its own): sort at once
            self._tasks.cancel("sort")
            before = self._sorted_by()
            self.resource_model.sort(column, order)
            self._show_after_sort(before)
            return
        self._tasks.start("sort", self.sort_by(column, order))

    async def sort_by(self, column: int, order: Qt.SortOrder) -> None:
        """Sort the table, building a new column's keys a slice per turn of the loop."""
        model = self.resource_model
        before = self._sorted_by()
        for _ in model.sort_steps(column, order):
            # Each slice's new keys are frozen at once: left to pile up, 100k key tuples
            # set off a full collection that blocked the first sort by name for ~150 ms.
            settle_garbage()
            await asyncio.sleep(0)
            if not shiboken6.isValid(model):
                return
        settle_garbage()  # the rest of a new column's keys, never walked by a full gc
        self._show_after_sort(before)

    def _sorted_by(self) -> tuple[int, Qt.SortOrder]:
        return self.resource_model.sort_column, self.resource_model.sort_order

    def _show_after_sort(self, before: tuple[int, Qt.SortOrder]) -> None:
        """After a new sort, the selected row (the current one if selected) is scrolled into
        view; with nothing selected the table shows its top."""
        if self._sorted_by() == before:
            return  # nothing moved (Qt asks for the same sort twice)
        selection = self.selectionModel()
        current = self.currentIndex()
        if selection is not None and current.isValid() and selection.isSelected(current):
            self.scrollTo(current, QAbstractItemView.ScrollHint.PositionAtCenter)
            return
        rows = self.selected_rows()
        if rows:
            column = self.horizontalHeader().logicalIndex(0)
            self.scrollTo(self.resource_model.index(rows[0], max(column, 0)),
                          QAbstractItemView.ScrollHint.PositionAtCenter)
        else:
            self.scrollToTop()

    @property
    def sort_pending(self) -> bool:
        """True while a requested sort has not been applied yet."""
        return self._tasks.running("sort")

    def cancel_sort(self) -> None:
        self._tasks.cancel("sort")

    @Slot()
    def _on_model_rows_appeared(self, *_args: Any) -> None:
        if not self.widths_chosen and self.resource_model.rowCount() > 0:
            self.choose_widths()

    @Slot()
    def _on_model_laid_out(self, *_args: Any) -> None:
        self.executeDelayedItemsLayout()

    @Slot(int, int, int)
    def _on_header_section_resized(self, _index: int, _old: int, _new: int) -> None:
        # A width the user chose (or restored) is never overridden by measuring rows.
        if self.isVisible() and self.resource_model.rowCount():
            self.widths_chosen = True


def _tsv_cell(text: str) -> str:
    return text.replace("\t", " ").replace("\r", " ").replace("\n", " ")
