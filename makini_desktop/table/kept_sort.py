"""A table's sort kept beside the cache's rows, and taken back only when it fits.

A start from the cache spends most of its table work on two things: a sort key per row
(natural, accent-insensitive text: 100k keys of the Assets tab take 0.3 s) and one sort of
them. Both come out the same on every start of an unchanged list, so once a table has
placed a list read whole from its row image (``store/row_image.py``), it keeps the order
and the keys beside that image; the next start takes them instead.

What is kept never decides what is shown without a check (:func:`taken_keys`,
:func:`in_order_steps`):

* the spec names the view, the column, the direction and :data:`KEY_VERSION`; a key that
  depends on the lookups (a building's name, an area's unit) is never kept;
* the rows must be the ones the keys were made for: as many, and a sample of them whose
  keys, computed afresh, equal the kept ones;
* the order must hold every row once and be in order by the keys (one comparison a row, in
  slices); otherwise the rows are sorted as if nothing had been kept.

The row's key (its last element, the same string as the row's own) is not stored: it is put
back from the row, so the keys share it, as computed keys do.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Generator, Sequence
from typing import Any, Final, cast

from makini_desktop.api import resources as res
from makini_desktop.table.cells import EMPTY_KEY, SortKey
from makini_desktop.table.ordering import display_key
from makini_desktop.table.slicing import TimeSlice

KEY_CHUNK_ROWS: Final = 100
"""Rows whose sort keys are computed between two looks at the clock."""

__all__ = ["KEY_VERSION", "UNKEYED", "KeptSort", "in_order_steps", "kept", "spec", "taken_keys"]

KEY_VERSION: Final = 1
"""The form of the kept keys: raise it when a keyer (``table/cells.py``) or the collation
(``table/collate.py``) changes what it gives, so no start takes keys of the old form."""
SAMPLE_ROWS: Final = 64
"""Rows whose kept keys are checked against keys computed afresh."""
CHECK_SLICE_ROWS: Final = 20_000
"""Rows whose order is checked between two turns of the event loop (about 3 ms)."""

UNKEYED: SortKey = cast("SortKey", ())
"""The sort key of a row staged without one (``RowIndex.stage``), until it is placed."""

Row = dict[str, Any]


def spec(view: res.View, column: int, descending: bool) -> str | None:
    """What a sort by ``column`` is, as kept; None when its keys cannot be kept (no column,
    or one shown through the lookups, whose names change without the rows)."""
    if not 0 <= column < len(view.columns):
        return None
    if view.columns[column].kind in (res.Kind.REF, res.Kind.AREA):
        return None
    return f"{view.name}|{view.columns[column].id}|{int(descending)}|k{KEY_VERSION}"


def kept(order: list[int], keys: Sequence[SortKey]) -> tuple[list[int], list[Any]]:
    """What is kept of a sort: a copy of the order, and the keys without their last
    element (the row's key)."""
    return list(order), [k[:-1] for k in keys]


def taken_keys(
    payload: Any, rows: Sequence[Row | None], keyer: Callable[[Row], SortKey]
) -> tuple[list[SortKey], list[int]] | None:
    """The keys and order of a kept sort of ``rows`` (every one held), or None when it
    does not fit them: the wrong shape or count, an order that is not every row once, or
    a sampled row whose key computed now differs."""
    if type(payload) is not tuple or len(payload) != 2:
        return None
    order, stored = payload
    n = len(rows)
    if type(order) is not list or type(stored) is not list or len(order) != n \
            or len(stored) != n or set(order) != set(range(n)):
        return None
    field = res.F_KEY
    try:  # the row's key as the keyers give it: the same str object (or its text)
        keys = [(*k, rid if (rid := row[field]).__class__ is str else str(rid))  # type: ignore[index]
                for k, row in zip(stored, rows, strict=True)]
    except (TypeError, KeyError):  # a stored key that is no tuple, a deleted row
        return None
    step = max(1, n // SAMPLE_ROWS)
    for i in [*range(0, n, step), n - 1]:
        row = rows[i]
        if row is None or keys[i] != keyer(row):
            return None
    return keys, order


def in_order_steps(
    ids: list[int], keys: Sequence[SortKey], descending: bool
) -> Generator[None, None, bool]:
    """Whether ``ids`` are in display order by ``keys`` (see :mod:`.ordering`), checked a
    slice at a time: a generator that yields between slices and returns the answer."""
    key = display_key(keys, descending)
    for start in range(0, len(ids), CHECK_SLICE_ROWS):
        part = list(map(key, ids[start:start + CHECK_SLICE_ROWS + 1]))
        if any(map(operator.lt, part[1:], part)):  # a row before one it should follow
            return False
        yield
    return True


class KeptSort:
    """Placing staged rows by a kept sort, and keeping one: the part of
    :class:`~.rowindex.RowIndex` this module is about (a mixin of it).

    Rows staged unkeyed (``RowIndex.stage(keyed=False)``) hold :data:`UNKEYED` in the sort
    column's keys, their ids in ``_unkeyed`` (ranges), until ``place_staged_steps`` takes
    their keys from a kept sort (:meth:`_take_sort`) or computes them
    (:meth:`_key_unkeyed_steps`).
    """

    view: res.View
    rows: list[Row | None]
    _ids: dict[str, int]
    _order: list[int]
    _keys: list[SortKey]
    _key_cache: dict[int, list[SortKey]]
    _keyers: list[Callable[[Row], SortKey]]
    _sort_column: int
    _descending: bool
    _deferred: tuple[int, bool] | None
    _unkeyed: list[tuple[int, int]]
    _unkeyed_col: int
    _sort_taken: bool

    @property
    def sort_column(self) -> int:
        raise NotImplementedError  # RowIndex's

    @property
    def descending(self) -> bool:
        raise NotImplementedError  # RowIndex's

    def sort_spec(self) -> str | None:
        """What the current sort is, as kept (see :func:`spec`)."""
        return spec(self.view, self.sort_column, self.descending)

    def kept_sort(self) -> tuple[str, Any] | None:
        """The sort to keep beside the cache's rows after :meth:`place_staged_steps` (its
        spec, and the order and keys), or None: none to keep (unsorted, keys shown through
        the lookups, rows deleted) or nothing new (the order placed was a kept one)."""
        what = self.sort_spec()
        if what is None or self._sort_taken or self._unkeyed or self._deferred is not None \
                or len(self._ids) != len(self.rows) or len(self._keys) != len(self.rows):
            return None
        return what, kept(self._order, self._keys)

    def _take_sort(self, sort: tuple[str, Any] | None) -> list[int] | None:
        """The keys of the unkeyed rows from a kept sort that fits every row held (they are
        then keyed), and its order; else None."""
        column = self._sort_column
        if sort is None or self._unkeyed_col != column or len(self._ids) != len(self.rows) \
                or sort[0] != spec(self.view, column, self._descending):
            return None
        found = taken_keys(sort[1], self.rows, self._keyers[column])
        if found is None:
            return None
        self._keys, order = found
        self._key_cache[column] = self._keys
        self._unkeyed = []
        return order

    def _key_unkeyed_steps(self, slice_rows: int) -> Generator[None, None, None]:
        """Compute the sort keys :meth:`stage` left out, a slice at a time."""
        clock = TimeSlice()
        while self._unkeyed:
            keys, rows = self._key_cache.get(self._unkeyed_col), self.rows  # as of now
            if keys is None:  # no longer kept (sorted by other columns since)
                break
            keyer = self._keyers[self._unkeyed_col]
            start, end = self._unkeyed[-1]  # left in the list until keyed (a sort meanwhile
            stop = min(end, start + KEY_CHUNK_ROWS)  # keys what is left: see _sorted)
            keys[start:stop] = [EMPTY_KEY if row is None else keyer(row)
                                for row in rows[start:stop]]
            if stop == end:
                self._unkeyed.pop()
            else:
                self._unkeyed[-1] = (stop, end)
            if slice_rows and clock.over():
                yield
                clock.restart()
        self._unkeyed = []

