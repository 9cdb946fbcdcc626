"""Row ids in display order by their sort keys: sorting (in one go or in slices), bisecting
and merging new ids into an ordered list.

Display order is the keys' order, ascending or descending, with empty cells last in both
directions. Every sort is stable: rows that tie keep the order they had (sorting by building
after sorting by name groups each building's rows by name, as in a file manager).
"""

from __future__ import annotations

import bisect
import heapq
import itertools
from collections.abc import Callable, Generator, Sequence
from typing import Any

from makini_desktop.table.cells import EMPTY_RANK, SortKey
from makini_desktop.table.slicing import TimeSlice

MERGE_CHUNK = 250
"""Ids merged between two looks at the clock."""


def display_order(ids: list[int], keys: Sequence[SortKey], descending: bool) -> list[int]:
    """``ids`` in display order by ``keys`` (indexed by row id)."""
    out = sorted(ids, key=keys.__getitem__, reverse=descending)
    return empties_last(out, keys) if descending else out


def display_order_steps(
    ids: list[int],
    keys: Sequence[SortKey],
    descending: bool,
    run: int,
    clock: TimeSlice | None = None,
) -> Generator[None, None, list[int]]:
    """:func:`display_order` a slice at a time: a generator that yields between slices.

    Runs of ``run`` ids are sorted one per step, then merged (a heap over the runs, in
    Python: 1-2 µs an id) until ``clock``'s slice is over or ``run`` ids are out; the
    generator returns the ordered ids.
    """
    clock = clock if clock is not None else TimeSlice()
    key = keys.__getitem__
    runs = []
    for start in range(0, len(ids), run):
        runs.append(sorted(ids[start:start + run], key=key, reverse=descending))
        yield
        clock.restart()
    # heapq.merge is stable across runs, so rows that tie keep their previous order.
    merged = heapq.merge(*runs, key=key, reverse=descending)
    out: list[int] = []
    taken = 0
    while True:
        chunk = list(itertools.islice(merged, MERGE_CHUNK))
        out.extend(chunk)
        if len(chunk) < MERGE_CHUNK:
            break
        taken += len(chunk)
        if taken >= run or clock.over():
            yield
            clock.restart()
            taken = 0
    return empties_last(out, keys) if descending else out


def display_key(keys: Sequence[SortKey], descending: bool) -> Callable[[int], Any]:
    """A key of a row id that is ascending along the display order (for bisecting)."""
    if descending:
        return lambda i: (keys[i][0] == EMPTY_RANK, _Desc(keys[i]))
    return keys.__getitem__


def merged(base: list[int], new: list[int], key: Callable[[int], Any]) -> list[int]:
    """``base`` with the ``new`` ids put in place; both are ascending by ``key``.

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


def empties_last(ids: list[int], keys: Sequence[SortKey]) -> list[int]:
    """Move the empty cells that lead a descending list to its end (empties rank highest)."""
    n = 0
    while n < len(ids) and keys[ids[n]][0] == EMPTY_RANK:
        n += 1
    return ids[n:] + ids[:n] if n else ids


class _Desc:
    """Wraps a sort key so it compares in reverse (for bisecting a descending list)."""

    __slots__ = ("key",)

    def __init__(self, key: SortKey) -> None:
        self.key = key

    def __lt__(self, other: _Desc) -> bool:
        return other.key < self.key

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Desc) and other.key == self.key

    __hash__ = None  # type: ignore[assignment]  # ordered, not hashable
