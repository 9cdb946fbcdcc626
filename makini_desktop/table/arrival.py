"""Rows streaming into an empty index in arrival order, sorted once when they are in.

A first load into an empty, sorted table would otherwise compute a sort key per row and
merge every page into the sorted order (a bisect per row and a copy of the order per
page). :class:`ArrivalOrder` is the part of :class:`~.rowindex.RowIndex` that defers the
sort: while rows arrive, the index is in arrival order and only remembers the order
wanted; :meth:`ArrivalOrder.arrival_done_steps` sorts once, in slices.
"""

from __future__ import annotations

from collections.abc import Generator

from makini_desktop.table.cells import SortKey
from makini_desktop.table.collate import forget_keys
from makini_desktop.table.plan import Plan

ARRIVAL_SLICE_ROWS = 10_000
"""Rows whose sort keys are computed per step of the final sort (as a first sort's)."""


class ArrivalOrder:
    """The deferred sort of a :class:`~.rowindex.RowIndex` (a mixin of it)."""

    _deferred: tuple[int, bool] | None
    _sort_column: int
    _descending: bool
    _ids: dict[str, int]
    _key_cache: dict[int, list[SortKey]]
    _keys: list[SortKey]

    def _sort_steps(
        self, column: int, descending: bool, slice_rows: int
    ) -> Generator[None, None, Plan]:
        raise NotImplementedError  # RowIndex's

    @property
    def arriving(self) -> bool:
        """True between :meth:`begin_arrival` and the end of :meth:`arrival_done_steps`."""
        return self._deferred is not None

    def begin_arrival(self) -> None:
        """Rows are about to arrive in bulk (a first load into an empty table): until
        :meth:`arrival_done_steps`, they go in at the end in arrival order, with no sort key
        computed per row and no merge into the sorted order per page. :attr:`sort_column`
        still tells the order to come; a sort asked for meanwhile (another column) is made
        at once and ends this mode: later rows are merged in place again."""
        if self._deferred is None and self._sort_column >= 0 and not self._ids:
            self._deferred = (self._sort_column, self._descending)
            self._sort_column, self._descending = -1, False
            self._key_cache, self._keys = {}, []

    def arrival_done_steps(
        self, *, slice_rows: int = ARRIVAL_SLICE_ROWS
    ) -> Generator[None, None, Plan]:
        """The rows are in: sort them by the order wanted, in slices (see :meth:`sort_steps`),
        a generator that yields between slices and returns the plan. A sort the user asked
        for meanwhile wins (the plan is then empty)."""
        wanted = self._deferred
        if wanted is None:
            return Plan()
        steps = self._sort_steps(wanted[0], wanted[1], slice_rows)
        while True:
            try:
                next(steps)
            except StopIteration as done:
                self._deferred = None
                forget_keys()  # the names of the rows just sorted (see forget_keys)
                plan: Plan = done.value
                return plan
            yield
            if self._deferred is not wanted:
                return Plan()

    def _keep_deferred(self, column: int, descending: bool) -> bool:
        """While rows arrive: True for the order wanted already; another ends the mode."""
        if self._deferred is None:
            return False
        if self._deferred == (column, descending):
            return True
        self._deferred = None
        return False
