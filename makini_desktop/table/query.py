"""The search box's little language, parsed without Qt: words, phrases, fields, exclusions.

A query is a list of terms, every one of which a row must satisfy:

* ``okafor``: a word; it matches where a word of a cell *starts* with it (``3.001`` finds
  "3.001" and "3.001A", not "13.001");
* ``"level 3"``: a phrase; its words appear in that order, each a whole word;
* ``host:okafor``, ``status:"in progress"``: a term looked for only in the column whose
  heading is ``host`` (case-insensitive; a prefix of a heading is enough when it names one
  column only; a word of the heading too: ``audited:`` for "Last audited");
* ``-word``, ``-"a phrase"``, ``-type:storage``: rows that match it are left out.

Text is compared folded (:func:`fold`): case-insensitive and accent-insensitive (``zoe``
finds "Zoë", ``elodie`` finds "Élodie"), with punctuation between words ignored (``3-001``
and ``3.001`` are the same words). A ``field:`` whose heading names no column is an ordinary
word (so ``10:30`` searches for "10:30").

A row's text is folded once, by :func:`fold_cell` per cell, to ``" word word "`` with the
cells joined by :data:`CELL_SEP`; a word term then matches when ``" " + term`` is in it, a
phrase when ``" " + phrase + " "`` is in it: plain ``in`` tests, fast over 100k rows.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from makini_desktop.table.collate import strip_accents

CELL_SEP = "\x1f"
"""Between two cells of a row's folded text: no word or phrase spans two cells."""

_APOSTROPHES = re.compile(r"['’`´]")
# Anything that is not a letter or digit separates words (and so does "_"). CELL_SEP is
# not matched, so the cells stay apart.
_NON_WORD = re.compile(r"(?:[^\w\x1f]|_)+")
_TOKEN = re.compile(r'(-?)(?:([^\s":]+):)?(?:"([^"]*)"?|(\S+))')


def fold(text: str) -> str:
    """Case- and accent-folded ``text`` with punctuation between words made a single space
    (no leading or trailing space): "Zoë O'Brien-Smith" → "zoe obrien smith"."""
    text = strip_accents(text)
    text = _APOSTROPHES.sub("", text)
    return _NON_WORD.sub(" ", text).strip(" ")


def fold_cell(text: str) -> str:
    """A cell's (or several cells' joined by :data:`CELL_SEP`) folded search text, every cell
    framed by spaces: "Level 3" → " level 3 "."""
    folded = fold(text)
    if CELL_SEP in folded:
        folded = f" {CELL_SEP} ".join(part.strip(" ") for part in folded.split(CELL_SEP))
    return f" {folded} "


@dataclass(frozen=True, slots=True)
class Term:
    """One term of a query.

    Attributes:
        text: the folded words (``"level 3"``); never empty.
        phrase: quoted: whole words in this order, not word starts.
        column: the column the term is limited to (an index into the headings the query
            was parsed with), or None for any searchable column.
        exclude: ``-term``: rows that match are left out.
    """

    text: str
    phrase: bool = False
    column: int | None = None
    exclude: bool = False

    @property
    def needle(self) -> str:
        """What ``in`` looks for in a folded text (see :func:`fold_cell`)."""
        return f" {self.text} " if self.phrase else f" {self.text}"

    def implies(self, other: Term) -> bool:
        """True when every row this term lets through also passes ``other`` (typing on)."""
        if (self.phrase, self.column, self.exclude) != (other.phrase, other.column, other.exclude):
            return False
        if self.phrase or self.exclude:
            return self.text == other.text
        return self.text.startswith(other.text)


@dataclass(frozen=True, slots=True)
class Query:
    """A parsed search: the terms a row must all satisfy (empty: every row)."""

    terms: tuple[Term, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.terms)

    def __iter__(self) -> Iterator[Term]:
        return iter(self.terms)

    def __len__(self) -> int:
        return len(self.terms)

    def narrows(self, old: Query) -> bool:
        """True when this query lets through only rows ``old`` let through, so it can be
        run over ``old``'s result instead of every row."""
        return bool(old) and all(any(t.implies(o) for t in self.terms) for o in old.terms)

    @property
    def columns(self) -> set[int]:
        """The columns named by field terms."""
        return {t.column for t in self.terms if t.column is not None}


def parse(text: str, headings: Sequence[tuple[int, str]] = ()) -> Query:
    """Parse what was typed in a search box.

    Args:
        text: the search text.
        headings: the columns a ``field:`` may name, as (column index, heading).

    Returns:
        The query; terms that fold to nothing (``-``, ``"."``) are dropped, a term given
        twice counts once.
    """
    terms: list[Term] = []
    for match in _TOKEN.finditer(text):
        minus, field, quoted, word = match.groups()
        column: int | None = None
        if field is not None:
            column = column_for(field, headings)
            if column is None:  # not a heading: the whole thing is a word ("10:30")
                raw = f"{field}:{quoted if quoted is not None else word}"
                quoted = None
                word = raw
        phrase = quoted is not None
        folded = fold(quoted if quoted is not None else word or "")
        if not folded:
            continue
        term = Term(folded, phrase=phrase, column=column, exclude=bool(minus))
        if term not in terms:
            terms.append(term)
    return Query(tuple(terms))


def column_for(field: str, headings: Iterable[tuple[int, str]]) -> int | None:
    """The column a ``field:`` names: a heading equal to it, else the one heading it is a
    prefix of, else the one heading with a word it is a prefix of; None otherwise."""
    wanted = _heading_key(field)
    if not wanted:
        return None
    listed = [(col, _heading_key(h), fold(h).split()) for col, h in headings]
    for col, key, _words in listed:
        if key == wanted:
            return col
    prefixed = [col for col, key, _words in listed if key.startswith(wanted)]
    if len(set(prefixed)) == 1:
        return prefixed[0]
    if prefixed:
        return None
    worded = [col for col, _key, words in listed if any(w.startswith(wanted) for w in words)]
    return worded[0] if len(set(worded)) == 1 else None


@functools.lru_cache(maxsize=256)
def _heading_key(heading: str) -> str:
    return fold(heading).replace(" ", "")
