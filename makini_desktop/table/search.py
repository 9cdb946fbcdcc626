"""A view's search: each row's search text, and the rows where every term of a query appears.

References (a building's or a floor's key) are not part of a row's text: a term is matched
against the lookup's names once, giving a set of keys, and a row matches when its key is in
that set. So when the sites or locations arrive (or change) no row's text is recomputed,
only the matches are forgotten (:meth:`SearchText.forget_matches`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from makini_desktop.api import resources as res
from makini_desktop.table.cells import Cells, Row

_RefMatch = tuple[list[str | None], frozenset[str]]


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
        self._text: list[str] = []
        self._refkeys: dict[int, list[str | None]] = {i: [] for i, _ in self._ref_cols}
        # term -> per searchable reference column: its keys by row, the keys named by term
        self._matches: dict[str, list[_RefMatch]] = {}

    def clear(self) -> None:
        """Forget every row."""
        self._text = []
        for refkeys in self._refkeys.values():
            refkeys.clear()

    def append(self, row: Row) -> None:
        """Index a new row (its id is the next one)."""
        self._text.append("")
        for refkeys in self._refkeys.values():
            refkeys.append(None)
        self.store(len(self._text) - 1, row)

    def store(self, rid: int, row: Row) -> None:
        """Index the row of id ``rid`` (new or changed)."""
        self._text[rid] = self._reader(row)
        columns = self._cells.columns
        for col, refkeys in self._refkeys.items():
            raw = columns[col].raw(row)
            refkeys[rid] = None if raw is None else str(raw)

    def set_columns(self, columns: Iterable[int], rows: Sequence[Row | None]) -> bool:
        """Search ``columns`` from now on, recomputing the text of ``rows`` (by id); False
        when they were the columns already."""
        wanted = sorted(set(columns))
        if wanted == self.searchable:
            return False
        self.searchable = wanted
        self._matches = {}
        reader = self._reader = self._cells.search_text(wanted)
        self._text = [reader(row) if row is not None else "" for row in rows]
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
