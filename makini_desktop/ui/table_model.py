"""The table model behind every resource tab, fast enough for 100,000 rows in Python.

:class:`ResourceTableModel` is built from a :class:`~makini_desktop.api.resources.View`: its
columns are the view's columns (hidden ones included; the table view hides them), its text
comes from :func:`makini_desktop.api.values.display` and its sort order from
:func:`makini_desktop.api.values.sort_key`.

It does its own sorting and filtering instead of sitting behind a ``QSortFilterProxyModel``:
the proxy calls ``data()`` through Python for every comparison and every filter test, which
takes seconds at 100k rows. Here the model keeps

* every row once (``_rows``, addressed by a stable row id), with a casefolded search text
  and, for the current sort column, a sort key, both computed when the row arrives;
* ``_order``: the live row ids in sort order (arrival order when unsorted);
* ``_visible``: ``_order`` narrowed by the building filter and the search, i.e. the rows shown.

so a search is one list comprehension over precomputed strings and a sort is one
``list.sort`` over precomputed keys.

References (a building's or a floor's key) are resolved through a shared :class:`Lookups`.
They are not part of a row's search text: a search term is matched against the lookup's
names once, giving a set of keys, and a row matches when its key is in that set. So when the
sites or locations arrive (or change) no row's text needs recomputing.
"""

from __future__ import annotations

import bisect
import functools
import heapq
import itertools
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    Signal,
)

from makini_desktop.api import resources as res
from makini_desktop.api.values import area_sort_key, display, display_area, sort_key

Row = dict[str, Any]
SortKey = tuple[int, Any]

SortRole = Qt.ItemDataRole.UserRole + 1
"""A native, comparable sort key: ``(rank, value)`` from :func:`values.sort_key`."""
RowRole = Qt.ItemDataRole.UserRole + 2
"""The whole record (a dict with every field the server sent)."""
KeyRole = Qt.ItemDataRole.UserRole + 3
"""The record's key."""

_NUMERIC = frozenset({res.Kind.INT, res.Kind.NUMBER, res.Kind.COUNT, res.Kind.AREA})
_ALIGN_RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
_ALIGN_LEFT = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
# values.sort_key's ranks: native values, text, empty cells.
_RANK_VALUE = 0
_RANK_TEXT = 1
_EMPTY_RANK = 2
_EMPTY_KEY: tuple[int, Any] = (_EMPTY_RANK, "")
KEY_SLICE_ROWS = 10_000
"""Rows whose sort keys are computed between two turns of the event loop."""
KEY_CACHE_COLUMNS = 4
"""Columns whose sort keys are kept (each costs a list of keys as long as the rows)."""
_SEP = "\x1f"  # between columns in a search text, so a term never spans two cells
TOOLTIP_MIN_CHARS = 30
"""Cells longer than this get their full text as a tooltip (the cell may be cut off)."""
SEARCH_SLICE_ROWS = 20_000
"""Rows a search filters between two turns of the event loop (a few ms of work)."""
BULK_CHANGE_ROWS = 2000
BULK_INSERT_ROWS = 64
"""Rows arriving at once into a sorted table above which one layout change replaces
row-by-row inserts."""
"""Above this many changed rows, a change set resets the model instead of row signals."""

_EMPTY_KEYS: frozenset[str] = frozenset()


