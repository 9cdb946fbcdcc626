"""The Qt table model behind every resource tab: an adapter of a Qt-free row index.

:class:`ResourceTableModel` owns a :class:`~makini_desktop.table.rowindex.RowIndex` (rows,
sort keys, search text, the building filter) and a
:class:`~makini_desktop.table.cells.Cells` (text, tooltips, sort keys). Each change asks
the index, which answers with a :class:`~makini_desktop.table.rowindex.Plan`; the model
emits the plan's steps as ``beginRemoveRows``/``beginInsertRows``/``dataChanged``/
``layoutChanged``/``modelReset``, updating the row ids it shows step by step so that Qt
sees a consistent model at every signal.

It does its own sorting and filtering instead of sitting behind a ``QSortFilterProxyModel``:
the proxy calls ``data()`` through Python for every comparison and every filter test, which
takes seconds at 100k rows.

:class:`Lookups` is :class:`makini_desktop.table.lookups.Lookups` with a Qt signal.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    Signal,
)
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication, QStyle

from makini_desktop.api import resources as res
from makini_desktop.table import lookups as plain_lookups
from makini_desktop.table.cells import TOOLTIP_MIN_CHARS, Row, SortKey, count_label
from makini_desktop.table.narrowing import SEARCH_SLICE_ROWS
from makini_desktop.table.plan import Changed, Inserted, Layout, Plan, Removed, Reset
from makini_desktop.table.rowindex import (
    BULK_CHANGE_ROWS,
    BULK_INSERT_ROWS,
    KEY_CACHE_COLUMNS,
    KEY_SLICE_ROWS,
    RowIndex,
)

__all__ = [
    "BULK_CHANGE_ROWS",
    "BULK_INSERT_ROWS",
    "KEY_CACHE_COLUMNS",
    "KEY_SLICE_ROWS",
    "SEARCH_SLICE_ROWS",
    "TOOLTIP_MIN_CHARS",
    "KeyRole",
    "Lookups",
    "ResourceTableModel",
    "Row",
    "RowRole",
    "SortKey",
    "SortRole",
    "count_label",
]

SortRole = Qt.ItemDataRole.UserRole + 1
"""A native, comparable sort key: ``(rank, value)`` from :func:`values.sort_key`."""
RowRole = Qt.ItemDataRole.UserRole + 2
"""The whole record (a dict with every field the server sent)."""
KeyRole = Qt.ItemDataRole.UserRole + 3
"""The record's key."""

_ALIGN_RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
_ALIGN_LEFT = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
_ROW_FLAGS = (Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
              | Qt.ItemFlag.ItemNeverHasChildren)
_NO_FLAGS = Qt.ItemFlag.NoItemFlags
_DISPLAY = int(Qt.ItemDataRole.DisplayRole)
_ALIGNMENT = int(Qt.ItemDataRole.TextAlignmentRole)
_TOOLTIP = int(Qt.ItemDataRole.ToolTipRole)
_DECORATION = int(Qt.ItemDataRole.DecorationRole)
_UNSERVED = frozenset(int(r) for r in (
    Qt.ItemDataRole.FontRole, Qt.ItemDataRole.ForegroundRole, Qt.ItemDataRole.BackgroundRole,
    Qt.ItemDataRole.CheckStateRole, Qt.ItemDataRole.SizeHintRole, Qt.ItemDataRole.EditRole,
    Qt.ItemDataRole.StatusTipRole, Qt.ItemDataRole.WhatsThisRole,
))
"""Roles a cell never has (Qt's defaults apply)."""
_ICONS: dict[str, QIcon] = {}


def _sending_icon() -> QIcon:
    """The mark of a row whose change is not yet confirmed (the theme's "send" icon where
    the platform has one, else the style's forward arrow)."""
    icon = _ICONS.get("sending")
    if icon is None:
        icon = QIcon.fromTheme(QIcon.ThemeIcon.MailSend)
        if icon.isNull():
            icon = QApplication.style().standardIcon(QStyle.StandardPixmap.SP_ArrowForward)
        _ICONS["sending"] = icon
    return icon
_DESCENDING = Qt.SortOrder.DescendingOrder


