"""How text sorts: natural order for numbers in text, accent- and case-insensitive.

:func:`collation_key` is the Python-side collation every text column sorts by (no Qt here,
so not ``QCollator``): the text is casefolded and its accents stripped (Unicode NFKD), and
every run of digits is compared as a number. So "Level 2" sorts
before "Level 10", "Élodie" with the other E's (before "Emma"), "zoë" as "zoe". Text that
folds the same (``Élodie``/``Elodie``) is then ordered by its casefolded original, so the
order never depends on arrival.

This is a locale-neutral approximation of a locale's collation: right for the Latin-script
names of the sandbox and most workplace data (and never "accents after Z"); it does not do
language-specific orders such as Swedish "å after z".
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from typing import Any

from makini_desktop.api.resources import F_KEY

_DIGIT_RUNS = re.compile(r"(\d+)")  # split: the runs of digits at the odd places
# Combining marks left by NFKD (accents, cedillas, rings): removed in C by one regex.
_COMBINING = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")
# Letters NFKD does not take apart, spelled as a person would type them on a plain keyboard.
_LETTERS = str.maketrans({
    "ø": "o", "ł": "l", "đ": "d", "ı": "i", "æ": "ae", "œ": "oe", "þ": "th", "ð": "d",
    "ħ": "h", "ŧ": "t", "–": "-", "—": "-", "‘": "'", "’": "'", "“": '"', "”": '"',
})
_TIE = "\x00"  # below every character: "abc" + tie sorts before "abcd"
_MAX_DIGITS = 48  # longer runs of digits compare as text beyond this length


def strip_accents(text: str) -> str:
    """Casefolded ``text`` without its accents: "Zoë Sørensen" → "zoe sorensen"."""
    folded = text.casefold()
    if folded.isascii():
        return folded
    folded = folded.translate(_LETTERS)  # dashes and quotes alone need no decomposing
    if folded.isascii():
        return folded
    folded = _COMBINING.sub("", unicodedata.normalize("NFKD", folded)).translate(_LETTERS)
    return folded.casefold()  # ß → ss after decomposing too


def _numbers(text: str) -> str:
    """Every run of digits as its length then its digits: 9 < 10 because "19" < "210".
    Lengths are characters "1"…"`", below every lowercase letter, as digits are."""
    parts = _DIGIT_RUNS.split(text)
    if len(parts) == 1:
        return text
    # A loop over the runs, not re.sub with a function: a Python call per run cost more.
    for i in range(1, len(parts), 2):
        digits = parts[i].lstrip("0") or "0"
        parts[i] = chr(0x30 + min(len(digits), _MAX_DIGITS)) + digits
    return "".join(parts)


_MEMO_MAX = 1 << 14
"""Texts whose keys are remembered (the values a column repeats: categories, buildings,
floors, statuses): past this many the memo starts afresh. Unique names gain nothing from
it, and 100k of them held a 4.7 MB dict until a first load's final sort had ended (its peak
RSS was 4 MB lower with 16k)."""
_memo: dict[str, str] = {}


def collation_key(text: str) -> str:
    """The sort key of a text, one plain string (compared in C, cheap to hold).

    The folded text (:func:`strip_accents`, then every run of digits as its length and
    digits) and, when folding changed anything, the casefolded original after a NUL, so
    "Elodie" < "Élodie" < "Emma" and "Level 2" < "Level 10".

    Keys are remembered in a plain dict (about 40 bytes a text) rather than an LRU cache
    (about 130: a linked node per entry, 11 MB over a large portfolio's names).
    """
    key = _memo.get(text)
    if key is None:
        key = _collation_key(text)
        if len(_memo) >= _MEMO_MAX:
            _memo.clear()
        _memo[text] = key
    return key


def forget_keys() -> None:
    """Forget every remembered key: a list whose keys were built in bulk (a start from the
    cache) filled the memo with its names, 100k unique tags among them (3.8 MB), which
    later sorts would seldom ask for again. The keys built keep sharing their strings."""
    _memo.clear()


remembered_key: Callable[[str], str | None] = _memo.get
"""The key of a text :func:`collation_key` has remembered, or None: the memo's own ``get``,
for a keyer that runs 100k times (the memo is cleared in place, never replaced)."""


def _collation_key(text: str) -> str:
    original = text.casefold()
    # Casefolded ASCII is its own strip_accents (which would casefold it again).
    folded = (original if original.isascii() else strip_accents(original)).strip()
    folded = _numbers(folded)
    return folded if folded == original else folded + _TIE + original


def tiebroken(
    keyer: Callable[[Any], tuple[Any, ...]], name_field: str | None
) -> Callable[[Any], tuple[Any, ...]]:
    """A keyer whose keys (``(rank, value)``) go on with the row's ``name_field`` (casefolded)
    and its key, so rows that tie on the sort column come in one order whatever order they
    arrived in: by name, then key. The rank stays first: empty cells still sort last.

    The name is only casefolded (not collated): it decides ties alone, and a collation key
    per row would double the cost of a first sort.
    """
    if name_field is None:
        return lambda row: (*keyer(row), str(row.get(F_KEY)))

    def key(row: Any) -> tuple[Any, ...]:
        name = row.get(name_field)
        name = name.casefold() if name.__class__ is str else ""
        return (*keyer(row), name, str(row.get(F_KEY)))

    return key