class Lookups(QObject):
    """Names of the records other datasets refer to: site key → name, location key → name.

    Shared by every model of a connection. The sites and locations datasets fill it; models
    resolve ``Kind.REF`` columns through it and repaint when it changes.

    Signals:
        sig_changed(str): the dataset (``sites`` or ``locations``) whose names changed.
    """

    sig_changed = Signal(str)

    DATASETS: tuple[str, ...] = (res.SITES.name, res.LOCATIONS.name)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._names: dict[str, dict[str, str]] = {name: {} for name in self.DATASETS}
        self._folded: dict[str, list[tuple[str, str]] | None] = {}
        self._units: dict[str, Any] = {}  # site key -> areaUnit

    @staticmethod
    def _row_name(row: Mapping[str, Any]) -> str:
        for field in (res.F_NAME, "code"):
            value = row.get(field)
            if isinstance(value, str) and value.strip():
                return value
            if value is not None and not isinstance(value, dict | list) and value != "":
                return str(value)
        return ""

    def name(self, dataset: str, key: Any) -> str | None:
        """The name of the record ``key`` of ``dataset``, or None when it is not known."""
        if key is None:
            return None
        names = self._names.get(dataset)
        if names is None:
            return None
        return names.get(key if isinstance(key, str) else str(key))

    def names(self, dataset: str) -> Mapping[str, str]:
        """Every known key → name of a dataset (read-only view; do not modify)."""
        return self._names.get(dataset, {})

    def area_unit(self, site_key: Any) -> Any:
        """The area unit (``sqft``, ``m2``) of a building, or None when not known."""
        return None if site_key is None else self._units.get(str(site_key))

    def _keep_units(self, dataset: str, rows: Iterable[Mapping[str, Any]]) -> bool:
        if dataset != res.SITES.name:
            return False
        changed = False
        for row in rows:
            key, unit = row.get(res.F_KEY), row.get(res.F_AREA_UNIT)
            if key is not None and self._units.get(str(key)) != unit:
                self._units[str(key)] = unit
                changed = True
        return changed

    def is_loaded(self, dataset: str) -> bool:
        """True once any name of the dataset is known."""
        return bool(self._names.get(dataset))

    def set_rows(self, dataset: str, rows: Iterable[Mapping[str, Any]]) -> None:
        """Replace the names of a dataset with those of ``rows``."""
        rows = list(rows)
        names = {str(r[res.F_KEY]): self._row_name(r) for r in rows if r.get(res.F_KEY) is not None}
        if self._keep_units(dataset, rows) or names != self._names.get(dataset):
            self._names[dataset] = names
            self._changed(dataset)

    def update_rows(
        self,
        dataset: str,
        rows: Iterable[Mapping[str, Any]],
        deleted_keys: Iterable[str] = (),
    ) -> None:
        """Add or change the names of ``rows`` and forget ``deleted_keys``."""
        names = self._names.setdefault(dataset, {})
        rows = list(rows)
        changed = self._keep_units(dataset, rows)
        for row in rows:
            key = row.get(res.F_KEY)
            if key is None:
                continue
            key = str(key)
            name = self._row_name(row)
            if names.get(key) != name:
                names[key] = name
                changed = True
        for key in deleted_keys:
            if names.pop(key, None) is not None:
                changed = True
        if changed:
            self._changed(dataset)

    def retain(self, dataset: str, keys: set[str]) -> None:
        """Forget the names of a dataset's records whose keys are not in ``keys``."""
        names = self._names.get(dataset)
        if not names:
            return
        gone = [k for k in names if k not in keys]
        if gone:
            for key in gone:
                del names[key]
            self._changed(dataset)

    def clear(self) -> None:
        """Forget every name (the connection changed)."""
        had = [ds for ds, names in self._names.items() if names]
        self._names = {name: {} for name in self.DATASETS}
        self._units.clear()
        self._folded.clear()
        for dataset in had:
            self.sig_changed.emit(dataset)

    def matching_keys(self, dataset: str, needle: str) -> frozenset[str]:
        """Keys of the records whose name contains ``needle``, ignoring case."""
        needle = needle.casefold()
        folded = self._folded.get(dataset)
        if folded is None:
            folded = [(k, n.casefold()) for k, n in self._names.get(dataset, {}).items()]
            self._folded[dataset] = folded
        if not folded:
            return _EMPTY_KEYS
        return frozenset(k for k, n in folded if needle in n)

    def _changed(self, dataset: str) -> None:
        self._folded.pop(dataset, None)
        self.sig_changed.emit(dataset)


