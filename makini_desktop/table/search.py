"""A view's search: each row's search text, and the rows where every term of a query appears.

References (a building's or a floor's key) are not part of a row's text: a term is matched
against the lookup's names once, giving a set of keys, and a row matches when its key is in
that set. So when the sites or locations arrive (or change) no row's text is recomputed,
only the matches are forgotten (:meth:`SearchText.forget_matches`).

A row's text is computed when it is first searched, not when the row arrives: formatting
every cell of 100k rows costs more than a second, and a start from the cache would spend it
before the user typed anything. :meth:`SearchText.prepare_steps` computes the texts a
search is about to need in slices, so the first search does not block the loop either.
"""

from __future__ import annotations

from collections.abc import Generator, Iterable, Sequence
from typing import Any

from makini_desktop.api import resources as res
from makini_desktop.table.cells import Cells, Row

_RefMatch = tuple[list[str | None], frozenset[str]]

PREPARE_SLICE_ROWS = 2000
"""Rows whose search text is computed between two turns of the event loop (~15 ms)."""


class SearchText:
    """Per row id: the casefolded text of the searchable plain columns and the keys of the
    searchable reference columns.

    Args:
        cells: the view's cells (column readers and the lookups).
        searchable: the columns a search looks at (the visible ones).
    """

    def __init__(self, cells: Cells, searchable: Iterable[int]) -> None:
        self._cells = cells
        self._lookups = cells.lookups
        self._ref_cols: list[tuple[int, str]] = [
            (i, c.ref) for i, c in enumerate(cells.columns) if c.kind is res.Kind.REF and c.ref
        ]
        self.searchable: list[int] = sorted(set(searchable))
        self._reader = cells.search_text(self.searchable)
        # Per row id: its text, or the row itself until the text is computed (pending).
        self._text: list[Any] = []
        self._pending = 0
        self._refkeys: dict[int, list[str | None]] = {i: [] for i, _ in self._ref_cols}
        # term -> per searchable reference column: its keys by row, the keys named by term
        self._matches: dict[str, list[_RefMatch]] = {}

    def clear(self) -> None:
        """Forget every row."""
        self._text = []
        self._pending = 0
        for refkeys in self._refkeys.values():
            refkeys.clear()

    @property
    def pending(self) -> int:
        """Rows whose text is not computed yet."""
        return self._pending

    def append(self, row: Row) -> None:
        """Index a new row (its id is the next one); its text is computed when needed."""
        self._text.append(row)
        self._pending += 1
        for refkeys in self._refkeys.values():
            refkeys.append(None)

    def store(self, rid: int, row: Row) -> None:
        """Index the row of id ``rid`` (new or changed); its text is computed when needed."""
        if self._text[rid].__class__ is str:
            self._pending += 1
        self._text[rid] = row

    def prepare_steps(
        self, ids: Sequence[int], slice_rows: int = PREPARE_SLICE_ROWS
    ) -> Generator[None, None, None]:
        """Compute the pending texts of ``ids``, yielding after each slice of work."""
        if not self._pending:
            return
        step = max(1, slice_rows)
        for start in range(0, len(ids), step):
            if self._prepare(ids[start:start + step]) and self._pending:
                yield

    def _prepare(self, ids: Iterable[int]) -> int:
        """Compute the pending texts (and reference keys) of ``ids``; how many there were."""
        text = self._text
        todo = [i for i in ids if text[i].__class__ is not str]
        if not todo:
            return 0
        reader = self._reader
        refs = [(self._cells.columns[col].raw, keys) for col, keys in self._refkeys.items()]
        for i in todo:
            row = text[i]
            for raw_of, keys in refs:
                raw = raw_of(row)
                keys[i] = None if raw is None else str(raw)
            text[i] = reader(row)
        self._pending -= len(todo)
        return len(todo)

    def set_columns(self, columns: Iterable[int], rows: Sequence[Row | None]) -> bool:
        """Search ``columns`` from now on, recomputing the text of ``rows`` (by id); False
        when they were the columns already."""
        wanted = sorted(set(columns))
        if wanted == self.searchable:
            return False
        self.searchable = wanted
        self._matches = {}
        self._reader = self._cells.search_text(wanted)
        self._text = [row if row is not None else "" for row in rows]
        self._pending = sum(1 for row in rows if row is not None)
        return True

    def searches(self, columns: Iterable[int]) -> bool:
        """True when a search looks at any of ``columns``."""
        return any(c in self.searchable for c in columns)

    def forget_matches(self, keep: Iterable[str] | None = None) -> None:
        """Forget the reference matches (the names changed), or those not of ``keep``."""
        if keep is None:
            self._matches = {}
        else:
            terms = set(keep)
            self._matches = {t: m for t, m in self._matches.items() if t in terms}

    def matching(self, ids: list[int], terms: Sequence[str]) -> list[int]:
        """The ids of ``ids`` where every term appears in the text or a reference's name."""
        if self._pending:
            self._prepare(ids)
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

    def _ref_matches(self, term: str) -> list[_RefMatch]:
        """Per searchable reference column: its keys by row, and the keys whose name has
        ``term``. Cached until the terms or the names change."""
        cached = self._matches.get(term)
        if cached is None:
            cached = []
            for col, dataset in self._ref_cols:
                if col in self.searchable:
                    keys = self._lookups.matching_keys(dataset, term)
                    if keys:
                        cached.append((self._refkeys[col], keys))
            self._matches[term] = cached
        return cached
