"""How text sorts: natural order for numbers in text, accent- and case-insensitive.

:func:`collation_key` is the Python-side collation every text column sorts by (no Qt here,
so not ``QCollator``): the text is casefolded and its accents stripped (Unicode NFKD), then
cut into runs of digits and of the rest, digits compared as numbers. So "Level 2" sorts
before "Level 10", "Élodie" with the other E's (before "Emma"), "zoë" as "zoe". Text that
folds the same (``Élodie``/``Elodie``) is then ordered by its casefolded original, so the
order never depends on arrival.

This is a locale-neutral approximation of a locale's collation: right for the Latin-script
names of the sandbox and most workplace data (and never "accents after Z"); it does not do
language-specific orders such as Swedish "å after z".
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Callable
from typing import Any

from makini_desktop.api.resources import F_KEY

_DIGITS = re.compile(r"(\d+)")

CollationKey = tuple[tuple[str | int, ...], str]


@functools.lru_cache(maxsize=1 << 17)
def collation_key(text: str) -> CollationKey:
    """The sort key of a text: ``((text, number, text, ...), casefolded original)``.

    The runs alternate text and number starting with text, so any two keys compare without
    mixing types.
    """
    original = text.casefold()
    folded = original
    if not folded.isascii():
        decomposed = unicodedata.normalize("NFKD", folded)
        folded = "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
    folded = folded.strip()
    if not _DIGITS.search(folded):
        return ((folded,), original)
    parts = _DIGITS.split(folded)
    return (tuple(int(p) if i % 2 else p for i, p in enumerate(parts)), original)


def tiebroken(
    keyer: Callable[[Any], tuple[Any, ...]], then: Callable[[Any], tuple[Any, ...]] | None
) -> Callable[[Any], tuple[Any, ...]]:
    """A keyer whose keys (``(rank, value)``) go on with ``then``'s key and the row's key, so
    rows that tie on the sort column have one order whatever order they arrived in (by
    name, then key). The rank stays first: empty cells still sort last."""
    if then is None:
        return lambda row: (*keyer(row), str(row.get(F_KEY)))

    def key(row: Any) -> tuple[Any, ...]:
        return (*keyer(row), then(row), str(row.get(F_KEY)))

    return key