class _Desc:
    """Wraps a sort key so it compares in reverse (for bisecting a descending list)."""

    __slots__ = ("key",)

    def __init__(self, key: SortKey) -> None:
        self.key = key

    def __lt__(self, other: _Desc) -> bool:
        return other.key < self.key

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Desc) and other.key == self.key

    __hash__ = None  # type: ignore[assignment]


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

        self._ref_cols: list[tuple[int, str]] = [
            (i, c.ref) for i, c in enumerate(self.columns) if c.kind is res.Kind.REF and c.ref
        ]
        # Area columns show their building's unit, so they change with the sites' lookups.
        self._area_cols = [i for i, c in enumerate(self.columns) if c.kind is res.Kind.AREA]
        # The building a row belongs to: its siteKey, or its own key for the Buildings view.
        self._site_field = res.F_KEY if view.dataset is res.SITES else res.F_SITE_KEY
        self._searchable: list[int] = [i for i, c in enumerate(self.columns) if not c.hidden]
        self._text_readers: list[tuple[Callable[[Row], Any], Callable[[Any], str]]] = []
        self._readers = {c.id: (_getter(c), _formatter(c.kind)) for c in self.columns}
        self._keyers = [self._make_keyer(i) for i in range(len(self.columns))]
        self._prepare_readers()

        self._rows: list[Row | None] = []  # by row id; None once deleted
        self._ids: dict[str, int] = {}  # key -> row id
        self._text: list[str] = []  # by row id: casefolded text of searchable plain columns
        self._refkeys: dict[int, list[str | None]] = {i: [] for i, _ in self._ref_cols}
        self._site: list[str | None] = []
        self._order: list[int] = []  # live ids in sort order
        self._visible: list[int] = []  # ids shown, in display order

        self._sort_column = -1
        self._sort_order = Qt.SortOrder.AscendingOrder
        # Sort keys by row id, per column sorted by so far (the latest few): sorting again
        # by a column costs only the sort. _keys is the current sort column's list.
        self._key_cache: dict[int, list[SortKey]] = {}
        self._keys: list[SortKey] = []

        self._query = ""
        self._terms: list[str] = []
        self._version = 0  # bumped by every change of rows, order or filter
        self._ref_match_cache: dict[str, list[tuple[list[str | None], frozenset[str]]]] = {}
        self._building: str | None = None

    # -- Qt model interface -------------------------------------------------------------------

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._visible)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.columns)

    def flags(self, index: QModelIndex | QPersistentModelIndex) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return (
            Qt.ItemFlag.ItemIsEnabled
            | Qt.ItemFlag.ItemIsSelectable
            | Qt.ItemFlag.ItemNeverHasChildren
        )

    def data(
        self,
        index: QModelIndex | QPersistentModelIndex,
        role: int = Qt.ItemDataRole.DisplayRole,
    ) -> Any:
        # Called for a dozen roles per painted cell: the roles we do not serve return fast.
        if role == Qt.ItemDataRole.DisplayRole:
            rid = self._rid(index)
            if rid is None:
                return None
            return self._display(self._rows[rid], self.columns[index.column()])
        if role == Qt.ItemDataRole.TextAlignmentRole:
            if not index.isValid():
                return None
            return _ALIGN_RIGHT if self.columns[index.column()].kind in _NUMERIC else _ALIGN_LEFT
        if role == Qt.ItemDataRole.ToolTipRole:
            rid = self._rid(index)
            return None if rid is None else self._tooltip(self._rows[rid], index.column())
        if role == SortRole:
            rid = self._rid(index)
            if rid is None:
                return None
            return self._sort_key(self._rows[rid], index.column())
        if role == RowRole:
            rid = self._rid(index)
            return None if rid is None else self._rows[rid]
        if role == KeyRole:
            rid = self._rid(index)
            row = None if rid is None else self._rows[rid]
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
            col = self.columns[section]
            if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
                return col.header
            if role == Qt.ItemDataRole.TextAlignmentRole:
                return _ALIGN_RIGHT if col.kind in _NUMERIC else _ALIGN_LEFT
            return None
        if role == Qt.ItemDataRole.DisplayRole and 0 <= section < len(self._visible):
            return str(section + 1)
        return None

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        """Sort by a column's native values (-1: arrival order); selection follows its rows."""
        if column >= len(self.columns):
            return
        # Rows are kept in order as they arrive, so the same sort again has nothing to do
        # (QTableView asks twice per header click).
        if (column, order) == (self._sort_column, self._sort_order):
            return
        self._resort(column, order)

    def sort_steps(
        self,
        column: int,
        order: Qt.SortOrder = Qt.SortOrder.AscendingOrder,
        *,
        slice_rows: int = KEY_SLICE_ROWS,
    ) -> Iterator[None]:
        """:meth:`sort` in steps: a generator that yields between slices of work.

        The first sort by a column computes a key per row, and sorting 100k keys takes over
        100 ms; done a slice per turn of the event loop (keys in slices, then runs sorted
        one by one and merged a slice at a time), the window stays responsive. The rows are
        reordered in the last step, in one go. Dropping the generator early leaves the
        model as it was; if rows change meanwhile, the last step sorts them in one go.
        """
        if column >= len(self.columns) or (column, order) == (self._sort_column, self._sort_order):
            return
        if column < 0:
            self._resort(column, order)
            return
        step = max(1, slice_rows)
        version = self._version
        keys = self._key_cache.get(column)
        if keys is None:
            keyer = self._keyers[column]
            rows = self._rows
            keys = []
            for start in range(0, len(rows), step):
                keys.extend([
                    _EMPTY_KEY if row is None else keyer(row) for row in rows[start:start + step]
                ])
                yield
            if self._version != version or len(keys) != len(self._rows):
                self._resort(column, order)  # rows changed meanwhile: keys may be stale
                return
            self._key_cache[column] = keys
        ids = self._order
        if len(ids) <= 2 * step:
            self._resort(column, order)
            return
        descending = order == Qt.SortOrder.DescendingOrder
        key = keys.__getitem__
        runs = []
        for start in range(0, len(ids), 2 * step):
            runs.append(sorted(ids[start:start + 2 * step], key=key, reverse=descending))
            yield
        # heapq.merge is stable across runs, so rows that tie keep their previous order.
        merged = heapq.merge(*runs, key=key, reverse=descending)
        out: list[int] = []
        while True:
            chunk = list(itertools.islice(merged, 2 * step))
            out.extend(chunk)
            if len(chunk) < 2 * step:
                break
            yield
        if self._version != version:
            self._resort(column, order)
            return
        self._resort(column, order, _empties_last(out, keys) if descending else out)

    def _resort(
        self, column: int, order: Qt.SortOrder, new_order: list[int] | None = None
    ) -> None:
        self.layoutAboutToBeChanged.emit()
        old_visible = self._visible
        self._sort_column = column
        self._sort_order = order
        self._rebuild_keys()
        self._order = new_order if new_order is not None else self._sorted(self._order)
        if len(old_visible) == len(self._order):
            self._visible = list(self._order)  # nothing filtered out
        else:
            # Sorting changes no row's membership: keep the same rows, in the new order.
            shown = set(old_visible)
            self._visible = [i for i in self._order if i in shown]
        self._version += 1
        self._remap_persistent(old_visible)
        self.layoutChanged.emit()

    # -- reading ------------------------------------------------------------------------------

    @property
    def total(self) -> int:
        """Rows held (what the count label calls "of N")."""
        return len(self._ids)

    @property
    def sort_column(self) -> int:
        return self._sort_column

    @property
    def sort_order(self) -> Qt.SortOrder:
        return self._sort_order

    @property
    def building_filter(self) -> str | None:
        return self._building

    def row_at(self, row: int) -> Row:
        """The record shown at display row ``row``."""
        record = self._rows[self._visible[row]]
        assert record is not None
        return record

    def key_at(self, row: int) -> str:
        """The key of the record shown at display row ``row``."""
        return str(self.row_at(row)[res.F_KEY])

    def row_of_key(self, key: str) -> int:
        """The display row of a record, or -1 when it is not shown."""
        rid = self._ids.get(key)
        if rid is None:
            return -1
        try:
            return self._visible.index(rid)
        except ValueError:
            return -1

    def visible_rows(self) -> list[Row]:
        """The records shown, in display order (what an export of the tab writes)."""
        rows = self._rows
        return [rows[i] for i in self._visible]  # type: ignore[misc]

    def all_rows(self) -> list[Row]:
        """Every record held, in arrival order."""
        return [r for r in self._rows if r is not None]

    def display_text(self, row: int, column: int) -> str:
        """The text shown in a cell (what copying a cell puts on the clipboard)."""
        return self._display(self.row_at(row), self.columns[column])

    # -- filling --------------------------------------------------------------------------------

    def clear(self) -> None:
        """Drop every row (the connection changed)."""
        self.set_rows([])

    def set_rows(self, rows: Iterable[Row]) -> None:
        """Replace every row (a model reset: selection and scroll position are lost)."""
        self.beginResetModel()
        self._rows = []
        self._ids = {}
        self._text = []
        self._site = []
        self._key_cache = {c: [] for c in self._key_cache}
        self._keys = self._key_cache.get(self._sort_column, [])
        for refkeys in self._refkeys.values():
            refkeys.clear()
        accepts = self.view.accepts
        for row in rows:
            if row.get(res.F_KEY) is not None and accepts(row):
                if str(row[res.F_KEY]) in self._ids:
                    self._store_at(self._ids[str(row[res.F_KEY])], row)
                else:
                    self._store_new(row)
        self._order = self._sorted(self._live_ids())
        self._visible = self._filter(self._order)
        self._version += 1
        self.endResetModel()
        self._emit_counts()

    def append_rows(self, rows: Iterable[Row]) -> None:
        """Add rows as a page arrives: new rows are inserted in place, known keys updated."""
        new_ids: list[int] = []
        updates: list[Row] = []
        for row in rows:
            if not self.view.accepts(row):
                if str(row.get(res.F_KEY)) in self._ids:
                    updates.append(row)  # no longer belongs to the view: apply removes it
                continue
            key = row.get(res.F_KEY)
            if key is None:
                continue
            if str(key) in self._ids:
                updates.append(row)
            else:
                new_ids.append(self._store_new(row))
        if new_ids:
            self._insert_ids(new_ids)
        if updates:
            self.apply_changes(updates, ())
        elif new_ids:
            self._emit_counts()

    def apply_changes(self, upserts: Iterable[Row], deleted_keys: Iterable[str]) -> None:
        """Apply an incremental change set: changed or new rows, and deleted keys.

        A small change set keeps the selection and scroll position (row signals); a large
        one resets the model, which is cheaper than thousands of row signals.
        """
        upserts = list(upserts)
        deleted = [str(k) for k in deleted_keys if str(k) in self._ids]
        changed: list[tuple[int, Row]] = []
        new_rows: list[Row] = []
        for row in upserts:
            key = row.get(res.F_KEY)
            if key is None:
                continue
            key = str(key)
            rid = self._ids.get(key)
            if not self.view.accepts(row):
                if rid is not None:
                    deleted.append(key)
                continue
            if rid is None:
                new_rows.append(row)
            else:
                changed.append((rid, row))
        if not (deleted or changed or new_rows):
            return
        self._version += 1
        if len(deleted) + len(changed) + len(new_rows) > BULK_CHANGE_ROWS:
            self._apply_bulk(changed, new_rows, deleted)
            return

        pos = {rid: p for p, rid in enumerate(self._visible)} if (changed or deleted) else {}
        hide: set[int] = set()  # leave the display (their positions are in pos)
        reorder: list[int] = []  # leave _order and go back in at their new place
        gone: set[int] = set()  # deleted: leave _order and the display
        repaint: list[int] = []
        sorted_ = self._sort_column >= 0
        for rid, row in changed:
            was_shown = rid in pos
            old_key = self._keys[rid] if sorted_ else None
            self._store_at(rid, row)
            moved = sorted_ and self._keys[rid] != old_key
            shown = self._passes(rid)
            if moved or (shown and not was_shown):
                if was_shown:
                    hide.add(rid)
                reorder.append(rid)
            elif was_shown and shown:
                repaint.append(pos[rid])
            elif was_shown:
                hide.add(rid)
        for key in deleted:
            rid = self._ids.pop(key)
            gone.add(rid)
            self._rows[rid] = None
        hide |= {rid for rid in gone if rid in pos}

        # Repaint the rows that changed in place while their positions are still valid.
        for p in repaint:
            self.dataChanged.emit(self.index(p, 0), self.index(p, len(self.columns) - 1))
        # Remove from the bottom up so the positions above stay valid.
        for p in sorted((pos[rid] for rid in hide), reverse=True):
            self.beginRemoveRows(QModelIndex(), p, p)
            del self._visible[p]
            self.endRemoveRows()
        if gone or reorder:
            out = gone | set(reorder)
            self._order = [i for i in self._order if i not in out]
        new_ids = [self._store_new(row) for row in new_rows]
        if reorder or new_ids:
            self._insert_ids(reorder + new_ids)
        self._emit_counts()

    def replace_rows(self, rows: Sequence[Row]) -> None:
        """Bring the model to exactly ``rows`` with as few changes as possible.

        Used when a refresh ends and the table already shows (cached) rows: only the rows
        whose ``updatedAt`` differs, new rows and vanished rows are touched, so the user's
        selection and scroll position survive a refresh.
        """
        if not self._ids:
            self.set_rows(rows)
            return
        seen: set[str] = set()
        upserts = self.changed_rows(rows, seen)
        self.apply_changes(upserts, self.keys_not_in(seen))

    def changed_rows(self, rows: Iterable[Row], seen: set[str]) -> list[Row]:
        """The rows of a new list that are new or changed (by ``updatedAt``).

        The keys of every row of the view are added to ``seen``. A row equal to the one held
        replaces it silently (no repaint), so the model keeps the newest objects. Together
        with :meth:`keys_not_in` this lets a caller compare a long list in slices.
        """
        upserts: list[Row] = []
        ids = self._ids
        held = self._rows
        accepts = self.view.accepts
        for row in rows:
            key = row.get(res.F_KEY)
            if key is None or not accepts(row):
                continue
            key = str(key)
            seen.add(key)
            rid = ids.get(key)
            if rid is None:
                upserts.append(row)
                continue
            old = held[rid]
            if old is row:
                continue
            old_stamp, new_stamp = old.get(res.F_UPDATED), row.get(res.F_UPDATED)  # type: ignore[union-attr]
            if old_stamp != new_stamp or (new_stamp is None and old != row):
                upserts.append(row)
            else:
                held[rid] = row
        return upserts

    def keys_not_in(self, seen: set[str]) -> list[str]:
        """The keys held that are not in ``seen`` (rows a new list no longer has)."""
        return [k for k in self._ids if k not in seen]

    # -- searching and filtering ----------------------------------------------------------------

    def set_search(self, text: str) -> None:
        """Show only rows where every word of ``text`` appears in some visible column."""
        for _ in self.search_steps(text, slice_rows=0):
            pass

    def search_steps(self, text: str, *, slice_rows: int = SEARCH_SLICE_ROWS) -> Iterator[None]:
        """:meth:`set_search` in slices: a generator that yields after each slice of rows.

        The model changes only after the last slice, so a caller can run the slices on the
        event loop (``await asyncio.sleep(0)`` at each yield) and simply drop the generator
        when the user types again. If the rows changed meanwhile (a page arrived), the last
        step filters again in one go, so the result is never stale.

        Args:
            text: the search text.
            slice_rows: rows per slice; 0 for a single slice.
        """
        query = " ".join(text.split()).casefold()
        if query == self._query:
            return
        terms = query.split()
        # Typing one more letter can only narrow the result: filter what is shown.
        narrowing = bool(self._query) and query.startswith(self._query)
        base = self._visible if narrowing else self._order
        version = self._version
        step = slice_rows if slice_rows > 0 else max(1, len(base))
        shown: list[int] = []
        for start in range(0, len(base), step):
            shown.extend(self._filter(base[start:start + step], terms=terms,
                                      skip_building=narrowing))
            if start + step < len(base):
                yield
        self._query = query
        self._terms = terms
        self._ref_match_cache = {t: m for t, m in self._ref_match_cache.items() if t in terms}
        if self._version != version:
            shown = self._filter(self._order)
        self.beginResetModel()
        self._visible = shown if shown is not self._order else list(shown)
        self._version += 1
        self.endResetModel()
        self._emit_counts()

    def set_building_filter(self, site_key: str | None) -> None:
        """Show only rows of one building (None: every building)."""
        if site_key == self._building:
            return
        self._building = site_key
        self._refilter(self._order)

    def set_searchable_columns(self, columns: Iterable[int]) -> None:
        """The columns a search looks at (the visible ones); recomputes every row's text."""
        wanted = sorted(set(columns))
        if wanted == self._searchable:
            return
        self._searchable = wanted
        self._ref_match_cache = {}
        self._prepare_readers()
        self._text = [
            self._search_text(row) if row is not None else "" for row in self._rows
        ]
        if self._terms:
            self._refilter(self._order)

    def _refilter(self, base: list[int]) -> None:
        self.beginResetModel()
        self._visible = self._filter(base)
        self._version += 1
        self.endResetModel()
        self._emit_counts()

    def _passes(self, rid: int) -> bool:
        return bool(self._filter([rid]))

    def _filter(
        self,
        ids: list[int],
        *,
        terms: list[str] | None = None,
        skip_building: bool = False,
    ) -> list[int]:
        """The ids of ``ids`` that pass the building filter and every search term."""
        if self._building is not None and not skip_building:
            site = self._site
            building = self._building
            ids = [i for i in ids if site[i] == building]
        terms = self._terms if terms is None else terms
        if not terms:
            return ids if ids is not self._order else list(ids)
        text = self._text
        for term in terms:
            sets = self._ref_matches(term)
            # Unrolled by the number of reference columns: a generator per row would cost
            # more than the whole comprehension (100k rows must filter in a few ms).
            if not sets:
                ids = [i for i in ids if term in text[i]]
            elif len(sets) == 1:
                (r1, k1), = sets
                ids = [i for i in ids if term in text[i] or r1[i] in k1]
            elif len(sets) == 2:
                (r1, k1), (r2, k2) = sets
                ids = [i for i in ids if term in text[i] or r1[i] in k1 or r2[i] in k2]
            else:
                ids = [
                    i for i in ids
                    if term in text[i] or any(refs[i] in keys for refs, keys in sets)
                ]
            if not ids:
                break
        return ids

    def _ref_matches(self, term: str) -> list[tuple[list[str | None], frozenset[str]]]:
        """Per searchable reference column: its keys by row, and the keys whose name has
        ``term``. Cached until the terms or the names change."""
        cached = self._ref_match_cache.get(term)
        if cached is None:
            cached = []
            for col, dataset in self._ref_cols:
                if col in self._searchable:
                    keys = self.lookups.matching_keys(dataset, term)
                    if keys:
                        cached.append((self._refkeys[col], keys))
            self._ref_match_cache[term] = cached
        return cached

    # -- internals ------------------------------------------------------------------------------

    def _rid(self, index: QModelIndex | QPersistentModelIndex) -> int | None:
        if not index.isValid():
            return None
        row = index.row()
        if not 0 <= row < len(self._visible) or not 0 <= index.column() < len(self.columns):
            return None
        return self._visible[row]

    def _live_ids(self) -> list[int]:
        rows = self._rows
        if len(self._ids) == len(rows):  # nothing deleted
            return list(range(len(rows)))
        return [i for i in range(len(rows)) if rows[i] is not None]

    def _display(self, row: Row | None, col: res.Column) -> str:
        if row is None:
            return ""
        if col.kind is res.Kind.REF:
            raw = col.raw(row)
            if raw is None or col.ref is None:
                return ""
            # An unresolved key is left blank rather than shown raw: keys mean nothing to
            # a person, and the name appears as soon as the referenced list has loaded.
            return self.lookups.name(col.ref, raw) or ""
        if col.kind is res.Kind.AREA:
            return display_area(col.raw(row), self._area_unit(row))
        get, fmt = self._readers[col.id]
        return fmt(get(row))

    def _area_unit(self, row: Row) -> Any:
        """A row's own areaUnit (a building), else its building's."""
        unit = row.get(res.F_AREA_UNIT)
        return unit if unit else self.lookups.area_unit(row.get(res.F_SITE_KEY))

    def _tooltip(self, row: Row | None, column: int) -> str | None:
        if row is None:
            return None
        col = self.columns[column]
        text = self._display(row, col)
        if col.kind is res.Kind.REF:
            raw = col.raw(row)
            if raw is not None and not text and self.lookups.is_loaded(col.ref or ""):
                return f"Unknown {col.header.lower()} (key {raw})"
        if col.kind is res.Kind.DATETIME and text:
            return f"{text} (local time)"
        return text if len(text) > TOOLTIP_MIN_CHARS else None

    def _sort_key(self, row: Row | None, column: int) -> SortKey:
        if row is None:
            return (_EMPTY_RANK, "")
        col = self.columns[column]
        if col.kind is res.Kind.REF:
            return sort_key(res.Kind.TEXT, self._display(row, col))
        return sort_key(col.kind, col.raw(row))

    def _search_text(self, row: Row) -> str:
        # Runs for every row that arrives: per-column readers prepared once keep it cheap.
        return _SEP.join([fmt(get(row)) for get, fmt in self._text_readers]).casefold()

    def _prepare_readers(self) -> None:
        self._text_readers = [
            (_getter(self.columns[i]), _formatter(self.columns[i].kind))
            for i in self._searchable
            if self.columns[i].kind is not res.Kind.REF
        ]

    def _store_new(self, row: Row) -> int:
        rid = len(self._rows)
        self._rows.append(None)
        self._text.append("")
        self._site.append(None)
        for keys in self._key_cache.values():
            keys.append(_EMPTY_KEY)
        for refkeys in self._refkeys.values():
            refkeys.append(None)
        self._store_at(rid, row)
        self._ids[str(row[res.F_KEY])] = rid
        return rid

    def _store_at(self, rid: int, row: Row) -> None:
        self._rows[rid] = row
        self._text[rid] = self._search_text(row)
        site = row.get(self._site_field)
        self._site[rid] = None if site is None else str(site)
        for col, refkeys in self._refkeys.items():
            raw = self.columns[col].raw(row)
            refkeys[rid] = None if raw is None else str(raw)
        for col, keys in self._key_cache.items():
            keys[rid] = self._keyers[col](row)

    def _rebuild_keys(self) -> None:
        """Make ``_keys`` the sort column's keys, computing them unless cached."""
        column = self._sort_column
        if column < 0:
            self._keys = []
            return
        keys = self._key_cache.pop(column, None)
        if keys is None:
            keyer = self._keyers[column]
            keys = [_EMPTY_KEY if row is None else keyer(row) for row in self._rows]
        self._key_cache[column] = keys  # most recently used last
        while len(self._key_cache) > KEY_CACHE_COLUMNS:
            del self._key_cache[next(iter(self._key_cache))]
        self._keys = keys

    def _make_keyer(self, column: int) -> Callable[[Row], SortKey]:
        """``values.sort_key`` of a column for a row, with shortcuts for common values.

        Building the keys of 100k rows is what makes a first sort by a column slow; the
        shortcuts give exactly what ``sort_key`` gives, several times faster.
        """
        col = self.columns[column]
        kind = col.kind
        get = _getter(col)
        if kind is res.Kind.REF:
            ref = col.ref or ""
            names = self.lookups

            def ref_key(row: Row) -> SortKey:
                raw = get(row)
                name = names.name(ref, raw) if raw is not None else None
                return (_RANK_TEXT, name.casefold()) if name else _EMPTY_KEY

            return ref_key
        if kind is res.Kind.AREA:
            return lambda row: area_sort_key(get(row), self._area_unit(row))
        if kind is res.Kind.TEXT:

            def text_key(row: Row) -> SortKey:
                v = get(row)
                return (_RANK_TEXT, v.casefold()) if v.__class__ is str and v else sort_key(kind, v)

            return text_key
        if kind in (res.Kind.INT, res.Kind.NUMBER):

            def number_key(row: Row) -> SortKey:
                v = get(row)
                return (_RANK_VALUE, float(v)) if v.__class__ is int else sort_key(kind, v)

            return number_key
        cached = _cached_sort_key(kind)

        def any_key(row: Row) -> SortKey:
            v = get(row)
            return cached(v) if v.__class__ is str else sort_key(kind, v)

        return any_key

    def _sorted(self, ids: list[int]) -> list[int]:
        """``ids`` in display order; empty cells last in both directions.

        The sort is stable: rows that tie keep the order they had (sorting by building after
        sorting by name groups each building's rows by name, as in a file manager).
        """
        if self._sort_column < 0:
            return sorted(ids)  # arrival order
        keys = self._keys
        descending = self._sort_order == Qt.SortOrder.DescendingOrder
        out = sorted(ids, key=keys.__getitem__, reverse=descending)
        return _empties_last(out, keys) if descending else out

    def _display_key(self) -> Callable[[int], Any]:
        """A key that is ascending along the display order (for bisecting)."""
        keys = self._keys
        if self._sort_order == Qt.SortOrder.DescendingOrder:
            return lambda i: (keys[i][0] == _EMPTY_RANK, _Desc(keys[i]))
        return keys.__getitem__

    def _insert_ids(self, ids: list[int]) -> None:
        """Put stored rows into ``_order`` and, when they pass the filter, into view."""
        self._version += 1
        if self._sort_column < 0:
            self._order.extend(ids)
            shown = self._filter(ids)
            if shown:
                first = len(self._visible)
                self.beginInsertRows(QModelIndex(), first, first + len(shown) - 1)
                self._visible.extend(shown)
                self.endInsertRows()
            return
        dkey = self._display_key()
        ids = sorted(ids, key=dkey)
        self._order = _merged(self._order, ids, dkey)
        shown = self._filter(ids)
        if len(shown) > 1 and not self._visible:
            self.beginInsertRows(QModelIndex(), 0, len(shown) - 1)
            self._visible = shown
            self.endInsertRows()
            return
        if len(shown) > BULK_INSERT_ROWS:
            # Thousands of one-row inserts cost far more than one layout change; the
            # selection and current row follow their rows (persistent indexes remapped).
            self.layoutAboutToBeChanged.emit()
            old_visible = self._visible
            self._visible = _merged(old_visible, shown, dkey)
            self._remap_persistent(old_visible)
            self.layoutChanged.emit()
            return
        for rid in shown:
            p = bisect.bisect_right(self._visible, dkey(rid), key=dkey)
            self.beginInsertRows(QModelIndex(), p, p)
            self._visible.insert(p, rid)
            self.endInsertRows()

    def _apply_bulk(
        self, changed: list[tuple[int, Row]], new_rows: list[Row], deleted: list[str]
    ) -> None:
        self.beginResetModel()
        for rid, row in changed:
            self._store_at(rid, row)
        for key in deleted:
            rid = self._ids.pop(key)
            self._rows[rid] = None
        for row in new_rows:
            self._store_new(row)
        self._order = self._sorted(self._live_ids())
        self._visible = self._filter(self._order)
        self.endResetModel()
        self._emit_counts()

    def _remap_persistent(self, old_visible: list[int]) -> None:
        persistent = self.persistentIndexList()
        if not persistent:
            return
        visible = self._visible
        pos: dict[int, int] | None = None
        if len(persistent) > 32:  # a big selection: one pass over the rows beats many scans
            pos = {rid: p for p, rid in enumerate(visible)}
        new_indexes = []
        for index in persistent:
            row = index.row()
            rid = old_visible[row] if 0 <= row < len(old_visible) else None
            new_row: int | None = None
            if rid is not None:
                if pos is not None:
                    new_row = pos.get(rid)
                else:
                    try:
                        new_row = visible.index(rid)
                    except ValueError:
                        new_row = None
            new_indexes.append(
                QModelIndex() if new_row is None else self.index(new_row, index.column())
            )
        self.changePersistentIndexList(persistent, new_indexes)

    def _emit_counts(self) -> None:
        self.sig_counts_changed.emit(len(self._visible), len(self._ids))

    def _on_lookups_sig_changed(self, dataset: str) -> None:
        cols = [c for c, ds in self._ref_cols if ds == dataset]
        if dataset == res.SITES.name:
            cols += self._area_cols
        if not cols:
            return
        self._version += 1  # a search running in slices matched against the old names
        self._ref_match_cache = {}
        for col in cols:
            self._key_cache.pop(col, None)  # keys of a reference column are its names
        if self._sort_column in cols:
            self._resort(self._sort_column, self._sort_order)  # names changed: so did the order
        if self._terms and any(c in self._searchable for c in cols):
            self._refilter(self._order)
        elif self._visible:
            last = len(self._visible) - 1
            for col in cols:
                self.dataChanged.emit(
                    self.index(0, col), self.index(last, col), [Qt.ItemDataRole.DisplayRole]
                )