class Lookups(QObject, plain_lookups.Lookups):
    """:class:`makini_desktop.table.lookups.Lookups` that also tells Qt when names change.

    Shared by every model of a connection.

    Signals:
        sig_changed(str): the dataset (``sites`` or ``locations``) whose names changed.
    """

    sig_changed = Signal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        QObject.__init__(self, parent)
        plain_lookups.Lookups.__init__(self)
        self.subscribe(self.sig_changed.emit)


class ResourceTableModel(QAbstractTableModel):
    """The rows of one view, with fast native sorting, search and a building filter.

    ``rowCount()`` is the number of rows shown (after search and filter); :attr:`total` is
    the number of rows held. Rows of the view's dataset that the view does not accept (floors
    in the Spaces view) are ignored, so a controller can hand over whole dataset pages.

    Args:
        view: the resource view (columns, kinds, nouns).
        lookups: names for ``Kind.REF`` columns; shared by every model of a connection.
        parent: the Qt parent.

    Signals:
        sig_counts_changed(int, int): rows shown, rows held.
    """

    sig_counts_changed = Signal(int, int)

    def __init__(
        self, view: res.View, lookups: Lookups | None = None, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self.view = view
        self.columns: tuple[res.Column, ...] = view.columns
        self.lookups = lookups if lookups is not None else Lookups(self)
        self.lookups.sig_changed.connect(self._on_lookups_sig_changed)
        self.row_index = RowIndex(view, self.lookups)
        """The rows, their order and the filters (Qt-free)."""
        self.cells = self.row_index.cells
        # The row ids as Qt knows them: the index's ``visible`` once a plan is emitted.
        self._shown: list[int] = []
        # Records with a change on its way: key -> the status cell's tooltip ("Sending…").
        self._pending: dict[str, str] = {}
        self._status_column = next(
            (i for i, c in enumerate(self.columns) if c.id == res.F_STATUS), -1)

    # -- Qt model interface -------------------------------------------------------------------

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._shown)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.columns)

    def flags(self, index: QModelIndex | QPersistentModelIndex) -> Qt.ItemFlag:
        return _ROW_FLAGS if index.isValid() else _NO_FLAGS

    def data(
        self,
        index: QModelIndex | QPersistentModelIndex,
        role: int = Qt.ItemDataRole.DisplayRole,
    ) -> Any:
        # Called for a dozen roles per painted cell: the roles we do not serve return fast
        # (the roles are plain ints here: an enum member's lookup costs a microsecond).
        if role == _DISPLAY:
            rid = self._rid(index)
            if rid is None:
                return None
            return self.cells.text(self.row_index.rows[rid], index.column())
        if role == _ALIGNMENT:
            if not index.isValid():
                return None
            return _ALIGN_RIGHT if self.cells.is_numeric(index.column()) else _ALIGN_LEFT
        if role in _UNSERVED:
            return None
        if role == _TOOLTIP:
            rid = self._rid(index)
            if rid is None:
                return None
            if self._pending and (tip := self._pending_tip(index)):
                return tip
            return self.cells.tooltip(self.row_index.rows[rid], index.column())
        if role == _DECORATION:
            if not self._pending:
                return None
            tip = self._pending_tip(index)
            return _sending_icon() if tip else None
        if role == SortRole:
            rid = self._rid(index)
            if rid is None:
                return None
            return self.cells.sort_key(self.row_index.rows[rid], index.column())
        if role == RowRole:
            rid = self._rid(index)
            return None if rid is None else self.row_index.rows[rid]
        if role == KeyRole:
            rid = self._rid(index)
            row = None if rid is None else self.row_index.rows[rid]
            return None if row is None else row.get(res.F_KEY)
        return None

    def headerData(
        self,
        section: int,
        orientation: Qt.Orientation,
        role: int = Qt.ItemDataRole.DisplayRole,
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal:
            if not 0 <= section < len(self.columns):
                return None
            if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
                return self.columns[section].header
            if role == Qt.ItemDataRole.TextAlignmentRole:
                return _ALIGN_RIGHT if self.cells.is_numeric(section) else _ALIGN_LEFT
            return None
        if role == Qt.ItemDataRole.DisplayRole and 0 <= section < len(self._shown):
            return str(section + 1)
        return None

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        """Sort by a column's native values (-1: arrival order); selection follows its rows."""
        self._emit(self.row_index.sort(column, order == _DESCENDING))

    def sort_steps(
        self,
        column: int,
        order: Qt.SortOrder = Qt.SortOrder.AscendingOrder,
        *,
        slice_rows: int = KEY_SLICE_ROWS,
    ) -> Iterator[None]:
        """:meth:`sort` in steps: a generator that yields between slices of work.

        See :meth:`RowIndex.sort_steps`: the rows are reordered in the last step, in one go;
        dropping the generator early leaves the model as it was.
        """
        plan = yield from self.row_index.sort_steps(
            column, order == _DESCENDING, slice_rows=slice_rows
        )
        self._emit(plan)

    # -- reading ------------------------------------------------------------------------------

    @property
    def total(self) -> int:
        """Rows held (what the count label calls "of N")."""
        return self.row_index.total

    @property
    def sort_column(self) -> int:
        return self.row_index.sort_column

    @property
    def sort_order(self) -> Qt.SortOrder:
        return _DESCENDING if self.row_index.descending else Qt.SortOrder.AscendingOrder

    @property
    def building_filter(self) -> str | None:
        return self.row_index.building

    def row_at(self, row: int) -> Row:
        """The record shown at display row ``row``."""
        record = self.row_index.rows[self._shown[row]]
        assert record is not None
        return record

    def key_at(self, row: int) -> str:
        """The key of the record shown at display row ``row``."""
        return str(self.row_at(row)[res.F_KEY])

    def row_of_key(self, key: str) -> int:
        """The display row of a record, or -1 when it is not shown."""
        rid = self.row_index.id_of(key)
        if rid is None:
            return -1
        try:
            return self._shown.index(rid)
        except ValueError:
            return -1

    def row_by_key(self, key: str) -> Row | None:
        """The record with that key, shown or not (None when the model does not hold it)."""
        rid = self.row_index.id_of(key)
        return None if rid is None else self.row_index.rows[rid]

    def set_pending(self, key: str, tooltip: str | None) -> None:
        """Mark a record as having a change on its way (its status cell shows an icon and
        ``tooltip``), or clear the mark (None)."""
        if tooltip:
            if self._pending.get(key) == tooltip:
                return
            self._pending[key] = tooltip
        elif self._pending.pop(key, None) is None:
            return
        row = self.row_of_key(key)
        if row >= 0 and self._status_column >= 0:
            cell = self.index(row, self._status_column)
            self.dataChanged.emit(cell, cell, [Qt.ItemDataRole.DecorationRole,
                                               Qt.ItemDataRole.ToolTipRole])

    def pending_tooltip(self, key: str) -> str | None:
        """The "Sending…" text of a record with a change on its way, or None."""
        return self._pending.get(key)

    def _pending_tip(self, index: QModelIndex | QPersistentModelIndex) -> str | None:
        if index.column() != self._status_column:
            return None
        rid = self._rid(index)
        row = None if rid is None else self.row_index.rows[rid]
        return None if row is None else self._pending.get(str(row.get(res.F_KEY)))

    def visible_rows(self) -> list[Row]:
        """The records shown, in display order (what an export of the tab writes)."""
        rows = self.row_index.rows
        return [rows[i] for i in self._shown]  # type: ignore[misc]  # shown rows are live

    def all_rows(self) -> list[Row]:
        """Every record held, in arrival order."""
        return self.row_index.all_rows()

    def display_text(self, row: int, column: int) -> str:
        """The text shown in a cell (what copying a cell puts on the clipboard)."""
        return self.cells.text(self.row_at(row), column)

    # -- filling --------------------------------------------------------------------------------

    def clear(self) -> None:
        """Drop every row (the connection changed)."""
        self.set_rows([])

    def set_rows(self, rows: Iterable[Row]) -> None:
        """Replace every row (a model reset: selection and scroll position are lost)."""
        self._emit(self.row_index.replace(rows))

    def append_rows(self, rows: Iterable[Row]) -> None:
        """Add rows as a page arrives: new rows are inserted in place, known keys updated."""
        self._emit(self.row_index.add(rows))

    def stage_rows(self, rows: Iterable[Row], *, keyed: bool = True) -> None:
        """Hold rows without showing them yet (see :meth:`RowIndex.stage`)."""
        self._emit(self.row_index.stage(rows, keyed=keyed))

    def place_staged_steps(
        self, *, slice_rows: int = KEY_SLICE_ROWS, sort: tuple[str, Any] | None = None
    ) -> Iterator[None]:
        """Show every row held, staged ones included, in order: a generator that yields
        between slices of the sort (see :meth:`RowIndex.place_staged_steps`); one reset."""
        plan = yield from self.row_index.place_staged_steps(slice_rows=slice_rows, sort=sort)
        self._emit(plan)

    def sort_spec(self) -> str | None:
        """What the current sort is, as kept beside the cache (see :mod:`.kept_sort`)."""
        return self.row_index.sort_spec()

    def kept_sort(self) -> tuple[str, Any] | None:
        """The sort to keep beside the cache's rows (see :meth:`RowIndex.kept_sort`)."""
        return self.row_index.kept_sort()

    def begin_arrival(self) -> None:
        """Rows are about to stream into this empty model: they go in at the end, in
        arrival order, until :meth:`arrival_done_steps` sorts them (see
        :meth:`RowIndex.begin_arrival`)."""
        self.row_index.begin_arrival()

    def arrival_done_steps(self, *, slice_rows: int = KEY_SLICE_ROWS) -> Iterator[None]:
        """The streamed rows are in: sort them by :attr:`sort_column` a slice per step (a
        generator); the rows are reordered in the last step."""
        self._emit((yield from self.row_index.arrival_done_steps(slice_rows=slice_rows)))

    def apply_changes(self, upserts: Iterable[Row], deleted_keys: Iterable[str]) -> None:
        """Apply an incremental change set: changed or new rows, and deleted keys.

        A small change set keeps the selection and scroll position (row signals); a large
        one resets the model, which is cheaper than thousands of row signals.
        """
        self._emit(self.row_index.apply(upserts, deleted_keys))

    def replace_rows(self, rows: Sequence[Row]) -> None:
        """Bring the model to exactly ``rows`` with as few changes as possible.

        Used when a refresh ends and the table already shows (cached) rows: only the rows
        whose ``updatedAt`` differs, new rows and vanished rows are touched, so the user's
        selection and scroll position survive a refresh.
        """
        if not self.row_index.total:
            self.set_rows(rows)
            return
        seen: set[str] = set()
        upserts = self.changed_rows(rows, seen)
        self.apply_changes(upserts, self.keys_not_in(seen))

    def changed_rows(self, rows: Iterable[Row], seen: set[str] | None = None) -> list[Row]:
        """The rows of a new list that are new or changed (by ``updatedAt``).

        See :meth:`RowIndex.changed_rows`; with :meth:`keys_not_in` a caller compares a long
        list in slices.
        """
        return self.row_index.changed_rows(rows, seen)

    def keys_not_in(self, seen: set[str]) -> list[str]:
        """The keys held that are not in ``seen`` (rows a new list no longer has)."""
        return self.row_index.keys_not_in(seen)

    # -- searching and filtering ----------------------------------------------------------------

    def set_search(self, text: str) -> None:
        """Show only rows where every word of ``text`` appears in some visible column."""
        self._emit(self.row_index.search(text))

    def search_steps(self, text: str, *, slice_rows: int = SEARCH_SLICE_ROWS) -> Iterator[None]:
        """:meth:`set_search` in slices: a generator that yields after each slice of rows.

        The model changes only after the last slice, so a caller can run the slices on the
        event loop (``await asyncio.sleep(0)`` at each yield) and simply drop the generator
        when the user types again (see :meth:`RowIndex.search_steps`).

        Args:
            text: the search text.
            slice_rows: rows per slice; 0 for a single slice.
        """
        self._emit((yield from self.row_index.search_steps(text, slice_rows=slice_rows)))

    def set_row_filter(self, row_filter: Callable[[Row], bool] | None) -> None:
        """Show only rows that pass ``row_filter`` too (the filters beside the search box)."""
        self._emit(self.row_index.set_row_filter(row_filter))

    def row_filter_steps(
        self, row_filter: Callable[[Row], bool] | None, *, slice_rows: int = SEARCH_SLICE_ROWS
    ) -> Iterator[None]:
        """:meth:`set_row_filter` in slices, as :meth:`search_steps`."""
        self._emit((yield from self.row_index.row_filter_steps(row_filter, slice_rows=slice_rows)))

    def set_building_filter(self, site_key: str | None) -> None:
        """Show only rows of one building (None: every building)."""
        self._emit(self.row_index.set_building(site_key))

    def set_criterion(self, predicate: Callable[[Row], bool] | None) -> None:
        """Show only rows ``predicate`` accepts, beside the other filters (None: all)."""
        self._emit(self.row_index.set_criterion(predicate))

    def set_searchable_columns(self, columns: Iterable[int]) -> None:
        """The columns a search looks at (the visible ones); recomputes every row's text."""
        self._emit(self.row_index.set_searchable_columns(columns))

    # -- emitting a plan --------------------------------------------------------------------------

    def _emit(self, plan: Plan) -> None:
        """Tell Qt about each step of ``plan`` while applying it to the rows shown."""
        last_column = len(self.columns) - 1
        for step in plan.steps:
            if isinstance(step, Changed):
                if step.column is None:
                    self.dataChanged.emit(
                        self.index(step.first, 0), self.index(step.last, last_column)
                    )
                else:
                    self.dataChanged.emit(
                        self.index(step.first, step.column),
                        self.index(step.last, step.column),
                        [Qt.ItemDataRole.DisplayRole],
                    )
            elif isinstance(step, Removed):
                self.beginRemoveRows(QModelIndex(), step.first, step.last)
                del self._shown[step.first:step.last + 1]
                self.endRemoveRows()
            elif isinstance(step, Inserted):
                self.beginInsertRows(QModelIndex(), step.first, step.first + len(step.ids) - 1)
                self._shown[step.first:step.first] = step.ids
                self.endInsertRows()
            elif isinstance(step, Layout):
                self.layoutAboutToBeChanged.emit()
                old = self._shown
                self._shown = step.ids
                self._remap_persistent(old)
                self.layoutChanged.emit()
            elif isinstance(step, Reset):
                self.beginResetModel()
                self._shown = step.ids
                self.endResetModel()
        if plan.counts_changed:
            self.sig_counts_changed.emit(len(self._shown), self.row_index.total)

    def _remap_persistent(self, old_shown: list[int]) -> None:
        persistent = self.persistentIndexList()
        if not persistent:
            return
        shown = self._shown
        rids = [old_shown[row] if 0 <= (row := index.row()) < len(old_shown) else None
                for index in persistent]
        # The view holds a persistent index per cell of its current row and selection (a
        # dozen for one row): each row is looked for once, a big selection in one pass.
        wanted = {rid for rid in rids if rid is not None}
        pos: dict[int, int]
        if len(wanted) > 8:
            pos = {rid: p for p, rid in enumerate(shown) if rid in wanted}
        else:
            pos = {}
            for one in wanted:
                with contextlib.suppress(ValueError):
                    pos[one] = shown.index(one)
        new_indexes = []
        for index, rid in zip(persistent, rids, strict=True):
            new_row = None if rid is None else pos.get(rid)
            new_indexes.append(
                QModelIndex() if new_row is None else self.index(new_row, index.column())
            )
        self.changePersistentIndexList(persistent, new_indexes)

    def _rid(self, index: QModelIndex | QPersistentModelIndex) -> int | None:
        if not index.isValid():
            return None
        row = index.row()
        if not 0 <= row < len(self._shown) or not 0 <= index.column() < len(self.columns):
            return None
        return self._shown[row]

    def _on_lookups_sig_changed(self, dataset: str) -> None:
        self._emit(self.row_index.lookups_changed(dataset))
