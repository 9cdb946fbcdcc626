"""Row ids in display order by a sort in slices that never takes long: what places the rows
a :class:`~makini_desktop.table.rowindex.RowIndex` staged (a start from the cache).

Runs of ids are sorted one per step; then each run is merged into the rows ordered so far
a piece at a time: a piece, and the ordered rows that go before its last, sorted together
(a sort of two ordered runs merges them in C, a comparison per row). No step touches more
than a piece and its share of the rows ordered so far, so a 100k-row list is placed
without a pause of the loop longer than a few milliseconds.
"""

from __future__ import annotations

import bisect
from collections.abc import Generator, Sequence

from makini_desktop.table.cells import SortKey
from makini_desktop.table.ordering import display_key, display_order

__all__ = ["display_order_in_pieces"]


def display_order_in_pieces(
    ids: list[int], keys: Sequence[SortKey], descending: bool, step: int
) -> Generator[None, None, list[int]]:
    """``display_order(ids, keys, descending)``, ``step`` ids per step: a generator that
    yields between steps and returns the ordered ids (ties keep the order of ``ids``)."""
    key = display_key(keys, descending)

    def ordered(part: list[int]) -> list[int]:
        return display_order(part, keys, descending)

    done: list[int] = []
    for start in range(0, len(ids), step):
        run = ordered(ids[start:start + step])
        yield
        if not done:
            done = run
            continue
        merged: list[int] = []
        lo = 0
        piece_size = max(1, step // 4)
        for first in range(0, len(run), piece_size):
            piece = run[first:first + piece_size]
            # The rows ordered so far that go before the piece's last (ties included: they
            # came first) belong among its rows; the rest go after it.
            hi = bisect.bisect_right(done, key(piece[-1]), lo=lo, key=key)
            merged += ordered(done[lo:hi] + piece)
            lo = hi
            yield
        merged += done[lo:]
        done = merged
    return done