def _merged(base: list[int], new: list[int], key: Callable[[int], Any]) -> list[int]:
    """``base`` with the ``new`` ids put in place; both are in display order.

    A bisect per new row (Python key calls: k·log n) and slice copies (C speed: n), where a
    list insert per row would move the whole tail each time, and a full merge would call
    the key for every row of a 100k table on every page. A new row goes after the rows it
    ties with, as ``bisect_right`` puts it.
    """
    if not new:
        return base
    out: list[int] = []
    start = 0
    for rid in new:
        pos = bisect.bisect_right(base, key(rid), lo=start, key=key)
        out.extend(base[start:pos])
        out.append(rid)
        start = pos
    out.extend(base[start:])
    return out


def _empties_last(ids: list[int], keys: list[SortKey]) -> list[int]:
    """Move the empty cells that lead a descending list to its end (empties rank highest)."""
    n = 0
    while n < len(ids) and keys[ids[n]][0] == _EMPTY_RANK:
        n += 1
    return ids[n:] + ids[:n] if n else ids


def _getter(col: res.Column) -> Callable[[Row], Any]:
    """A fast reader of a column's raw value (a plain ``dict.get`` for a one-field column)."""
    if len(col.fields) == 1 and "." not in col.fields[0]:
        name = col.fields[0]
        # Column.raw treats "" as empty; display() shows "" for both, so .get is equivalent.
        return lambda row: row.get(name)
    return col.raw


