"""What a :class:`~.rowindex.RowIndex` shows of its rows: search, building, filters.

:class:`Narrowing` is the part of the row index that narrows its order (``_order``, every
live row in sort order) to :attr:`visible`, the rows shown: the building filter, the filter
boxes' row filter (:mod:`~.filters`), a saved view's own criterion (:mod:`~.criteria`) and
the search terms (:mod:`~.query`, matched by :class:`~.search.SearchText`). Long filters run
in slices (``*_steps`` generators) between which a caller turns its event loop; the index
changes only after the last slice.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterable
from types import EllipsisType

from makini_desktop.table.cells import Row
from makini_desktop.table.plan import Plan, Reset
from makini_desktop.table.query import Query, parse
from makini_desktop.table.search import SearchText
from makini_desktop.table.slicing import SLICE_BUDGET_S, TimeSlice, run_steps

__all__ = ["SEARCH_SLICE_ROWS", "SLICE_BUDGET_S", "Narrowing", "run_steps"]

SEARCH_SLICE_ROWS = 5_000
"""Rows a search or a filter box narrows at most between two turns of the event loop; a
slice also ends after :data:`~.slicing.SLICE_BUDGET_S` (a test costs 0.1-3 µs a row: a
word over precomputed text, a saved view's date parsed per row)."""
CHUNK_ROWS = 500
"""Rows tested between two looks at the clock."""


class Narrowing:
    """Search and filters of a :class:`~.rowindex.RowIndex` (a mixin of it)."""

    rows: list[Row | None]
    visible: list[int]
    _order: list[int]
    _version: int
    _query: str
    _terms: Query
    _search: SearchText
    _row_filter: Callable[[Row], bool] | None
    _criterion: Callable[[Row], bool] | None
    _building: str | None
    _site: list[str | None]

    def search(self, text: str) -> Plan:
        """Show only rows where every word of ``text`` appears in some searchable column."""
        return run_steps(self.search_steps(text, slice_rows=0))

    def search_steps(
        self, text: str, *, slice_rows: int = SEARCH_SLICE_ROWS
    ) -> Generator[None, None, Plan]:
        """:meth:`search` in slices: a generator that yields after each slice of rows.

        The index changes only after the last slice, so a caller can run the slices on its
        event loop and simply drop the generator when the user types again. If the rows
        changed meanwhile (a page arrived), the last step filters again in one go, so the
        result is never stale. The generator returns its plan.

        Args:
            text: the search text.
            slice_rows: rows per slice; 0 for a single slice.
        """
        query = " ".join(text.split())
        if query == self._query:
            return Plan()
        terms = parse(query, self._search.headings())
        # Typing one more letter of a word can only narrow the result: filter what is shown.
        narrowing = terms.narrows(self._terms)
        base = self.visible if narrowing else self._order
        version = self._version
        if slice_rows > 0 and terms:  # texts not yet computed, in slices
            yield from self._search.prepare_steps(base, query=terms, rows=self.rows)
        shown = yield from _in_slices(
            base, slice_rows,
            lambda ids: self._filter(ids, terms=terms, skip_building=narrowing))
        self._query = query
        self._terms = terms
        self._search.forget_matches(keep=terms)
        if self._version != version:
            shown = self._filter(self._order)
        self.visible = shown if shown is not self._order else list(shown)
        self._version += 1
        return Plan([Reset(list(self.visible))], counts_changed=True)

    def set_row_filter(self, row_filter: Callable[[Row], bool] | None) -> Plan:
        """Show only rows that pass ``row_filter`` too (None: no such filter)."""
        return run_steps(self.row_filter_steps(row_filter, slice_rows=0))

    def row_filter_steps(
        self, row_filter: Callable[[Row], bool] | None, *, slice_rows: int = SEARCH_SLICE_ROWS
    ) -> Generator[None, None, Plan]:
        """:meth:`set_row_filter` in slices, as :meth:`search_steps` (same guarantees)."""
        base, version = self._order, self._version
        shown = yield from _in_slices(
            base, slice_rows, lambda ids: self._filter(ids, row_filter=row_filter))
        self._row_filter = row_filter
        self.visible = shown if self._version == version else self._filter(self._order)
        self._version += 1
        return Plan([Reset(list(self.visible))], counts_changed=True)

    def building_rows(self) -> list[Row]:
        """Every record held in the building shown (all of them for every building), in
        arrival order, whatever the search and the filters leave (the front desk's day)."""
        site, building = self._site, self._building
        return [row for rid, row in enumerate(self.rows)
                if row is not None and (building is None or site[rid] == building)]

    def set_building(self, site_key: str | None) -> Plan:
        """Show only rows of one building (None: every building)."""
        if site_key == self._building:
            return Plan()
        self._building = site_key
        return self._refilter()

    def set_criterion(self, predicate: Callable[[Row], bool] | None) -> Plan:
        """Show only rows ``predicate`` accepts, beside the other filters (None: no
        criterion); a saved view's criteria that no filter box offers (table/criteria.py)."""
        if predicate is None and self._criterion is None:
            return Plan()
        self._criterion = predicate
        return self._refilter()

    def set_searchable_columns(self, columns: Iterable[int]) -> Plan:
        """The columns a search looks at (the visible ones); recomputes every row's text."""
        if not self._search.set_columns(columns, self.rows):
            return Plan()
        self._terms = parse(self._query, self._search.headings())  # field: names shown ones
        return self._refilter() if self._terms else Plan()

    def _refilter(self) -> Plan:
        self.visible = self._filter(self._order)
        self._version += 1
        return Plan([Reset(list(self.visible))], counts_changed=True)

    def _passes(self, rid: int) -> bool:
        return bool(self._filter([rid]))

    def _filter(
        self,
        ids: list[int],
        *,
        terms: Query | None = None,
        skip_building: bool = False,
        row_filter: Callable[[Row], bool] | None | EllipsisType = ...,
    ) -> list[int]:
        """The ids of ``ids`` that pass the building and row filters and every search term."""
        if self._building is not None and not skip_building:
            site = self._site
            building = self._building
            ids = [i for i in ids if site[i] == building]
        passes, rows = self._row_filter if row_filter is ... else row_filter, self.rows
        if passes is not None and not skip_building:
            select = getattr(passes, "select", None)  # a filter box's: a test per list
            if select is not None:
                ids = select(ids, rows)
            else:
                ids = [i for i in ids if passes(rows[i])]  # type: ignore[arg-type]  # live ids
        if self._criterion is not None and not skip_building:
            rows, accepts = self.rows, self._criterion
            ids = [i for i in ids if accepts(rows[i])]  # type: ignore[arg-type]  # live ids
        terms = self._terms if terms is None else terms
        if not terms:
            return ids if ids is not self._order else list(ids)
        return self._search.matching(ids, terms, self.rows)


def _in_slices(
    ids: list[int], slice_rows: int, narrow: Callable[[list[int]], list[int]]
) -> Generator[None, None, list[int]]:
    """``narrow(ids)`` a slice at a time (``slice_rows`` rows at most, and about
    :data:`~.slicing.SLICE_BUDGET_S` of time), yielding after each slice, the last one
    included: the view's change then has a turn of the event loop of its own.
    ``slice_rows`` 0: in one go."""
    if slice_rows <= 0:
        return narrow(ids)
    shown: list[int] = []
    chunk = min(slice_rows, CHUNK_ROWS)
    clock = TimeSlice(SLICE_BUDGET_S)
    rows_left = slice_rows
    for start in range(0, len(ids), chunk):
        shown.extend(narrow(ids[start:start + chunk]))
        rows_left -= chunk
        if rows_left <= 0 or clock.over() or start + chunk >= len(ids):
            yield
            clock.restart()
            rows_left = slice_rows
    return shown
