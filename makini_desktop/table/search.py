"""A view's search: each row's search text, and the rows that satisfy every term of a query.

Queries are parsed by :mod:`.query` (words matched at word starts, phrases, ``field:value``,
``-word``); a row's text and the lookups' names are folded the same way (case, accents,
punctuation), so each test is a plain ``in`` over precomputed strings.

References (a building's or a floor's key) are not part of a row's text: a term is matched
against the lookup's names once, giving a set of keys, and a row matches when its key is in
that set. So when the sites or locations arrive (or change) no row's text is recomputed,
only the matches are forgotten (:meth:`SearchText.forget_matches`).

A row's text is computed when it is first searched, not when the row arrives: formatting
every cell of 100k rows costs more than a second, and a start from the cache would spend it
before the user typed anything. :meth:`SearchText.prepare_steps` computes the texts a
search is about to need in slices, so the first search does not block the loop either. The
same goes for the text of a single column, which a ``field:value`` term needs.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterable, Sequence
from typing import Any

from makini_desktop.api import resources as res
from makini_desktop.table.cells import Cells, Row
from makini_desktop.table.query import Query, Term, fold_cell
from makini_desktop.table.slicing import TimeSlice, run_steps

_RefMatch = tuple[list[str | None], frozenset[str]]
_Test = Callable[[int], bool]

PREPARE_SLICE_ROWS = 25
"""Rows whose search text is computed between two looks at the clock (a row's text costs
10-100 µs; the slices themselves are measured in time, see :mod:`.slicing`)."""
SCAN_CHUNK = 2000
"""Rows looked at between two looks at the clock when most texts are computed already."""
NAME_CHUNK = 1000
"""Folded names (of 50k floors and spaces) matched against a term between two looks at
the clock."""
FOLD_CHUNK = 50
"""Names folded between two looks at the clock (a name costs 5-20 µs)."""


class _Names:
    """The folded names of a dataset: by key, and as a list to scan."""

    __slots__ = ("by_key", "items")

    def __init__(self) -> None:
        self.by_key: dict[str, str] = {}
        self.items: list[tuple[str, str]] = []


class SearchText:
    """Per row id: the folded text of the searchable plain columns and the keys of the
    searchable reference columns; for a column a ``field:`` term names, its cells' text.

    Args:
        cells: the view's cells (column readers and the lookups).
        searchable: the columns a search looks at (the visible ones).
    """

    def __init__(self, cells: Cells, searchable: Iterable[int]) -> None:
        self._cells = cells
        self._lookups = cells.lookups
        self._ref_cols: dict[int, str] = {
            i: c.ref for i, c in enumerate(cells.columns) if c.kind is res.Kind.REF and c.ref
        }
        self.searchable: list[int] = sorted(set(searchable))
        self._reader = self._make_reader(self.searchable)
        # Per row id: its text, or the row itself until the text is computed (pending).
        self._text: list[Any] = []
        self._pending = 0
        # Per reference column, per row id: its key, None until computed. Left empty until
        # a search first needs them (a slot per row and column: 2.6 MB over 175k rows).
        self._refkeys: dict[int, list[str | None]] = {i: [] for i in self._ref_cols}
        # column -> per row id: that cell's folded text, or the row until computed
        self._cell_text: dict[int, list[Any]] = {}
        # term -> per reference column it looks at: the keys whose name it matches
        self._matches: dict[Term, dict[int, frozenset[str]]] = {}
        self._names: dict[str, _Names] = {}  # dataset -> its names, folded

    def _make_reader(self, columns: Iterable[int]) -> Callable[[Row], str]:
        read = self._cells.search_text(columns)
        return lambda row: fold_cell(read(row))

    def clear(self) -> None:
        """Forget every row."""
        self._text = []
        self._pending = 0
        for refkeys in self._refkeys.values():
            refkeys.clear()
        self._cell_text = {}

    @property
    def pending(self) -> int:
        """Rows whose text is not computed yet."""
        return self._pending

    def append(self, row: Row) -> None:
        """Index a new row (its id is the next one); its text is computed when needed."""
        self._text.append(row)
        self._pending += 1
        for refkeys in self._refkeys.values():
            if refkeys:  # else made, as long as the rows, when first needed (_prepare)
                refkeys.append(None)
        for texts in self._cell_text.values():
            texts.append(row)

    def extend(self, rows: list[Row]) -> None:
        """:meth:`append` of each row, at once (a chunk of staged rows)."""
        self._text.extend(rows)
        self._pending += len(rows)
        for refkeys in self._refkeys.values():
            if refkeys:
                refkeys.extend([None] * len(rows))
        for texts in self._cell_text.values():
            texts.extend(rows)

    def store(self, rid: int, row: Row) -> None:
        """Index the row of id ``rid`` (new or changed); its text is computed when needed."""
        if self._text[rid].__class__ is str:
            self._pending += 1
        self._text[rid] = row
        for texts in self._cell_text.values():
            texts[rid] = row

    def prepare_steps(
        self,
        ids: Sequence[int],
        slice_rows: int = PREPARE_SLICE_ROWS,
        query: Query | None = None,
        rows: Sequence[Row | None] = (),
    ) -> Generator[None, None, None]:
        """Compute the pending texts of ``ids`` (and, from ``rows`` by id, the cell texts of
        the columns the ``field:`` terms of ``query`` name, and the keys of the buildings and
        floors each term names), yielding between slices of time and once at the end when
        anything was computed (the work after it starts a slice of its own)."""
        step = max(1, slice_rows)
        clock = TimeSlice()
        worked = False
        for term in query if query is not None else ():
            if (term.column is None or term.column in self._ref_cols) and (
                    term not in self._matches):
                yield from self._term_keys_steps(term, clock)
                worked = True
        for col in sorted(query.columns if query is not None else ()):
            if col in self._ref_cols:
                continue
            for start in range(0, len(ids), step):
                if self._prepare_cells(col, ids[start:start + step], rows):
                    worked = True
                    yield from clock.pause()
        text = self._text
        for start in range(0, len(ids), SCAN_CHUNK):
            if not self._pending:
                break
            todo = [i for i in ids[start:start + SCAN_CHUNK] if text[i].__class__ is not str]
            for first in range(0, len(todo), step):
                self._prepare(todo[first:first + step])
                worked = True
                yield from clock.pause()
            yield from clock.pause()
        if worked:
            yield

    def _prepare(self, ids: Iterable[int]) -> int:
        """Compute the pending texts (and reference keys) of ``ids``; how many there were."""
        text = self._text
        todo = [i for i in ids if text[i].__class__ is not str]
        if not todo:
            return 0
        reader = self._reader
        for keys in self._refkeys.values():
            if len(keys) < len(text):
                keys.extend([None] * (len(text) - len(keys)))
        refs = [(self._cells.columns[col].raw, keys) for col, keys in self._refkeys.items()]
        for i in todo:
            row = text[i]
            for raw_of, keys in refs:
                raw = raw_of(row)
                keys[i] = None if raw is None else str(raw)
            text[i] = reader(row)
        self._pending -= len(todo)
        return len(todo)

    def _prepare_cells(
        self, column: int, ids: Iterable[int], rows: Sequence[Row | None]
    ) -> int:
        """Compute the text of ``column``'s cells of ``ids``; how many were not known."""
        texts = self._cell_text.get(column)
        if texts is None:
            # Per row id the row until its cell's text is computed (as for _text).
            texts = self._cell_text[column] = list(rows)
        todo = [i for i in ids if texts[i].__class__ is not str]
        if todo:
            read = self._make_reader([column])
            for i in todo:
                row = texts[i]
                texts[i] = "" if row is None else read(row)
        return len(todo)

    def set_columns(self, columns: Iterable[int], rows: Sequence[Row | None]) -> bool:
        """Search ``columns`` from now on, recomputing the text of ``rows`` (by id); False
        when they were the columns already."""
        wanted = sorted(set(columns))
        if wanted == self.searchable:
            return False
        self.searchable = wanted
        self._matches = {}
        self._cell_text = {}
        self._reader = self._make_reader(wanted)
        self._text = [row if row is not None else "" for row in rows]
        self._pending = sum(1 for row in rows if row is not None)
        return True

    def headings(self) -> list[tuple[int, str]]:
        """(column, heading) of the searchable columns: what a ``field:`` may name."""
        return [(i, self._cells.columns[i].header) for i in self.searchable]

    def searches(self, columns: Iterable[int]) -> bool:
        """True when a search looks at any of ``columns``."""
        return any(c in self.searchable for c in columns)

    def forget_matches(self, keep: Iterable[Term] | None = None) -> None:
        """Forget the reference matches (the names changed), or those not of ``keep``."""
        if keep is None:
            self._matches = {}
            self._names = {}
        else:
            terms = set(keep)
            self._matches = {t: m for t, m in self._matches.items() if t in terms}

    # -- matching -----------------------------------------------------------------------------

    def matching(
        self, ids: list[int], query: Query, rows: Sequence[Row | None] = ()
    ) -> list[int]:
        """The ids of ``ids`` whose row satisfies every term of ``query``.

        Args:
            ids: row ids, in the order to keep.
            query: the parsed search.
            rows: the records by row id (read for the cells of ``field:`` columns).
        """
        if self._pending:
            self._prepare(ids)
        for term in query:
            if term.column is not None and term.column not in self._ref_cols:
                self._prepare_cells(term.column, ids, rows)
            ids = self._match_term(ids, term)
            if not ids:
                break
        return ids

    def _match_term(self, ids: list[int], term: Term) -> list[int]:
        needle = term.needle
        if term.column is None:
            text = self._text
            sets = self._ref_matches(term)
        elif term.column in self._ref_cols:
            text = None
            sets = self._ref_matches(term)
        else:
            text = self._cell_text[term.column]
            sets = []
        # Unrolled by the number of reference columns: a generator per row would cost
        # more than the whole comprehension (100k rows must filter in a few ms).
        exclude = term.exclude
        if text is None:
            if not sets:
                return ids if exclude else []
            (r1, k1), = sets
            return [i for i in ids if (r1[i] in k1) is not exclude]
        if not sets:
            if exclude:
                return [i for i in ids if needle not in text[i]]
            return [i for i in ids if needle in text[i]]
        if len(sets) == 1:
            (r1, k1), = sets
            if exclude:
                return [i for i in ids if not (needle in text[i] or r1[i] in k1)]
            return [i for i in ids if needle in text[i] or r1[i] in k1]
        if len(sets) == 2:
            (r1, k1), (r2, k2) = sets
            if exclude:
                return [i for i in ids if not (needle in text[i] or r1[i] in k1 or r2[i] in k2)]
            return [i for i in ids if needle in text[i] or r1[i] in k1 or r2[i] in k2]
        return [
            i for i in ids
            if (needle in text[i] or any(refs[i] in keys for refs, keys in sets)) is not exclude
        ]

    def _ref_matches(self, term: Term) -> list[_RefMatch]:
        """Per reference column the term looks at: its keys by row, and the keys whose name
        the term matches. Cached until the terms or the names change."""
        found = self._matches.get(term)
        if found is None:
            found = run_steps(self._term_keys_steps(term, TimeSlice(float("inf"))))
        refkeys = self._refkeys
        return [(refkeys[col], keys) for col, keys in found.items()
                if keys or term.column is not None]

    def _term_keys_steps(
        self, term: Term, clock: TimeSlice
    ) -> Generator[None, None, dict[int, frozenset[str]]]:
        """The keys each reference column's term names (see :meth:`_ref_matches`), found
        pausing when ``clock``'s slice is over, and cached. Typing on (``mon`` after ``mo``)
        only looks at the names the shorter term matched."""
        owner = self._matches  # replaced (not cleared) when the names change meanwhile
        cached = owner.get(term)
        if cached is not None:
            return cached
        if term.column is None:
            cols = [c for c in self._ref_cols if c in self.searchable]
        else:
            cols = [term.column]
        wider = next((m for t, m in owner.items() if term.implies(t)), None)
        needle = term.needle
        found: dict[int, frozenset[str]] = {}
        for col in cols:
            names = yield from self._fold_names_steps(self._ref_cols[col], clock)
            if wider is not None and col in wider:
                by_key = names.by_key
                found[col] = frozenset(k for k in wider[col] if needle in by_key.get(k, ""))
                continue
            items = names.items
            keys: set[str] = set()
            for start in range(0, len(items), NAME_CHUNK):
                keys.update(k for k, n in items[start:start + NAME_CHUNK] if needle in n)
                yield from clock.pause()
            found[col] = frozenset(keys)
        owner[term] = found
        return found

    def _fold_names_steps(self, dataset: str, clock: TimeSlice) -> Generator[None, None, _Names]:
        """The folded names of ``dataset``, folded (once) pausing when ``clock`` says."""
        names = self._names.get(dataset)
        if names is not None:
            return names
        owner = self._names  # replaced (not cleared) when the names change meanwhile
        names = _Names()
        source = list(self._lookups.names(dataset).items())
        for start in range(0, len(source), FOLD_CHUNK):
            names.items.extend((k, fold_cell(n)) for k, n in source[start:start + FOLD_CHUNK])
            yield from clock.pause()
        names.by_key = dict(names.items)
        return owner.setdefault(dataset, names)
