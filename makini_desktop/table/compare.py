"""A new list against the rows an index holds: which rows are new or changed.

Kept apart from :mod:`.rowindex` (which calls it) because it only reads what the index
holds: a caller compares a long list page by page with it and :meth:`RowIndex.keys_not_in`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from makini_desktop.api import resources as res
from makini_desktop.table.cells import Row


def changed_rows(
    ids: Mapping[str, int],
    held: list[Row | None],
    accepts: Callable[[Mapping[str, Any]], bool],
    rows: Iterable[Row],
    seen: set[str] | None = None,
) -> list[Row]:
    """The rows of a new list that are new or changed (by ``updatedAt``).

    The keys of every row the view accepts are added to ``seen``, when given. A row equal
    to the one held replaces it in ``held`` silently (nothing to repaint), so the index
    keeps the newest objects.

    Args:
        ids: the index's row id by key.
        held: the index's rows by row id (None once deleted).
        accepts: whether the view shows a row.
        rows: the new list's rows (a page of it).
        seen: the keys of the new list so far.
    """
    upserts: list[Row] = []
    for row in rows:
        raw = row.get(res.F_KEY)
        if raw is None or not accepts(row):
            continue
        key = str(raw)
        if seen is not None:
            seen.add(key)
        rid = ids.get(key)
        if rid is None:
            upserts.append(row)
            continue
        old = held[rid]
        if old is row:
            continue
        assert old is not None  # a key held is a live row
        old_stamp, new_stamp = old.get(res.F_UPDATED), row.get(res.F_UPDATED)
        if old_stamp != new_stamp or (new_stamp is None and old != row):
            upserts.append(row)
        else:
            held[rid] = row
    return upserts
