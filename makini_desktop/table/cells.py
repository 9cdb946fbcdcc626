"""What a cell of a view shows and how it sorts: text, tooltip, sort key, search text.

:class:`Cells` is built from a view's columns and the shared :class:`~.lookups.Lookups`. Its
text comes from :func:`makini_desktop.api.values.display` and its sort keys from
:func:`makini_desktop.api.values.sort_key`; :meth:`Cells.keyer` gives the same keys several
times faster, because building the keys of 100k rows is what makes a first sort slow.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from makini_desktop.api import resources as res
from makini_desktop.api.values import area_sort_key, display, display_area, sort_key
from makini_desktop.table.collate import collation_key, remembered_key, tiebroken
from makini_desktop.table.lookups import Lookups

Row = dict[str, Any]
SortKey = tuple[int, Any]

NUMERIC_KINDS = frozenset({res.Kind.INT, res.Kind.NUMBER, res.Kind.COUNT, res.Kind.AREA})
"""Kinds shown right-aligned."""
# values.sort_key's ranks: native values, text, empty cells.
RANK_VALUE = 0
RANK_TEXT = 1
EMPTY_RANK = 2
EMPTY_KEY: SortKey = (EMPTY_RANK, "")
TOOLTIP_MIN_CHARS = 30
"""Cells longer than this get their full text as a tooltip (the cell may be cut off)."""
_SEP = "\x1f"  # between columns in a search text, so a term never spans two cells


class Cells:
    """The text, tooltip and sort key of each cell of a view's rows.

    Args:
        columns: the view's columns (hidden ones included).
        lookups: names for ``Kind.REF`` columns and buildings' area units.
    """

    def __init__(self, columns: Sequence[res.Column], lookups: Lookups) -> None:
        self.columns = tuple(columns)
        self.lookups = lookups
        self._readers = {c.id: (_getter(c), formatter(c.kind)) for c in self.columns}

    def is_numeric(self, column: int) -> bool:
        """True for a column shown right-aligned (numbers, counts, areas)."""
        return self.columns[column].kind in NUMERIC_KINDS

    def text(self, row: Row | None, column: int) -> str:
        """The text a cell shows ("" for no row)."""
        if row is None:
            return ""
        col = self.columns[column]
        if col.kind is res.Kind.REF:
            raw = col.raw(row)
            if raw is None or col.ref is None:
                return ""
            # An unresolved key is left blank rather than shown raw: keys mean nothing to
            # a person, and the name appears as soon as the referenced list has loaded.
            return self.lookups.name(col.ref, raw) or ""
        if col.kind is res.Kind.AREA:
            return display_area(col.raw(row), self.area_unit(row))
        get, fmt = self._readers[col.id]
        return fmt(get(row))

    def area_unit(self, row: Row) -> Any:
        """A row's own areaUnit (a building), else its building's."""
        unit = row.get(res.F_AREA_UNIT)
        return unit if unit else self.lookups.area_unit(row.get(res.F_SITE_KEY))

    def tooltip(self, row: Row | None, column: int) -> str | None:
        """A cell's tooltip: its full text when long, the local-time note, an unknown key."""
        if row is None:
            return None
        col = self.columns[column]
        text = self.text(row, column)
        if col.kind is res.Kind.REF:
            raw = col.raw(row)
            if raw is not None and not text and self.lookups.is_loaded(col.ref or ""):
                return f"Unknown {col.header.lower()} (key {raw})"
        if col.kind is res.Kind.DATETIME and text:
            return f"{text} (local time)"
        return text if len(text) > TOOLTIP_MIN_CHARS else None

    def sort_key(self, row: Row | None, column: int) -> SortKey:
        """``values.sort_key`` of a cell: a native, comparable ``(rank, value)``."""
        if row is None:
            return EMPTY_KEY
        col = self.columns[column]
        if col.kind is res.Kind.REF or col.kind is res.Kind.TEXT:
            return self.keyer(column)(row)  # natural, accent-insensitive (table.collate)
        return sort_key(col.kind, col.raw(row))

    def keyer(self, column: int) -> Callable[[Row], SortKey]:
        """:meth:`sort_key` of a column for a row, with shortcuts for common values.

        The shortcuts give exactly what ``sort_key`` gives, several times faster.
        """
        col = self.columns[column]
        kind = col.kind
        get = _getter(col)
        if kind is res.Kind.REF:
            ref = col.ref or ""
            names = self.lookups
            by_level = ref == res.LOCATIONS.name  # floors sort by their numeric level

            def ref_key(row: Row) -> SortKey:
                raw = get(row)
                name = names.name(ref, raw) if raw is not None else None
                if not name:
                    return EMPTY_KEY
                level = names.level(raw) if by_level else None
                if level is not None:
                    return (RANK_VALUE, (level, collation_key(name)))
                return (RANK_TEXT, collation_key(name))

            return ref_key
        if kind is res.Kind.AREA:
            area_unit = self.area_unit
            return lambda row: area_sort_key(get(row), area_unit(row))
        if kind is res.Kind.TEXT:
            first = col.sort_first

            def text_key(row: Row) -> SortKey:
                v = get(row)
                if v.__class__ is not str:  # odd types sort as the text they show
                    v = "" if v is None else display(kind, v)
                if not v:
                    return EMPTY_KEY
                if first is not None:
                    n = row.get(first)
                    if n.__class__ is int:
                        return (RANK_VALUE, (n, collation_key(v)))
                return (RANK_TEXT, collation_key(v))

            return text_key
        if kind in (res.Kind.INT, res.Kind.NUMBER):

            def number_key(row: Row) -> SortKey:
                v = get(row)
                return (RANK_VALUE, float(v)) if v.__class__ is int else sort_key(kind, v)

            return number_key
        cached = _cached_sort_key(kind)

        def any_key(row: Row) -> SortKey:
            v = get(row)
            return cached(v) if v.__class__ is str else sort_key(kind, v)

        return any_key

    def tied_keyer(self, column: int, name_field: str | None) -> Callable[[Row], Any]:
        """:func:`~.collate.tiebroken` of :meth:`keyer`: the keys a sorted table keeps.

        A plain text column read from one field (a name, a tag: what every tab sorts by
        first) gets the same keys from one function, which builds the 100k keys of a
        start from the cache in about half the time (no call per layer, no key
        remembered twice); other columns get the layers.
        """
        general = tiebroken(self.keyer(column), name_field)
        col = self.columns[column]
        if (col.kind is not res.Kind.TEXT or col.sort_first is not None
                or len(col.fields) != 1 or "." in col.fields[0]):
            return general
        field, key_field, rank = col.fields[0], res.F_KEY, RANK_TEXT

        def key(row: Row) -> Any:
            text = row.get(field)
            if text.__class__ is not str or not text:
                return general(row)  # empty, or an odd type: shown (and sorted) as text
            folded = remembered_key(text)
            if folded is None:
                folded = collation_key(text)
            rid = row.get(key_field)
            rid = rid if rid.__class__ is str else str(rid)
            if name_field is None:
                return (rank, folded, rid)
            name = row.get(name_field)
            return (rank, folded, name.casefold() if name.__class__ is str else "", rid)

        return key

    def search_text(self, columns: Iterable[int]) -> Callable[[Row], str]:
        """A reader of a row's casefolded search text over ``columns``.

        Reference columns are left out: a search matches them through the lookups' names
        (so a renamed building needs no row's text recomputed). It runs for every row that
        arrives, so the per-column readers are prepared once.
        """
        readers = [
            (_getter(self.columns[i]), formatter(self.columns[i].kind))
            for i in columns
            if self.columns[i].kind is not res.Kind.REF
        ]

        def text(row: Row) -> str:
            return _SEP.join([fmt(get(row)) for get, fmt in readers]).casefold()

        return text


def count_label(view: res.View, shown: int, total: int) -> str:
    """``1,204 of 5,530 spaces``, or ``5,530 spaces`` when nothing is filtered out."""
    singular, plural = view.noun
    noun = singular if total == 1 else plural
    if shown == total:
        return f"{total:,} {noun}"
    return f"{shown:,} of {total:,} {noun}"


def formatter(kind: res.Kind) -> Callable[[Any], str]:
    """``values.display`` for a kind, with shortcuts for the common cases."""
    if kind is res.Kind.TEXT:
        return lambda v: v if v.__class__ is str else display(res.Kind.TEXT, v)
    if kind is res.Kind.DATETIME:
        return lambda v: _display_datetime(v) if v.__class__ is str else display(kind, v)
    return functools.partial(display, kind)


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