@functools.lru_cache(maxsize=1 << 16)
def _display_datetime(value: Any) -> str:
    # Parsing and local-time formatting cost ~8 µs; timestamps repeat a lot (quarter hours).
    return display(res.Kind.DATETIME, value)


@functools.cache
def _cached_sort_key(kind: res.Kind) -> Callable[[str], SortKey]:
    """``sort_key`` of a kind for strings, memoised (dates and codes repeat a lot)."""

    @functools.lru_cache(maxsize=1 << 16)
    def key(value: str) -> SortKey:
        return sort_key(kind, value)

    return key


def _formatter(kind: res.Kind) -> Callable[[Any], str]:
    """``values.display`` for a kind, with shortcuts for the common cases."""
    if kind is res.Kind.TEXT:
        return lambda v: v if v.__class__ is str else display(res.Kind.TEXT, v)
    if kind is res.Kind.DATETIME:
        return lambda v: _display_datetime(v) if v.__class__ is str else display(kind, v)
    return functools.partial(display, kind)


def count_label(view: res.View, shown: int, total: int) -> str:
    """``1,204 of 5,530 spaces``, or ``5,530 spaces`` when nothing is filtered out."""
    singular, plural = view.noun
    noun = singular if total == 1 else plural
    if shown == total:
        return f"{total:,} {noun}"
    return f"{shown:,} of {total:,} {noun}"
