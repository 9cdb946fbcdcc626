"""The rows of one view, sorted, searched and filtered fast enough for 100,000 rows in Python.

:class:`RowIndex` keeps

* every row once (:attr:`RowIndex.rows`, addressed by a stable row id), with, for the
  current sort column, a sort key computed when the row arrives, and a casefolded search
  text computed when a search first needs it;
* ``_order``: the live row ids in sort order (arrival order when unsorted);
* :attr:`RowIndex.visible`: ``_order`` narrowed by the building filter and the search, i.e.
  the rows shown.

so a search is one list comprehension over precomputed strings and a sort is one
``list.sort`` over precomputed keys. Rows arriving into a sorted index are merged in by
bisect and slice copies; long work (a first sort by a column, a search) runs in slices
between which a caller turns its event loop.

Every change returns a :class:`~.plan.Plan`: the steps (rows removed, inserted, changed, a
new layout, or a reset) that take what a view shows to :attr:`RowIndex.visible`. Applied in
order to the row ids the view shows (:func:`~.plan.apply_plan`), it gives exactly
``visible``; ``ui/table_model.py`` emits each step as the matching Qt model signal. When the
shared :class:`~.lookups.Lookups` change, the owner calls :meth:`RowIndex.lookups_changed`.
"""

from __future__ import annotations

import bisect
import contextlib
from collections.abc import Callable, Generator, Iterable
from typing import Any

from makini_desktop.api import resources as res
from makini_desktop.table.arrival import ArrivalOrder
from makini_desktop.table.cells import EMPTY_KEY, Cells, Row, SortKey
from makini_desktop.table.collate import forget_keys
from makini_desktop.table.compare import changed_rows
from makini_desktop.table.kept_sort import KEY_CHUNK_ROWS, UNKEYED, KeptSort, in_order_steps
from makini_desktop.table.lookups import Lookups
from makini_desktop.table.narrowing import Narrowing
from makini_desktop.table.ordering import display_key, display_order, display_order_steps, merged
from makini_desktop.table.plan import Changed, Inserted, Layout, Plan, Removed, Reset
from makini_desktop.table.query import Query
from makini_desktop.table.search import SearchText
from makini_desktop.table.slicing import TimeSlice, run_steps
from makini_desktop.table.staging import display_order_in_pieces

KEY_SLICE_ROWS = 10_000
"""Rows whose sort keys are computed at most between two turns of the event loop (a slice
also ends after :data:`~.slicing.SLICE_BUDGET_S`)."""
ORDER_RUN_ROWS = 2_500
"""Rows sorted in one step of a sort in steps (a sort of 2,500 keys takes 2-5 ms)."""
KEY_CACHE_COLUMNS = 4
"""Columns whose sort keys are kept (each costs a list of keys as long as the rows)."""
BULK_CHANGE_ROWS = 2000
"""Above this many changed rows, a change set resets the view instead of row steps."""
BULK_INSERT_ROWS = 64
"""Rows arriving at once into a sorted table above which one layout change replaces
row-by-row inserts."""


# -- the index --------------------------------------------------------------------------------


class RowIndex(ArrivalOrder, Narrowing, KeptSort):
    """The rows of one view, with fast native sorting, search and a building filter.

    Rows of the view's dataset that the view does not accept (floors in the Spaces view) are
    ignored, so a caller can hand over whole dataset pages.

    Args:
        view: the resource view (columns, kinds, which rows it accepts).
        lookups: names for ``Kind.REF`` columns; shared by every index of a connection.
    """

    def __init__(self, view: res.View, lookups: Lookups | None = None) -> None:
        self.view = view
        self.columns: tuple[res.Column, ...] = view.columns
        self.lookups = lookups if lookups is not None else Lookups()
        self.cells = Cells(self.columns, self.lookups)

        self._ref_cols: list[tuple[int, str]] = [
            (i, c.ref) for i, c in enumerate(self.columns) if c.kind is res.Kind.REF and c.ref
        ]
        # Area columns show their building's unit, so they change with the sites' lookups.
        self._area_cols = [i for i, c in enumerate(self.columns) if c.kind is res.Kind.AREA]
        # The building a row belongs to: its siteKey, or its own key for the Buildings view.
        self._site_field = res.F_KEY if view.dataset is res.SITES else res.F_SITE_KEY
        shown_columns = [i for i, c in enumerate(self.columns) if not c.hidden]
        self._search = SearchText(self.cells, shown_columns)
        # Rows that tie on the sort column go by the first column (the name), then key.
        name = self.columns[0].fields[0]
        self._keyers = [self.cells.tied_keyer(i, name if i else None)
                        for i in range(len(self.columns))]

        self.rows: list[Row | None] = []
        """The records by row id; None once deleted."""
        self._ids: dict[str, int] = {}  # key -> row id
        self._site: list[str | None] = []
        self._order: list[int] = []  # live ids in sort order
        self.visible: list[int] = []
        """The row ids shown, in display order."""

        self._sort_column = -1
        self._descending = False
        # The order wanted while rows arrive in bulk in arrival order (begin_arrival).
        self._deferred: tuple[int, bool] | None = None
        # Sort keys by row id, per column sorted by so far (the latest few): sorting again
        # by a column costs only the sort. _keys is the current sort column's list.
        self._key_cache: dict[int, list[SortKey]] = {}
        self._keys: list[SortKey] = []
        # Row ids (ranges) staged without their key in _unkeyed_col's list (see stage), and
        # whether the order placed last came from a kept sort (see kept_sort).
        self._unkeyed: list[tuple[int, int]] = []
        self._unkeyed_col = -1
        self._sort_taken = False

        self._query = ""
        self._terms = Query()
        self._row_filter: Callable[[Row], bool] | None = None
        self._version = 0  # bumped by every change of rows, order or filter
        self._building: str | None = None
        self._criterion: Callable[[Row], bool] | None = None  # a saved view's own criteria

    # -- reading ------------------------------------------------------------------------------

    @property
    def total(self) -> int:
        """Rows held (what the count label calls "of N")."""
        return len(self._ids)

    @property
    def version(self) -> int:
        """A counter that every change of the rows (and of their order or filter) bumps: a
        figure computed from :attr:`rows` at one version holds until it changes."""
        return self._version

    @property
    def sort_column(self) -> int:
        """The column sorted by (or to be, once rows stop arriving); -1 for arrival order."""
        return self._sort_column if self._deferred is None else self._deferred[0]

    @property
    def descending(self) -> bool:
        return self._descending if self._deferred is None else self._deferred[1]

    @property
    def building(self) -> str | None:
        """The building whose rows are shown; None for every building."""
        return self._building

    def id_of(self, key: str) -> int | None:
        """The row id of a record held, or None."""
        return self._ids.get(key)

    def all_rows(self) -> list[Row]:
        """Every record held, in arrival order."""
        return [r for r in self.rows if r is not None]

    def keys_not_in(self, seen: set[str]) -> list[str]:
        """The keys held that are not in ``seen`` (rows a new list no longer has)."""
        return [k for k in self._ids if k not in seen]

    def changed_rows(self, rows: Iterable[Row], seen: set[str] | None = None) -> list[Row]:
        """The rows of a new list that are new or changed (by ``updatedAt``); see
        :func:`~.compare.changed_rows` (a row equal to the one held replaces it silently)."""
        return changed_rows(self._ids, self.rows, self.view.accepts, rows, seen)

    # -- filling ------------------------------------------------------------------------------

    def replace(self, rows: Iterable[Row]) -> Plan:
        """Hold exactly ``rows``, from scratch (a reset)."""
        if self._deferred is not None:  # the rows arriving are replaced: sort as wanted
            (self._sort_column, self._descending), self._deferred = self._deferred, None
            self._key_cache[self._sort_column] = []
        self.rows = []
        self._ids = {}
        self._search.clear()
        self._site = []
        self._key_cache = {c: [] for c in self._key_cache}
        self._keys = self._key_cache.get(self._sort_column, [])
        self._unkeyed = []
        accepts = self.view.accepts
        for row in rows:
            if row.get(res.F_KEY) is not None and accepts(row):
                if str(row[res.F_KEY]) in self._ids:
                    self._store_at(self._ids[str(row[res.F_KEY])], row)
                else:
                    self._store_new(row)
        self._order = self._sorted(self._live_ids())
        self.visible = self._filter(self._order)
        self._version += 1
        return Plan([Reset(list(self.visible))], counts_changed=True)

    def add(self, rows: Iterable[Row]) -> Plan:
        """Add rows as a page arrives: new rows go in place, known keys are updated."""
        new_ids: list[int] = []
        updates: list[Row] = []
        for row in rows:
            if not self.view.accepts(row):
                if str(row.get(res.F_KEY)) in self._ids:
                    updates.append(row)  # no longer belongs to the view: apply removes it
                continue
            key = row.get(res.F_KEY)
            if key is None:
                continue
            if str(key) in self._ids:
                updates.append(row)
            else:
                new_ids.append(self._store_new(row))
        plan = Plan()
        if new_ids:
            self._insert_ids(new_ids, plan)
            plan.counts_changed = True
        if updates:
            later = self.apply(updates, ())
            plan.steps.extend(later.steps)
            plan.counts_changed = plan.counts_changed or later.counts_changed
        return plan

    def stage(self, rows: Iterable[Row], *, keyed: bool = True) -> Plan:
        """Hold new rows unplaced (counted in :attr:`total`, not shown; known keys updated
        as by :meth:`add`): :meth:`place_staged_steps` sorts them once, not chunk by chunk.
        ``keyed=False``: their sort keys wait for the placing (which may take them from a
        kept sort)."""
        updates: list[Row] = []
        new: list[Row] = []
        ids, accepts, next_id = self._ids, self.view.accepts, len(self.rows)
        for row in rows:
            key = row.get(res.F_KEY)
            if key is None:
                continue
            key = key if key.__class__ is str else str(key)
            if key in ids:
                updates.append(row)  # apply() updates it, or removes it if no longer accepted
            elif accepts(row):
                ids[key] = next_id  # a second copy in this chunk is an update
                next_id += 1
                new.append(row)
        self._store_chunk(new, keyed)
        self._version += 1
        plan = self.apply(updates, ()) if updates else Plan()
        return Plan(plan.steps, counts_changed=True)

    def place_staged_steps(
        self, *, slice_rows: int = KEY_SLICE_ROWS, sort: tuple[str, Any] | None = None
    ) -> Generator[None, None, Plan]:
        """Every row held (staged too) in order and shown: a reset; sorts in slices (0: not),
        see :mod:`~makini_desktop.table.staging`. ``sort``: a kept sort (its spec and what
        :meth:`kept_sort` gave), taken for the keys and order if it fits the rows."""
        version, step = self._version, 2 * slice_rows
        hint = self._take_sort(sort) if self._unkeyed else None
        yield from self._key_unkeyed_steps(slice_rows)
        ids = self._live_ids()
        if hint is not None and (yield from in_order_steps(hint, self._keys, self._descending)):
            order = hint if self._version == version else self._sorted(self._live_ids())
        elif self._sort_column >= 0 and 0 < step < len(ids):
            order = yield from display_order_in_pieces(ids, self._keys, self._descending, step)
            if self._version != version:  # rows changed meanwhile: sort them in one go
                order = self._sorted(self._live_ids())
        else:
            order = self._sorted(ids)
        self._order, self.visible = order, self._filter(order)
        self._version += 1
        self._sort_taken = hint is not None and order is hint
        forget_keys()  # the names the staged rows' keys were made of (see forget_keys)
        return Plan([Reset(list(self.visible))], counts_changed=True)

    def apply(self, upserts: Iterable[Row], deleted_keys: Iterable[str]) -> Plan:
        """Apply an incremental change set: changed or new rows, and deleted keys.

        A small change set gives row steps (a view keeps its selection and scroll
        position); a large one a reset, cheaper than thousands of row signals.
        """
        deleted = [str(k) for k in deleted_keys if str(k) in self._ids]
        latest: dict[str, Row] = {}  # a key twice in one change set: the last row wins
        for row in upserts:
            raw = row.get(res.F_KEY)
            if raw is not None:
                latest[str(raw)] = row
        changed: list[tuple[int, Row]] = []
        new_rows: list[Row] = []
        for key, row in latest.items():
            rid = self._ids.get(key)
            if not self.view.accepts(row):
                if rid is not None:
                    deleted.append(key)
                continue
            if rid is None:
                new_rows.append(row)
            else:
                changed.append((rid, row))
        if not (deleted or changed or new_rows):
            return Plan()
        self._version += 1
        if len(deleted) + len(changed) + len(new_rows) > BULK_CHANGE_ROWS:
            return self._apply_bulk(changed, new_rows, deleted)

        plan = Plan(counts_changed=True)
        pos = self._positions([rid for rid, _row in changed]
                              + [self._ids[k] for k in deleted if k in self._ids])
        hide: set[int] = set()  # leave the display (their positions are in pos)
        reorder: list[int] = []  # leave _order and go back in at their new place
        gone: set[int] = set()  # deleted: leave _order and the display
        repaint: list[int] = []
        sorted_ = self._sort_column >= 0
        for rid, row in changed:
            was_shown = rid in pos
            old_key = self._keys[rid] if sorted_ else None
            self._store_at(rid, row)
            moved = sorted_ and self._keys[rid] != old_key
            shown = self._passes(rid)
            if moved or (shown and not was_shown):
                if was_shown:
                    hide.add(rid)
                reorder.append(rid)
            elif was_shown and shown:
                repaint.append(pos[rid])
            elif was_shown:
                hide.add(rid)
        for key in deleted:
            rid = self._ids.pop(key)
            gone.add(rid)
            self.rows[rid] = None
        hide |= {rid for rid in gone if rid in pos}

        # Repaint the rows that changed in place while their positions are still valid.
        plan.steps.extend(Changed(p, p) for p in repaint)
        # Remove from the bottom up so the positions above stay valid.
        for p in sorted((pos[rid] for rid in hide), reverse=True):
            plan.steps.append(Removed(p, p))
            del self.visible[p]
        if gone or reorder:
            out = gone | set(reorder)
            self._order = [i for i in self._order if i not in out]
        new_ids = [self._store_new(row) for row in new_rows]
        if reorder or new_ids:
            self._insert_ids(reorder + new_ids, plan)
        return plan

    def _positions(self, rids: list[int]) -> dict[int, int]:
        """Where rows are shown (rows not shown are absent): a few rows are looked up one
        by one (an action's one row in 100k costs no dict of every position)."""
        if not rids:
            return {}
        visible = self.visible
        if len(rids) > 16:
            wanted = set(rids)
            return {rid: p for p, rid in enumerate(visible) if rid in wanted}
        found: dict[int, int] = {}
        for rid in rids:
            with contextlib.suppress(ValueError):
                found[rid] = visible.index(rid)
        return found

    def _apply_bulk(
        self, changed: list[tuple[int, Row]], new_rows: list[Row], deleted: list[str]
    ) -> Plan:
        for rid, row in changed:
            self._store_at(rid, row)
        for key in deleted:
            rid = self._ids.pop(key)
            self.rows[rid] = None
        for row in new_rows:
            self._store_new(row)
        self._order = self._sorted(self._live_ids())
        self.visible = self._filter(self._order)
        return Plan([Reset(list(self.visible))], counts_changed=True)

    def _insert_ids(self, ids: list[int], plan: Plan) -> None:
        """Put stored rows into ``_order`` and, when they pass the filter, into view."""
        self._version += 1
        if self._sort_column < 0:
            self._order.extend(ids)
            shown = self._filter(ids)
            if shown:
                plan.steps.append(Inserted(len(self.visible), shown))
                self.visible.extend(shown)
            return
        dkey = display_key(self._keys, self._descending)
        ids = sorted(ids, key=dkey)
        self._order = merged(self._order, ids, dkey)
        shown = self._filter(ids)
        if len(shown) > 1 and not self.visible:
            plan.steps.append(Inserted(0, shown))
            self.visible = list(shown)
            return
        if len(shown) > BULK_INSERT_ROWS:
            # Thousands of one-row inserts cost far more than one layout change; a view's
            # selection and current row follow their rows.
            self.visible = merged(self.visible, shown, dkey)
            plan.steps.append(Layout(list(self.visible)))
            return
        for rid in shown:
            p = bisect.bisect_right(self.visible, dkey(rid), key=dkey)
            plan.steps.append(Inserted(p, [rid]))
            self.visible.insert(p, rid)

    # -- sorting ------------------------------------------------------------------------------

    def sort(self, column: int, descending: bool = False) -> Plan:
        """Sort by a column's native values (-1: arrival order); empty cells go last.

        The sort is stable: rows that tie keep the order they had (sorting by building after
        sorting by name groups each building's rows by name, as in a file manager).
        """
        if column >= len(self.columns) or self._keep_deferred(column, descending):
            return Plan()
        # Rows are kept in order as they arrive, so the same sort again has nothing to do
        # (QTableView asks twice per header click).
        if (column, descending) == (self._sort_column, self._descending):
            return Plan()
        return self._resort(column, descending)

    def sort_steps(
        self,
        column: int,
        descending: bool = False,
        *,
        slice_rows: int = KEY_SLICE_ROWS,
    ) -> Generator[None, None, Plan]:
        """:meth:`sort` in steps: a generator that yields between slices of work.

        The first sort by a column computes a key per row, and sorting 100k keys takes over
        100 ms; done a slice per turn of the event loop (keys in slices, then runs sorted
        one by one and merged a slice at a time), the window stays responsive. The rows are
        reordered in the last step, in one go; the generator returns its plan. Dropping the
        generator early leaves the index as it was; if rows change meanwhile, the last step
        sorts them in one go.
        """
        if column >= len(self.columns) or self._keep_deferred(column, descending):
            return Plan()
        return (yield from self._sort_steps(column, descending, slice_rows))

    def _sort_steps(
        self, column: int, descending: bool, slice_rows: int
    ) -> Generator[None, None, Plan]:
        if (column, descending) == (self._sort_column, self._descending):
            return Plan()
        if column < 0:
            return self._resort(column, descending)
        step = max(1, slice_rows)
        version = self._version
        keys = self._key_cache.get(column)
        clock = TimeSlice()
        if keys is None:
            # A key costs 1-10 µs (natural, accent-insensitive text): at most ``step`` rows
            # and a slice of time between two yields.
            keyer = self._keyers[column]
            rows = self.rows
            keys = []
            chunk, rows_left = min(step, KEY_CHUNK_ROWS), step
            for start in range(0, len(rows), chunk):
                keys.extend([
                    EMPTY_KEY if row is None else keyer(row) for row in rows[start:start + chunk]
                ])
                rows_left -= chunk
                if rows_left <= 0 or clock.over() or start + chunk >= len(rows):
                    yield
                    clock.restart()
                    rows_left = step
            if self._version != version or len(keys) != len(self.rows):
                return self._resort(column, descending)  # rows changed: keys may be stale
            self._key_cache[column] = keys
        run = min(2 * step, ORDER_RUN_ROWS)
        if len(self._order) <= run:
            return self._resort(column, descending)
        out = yield from display_order_steps(self._order, keys, descending, run, clock)
        if self._version != version:
            return self._resort(column, descending)
        return self._resort(column, descending, out)

    def _resort(self, column: int, descending: bool, new_order: list[int] | None = None) -> Plan:
        old_visible = self.visible
        self._sort_column = column
        self._descending = descending
        self._rebuild_keys()
        self._order = new_order if new_order is not None else self._sorted(self._order)
        if len(old_visible) == len(self._order):
            self.visible = list(self._order)  # nothing filtered out
        else:
            # Sorting changes no row's membership: keep the same rows, in the new order.
            shown = set(old_visible)
            self.visible = [i for i in self._order if i in shown]
        self._version += 1
        return Plan([Layout(list(self.visible))])

    def _rebuild_keys(self) -> None:
        """Make ``_keys`` the sort column's keys, computing them unless cached."""
        column = self._sort_column
        if column < 0:
            self._keys = []
            return
        keys = self._key_cache.pop(column, None)
        if keys is None:
            keyer = self._keyers[column]
            keys = [EMPTY_KEY if row is None else keyer(row) for row in self.rows]
        self._key_cache[column] = keys  # most recently used last
        while len(self._key_cache) > KEY_CACHE_COLUMNS:
            del self._key_cache[next(iter(self._key_cache))]
        self._keys = keys

    def _sorted(self, ids: list[int]) -> list[int]:
        """``ids`` in display order; empty cells last in both directions (stable)."""
        if self._sort_column < 0:
            return sorted(ids)  # arrival order
        if self._unkeyed and self._unkeyed_col == self._sort_column:  # staged, not placed
            run_steps(self._key_unkeyed_steps(0))
        return display_order(ids, self._keys, self._descending)

    # -- searching and filtering: table/narrowing.py's Narrowing -------------------------

    def lookups_changed(self, dataset: str) -> Plan:
        """Names of ``dataset`` changed: resort, refilter or repaint what shows them."""
        cols = [c for c, ds in self._ref_cols if ds == dataset]
        if dataset == res.SITES.name:
            cols += self._area_cols
        # A row filter that reads these lookups (an asset's floor) is applied again.
        refilter = dataset in getattr(self._row_filter, "datasets", ())
        if not cols and not refilter:
            return Plan()
        self._version += 1  # a search running in slices matched against the old names
        self._search.forget_matches()
        for col in cols:
            self._key_cache.pop(col, None)  # keys of a reference column are its names
        plan = Plan()
        if self._sort_column in cols:  # names changed: so did the order
            plan.steps.extend(self._resort(self._sort_column, self._descending).steps)
        if refilter or (self._terms and self._search.searches(cols)):
            later = self._refilter()
            plan.steps.extend(later.steps)
            plan.counts_changed = True
        elif self.visible:
            last = len(self.visible) - 1
            plan.steps.extend(Changed(0, last, col) for col in cols)
        return plan

    # -- storing ------------------------------------------------------------------------------

    def _live_ids(self) -> list[int]:
        rows = self.rows
        if len(self._ids) == len(rows):  # nothing deleted
            # The ids in _ids (stored in id order): the same int objects, not a copy of
            # each (28 bytes a row above 256).
            return list(self._ids.values())
        return [i for i in range(len(rows)) if rows[i] is not None]

    def _store_new(self, row: Row) -> int:
        rid = len(self.rows)
        self.rows.append(row)
        self._search.append(row)
        site = row.get(self._site_field)
        self._site.append(None if site is None else str(site))
        for col, keys in self._key_cache.items():
            keys.append(self._keyers[col](row))
        self._ids[str(row[res.F_KEY])] = rid
        return rid

    def _store_chunk(self, rows: list[Row], keyed: bool = True) -> None:
        """:meth:`_store_new` of each row, whose ids ``_ids`` holds already, at once: sort
        keys by a list comprehension, not a loop over the cached columns per row (not the
        sort column's unless ``keyed``: see :meth:`stage`)."""
        if not rows:
            return
        self.rows.extend(rows)
        self._search.extend(rows)
        field = self._site_field
        self._site.extend([None if site is None else site if site.__class__ is str
                           else str(site) for site in [row.get(field) for row in rows]])
        unkeyed = -1 if keyed or self._deferred is not None else self._sort_column
        for col, keys in self._key_cache.items():
            if col == unkeyed and (not self._unkeyed or self._unkeyed_col == col):
                self._unkeyed_col = col
                self._unkeyed.append((len(keys), len(keys) + len(rows)))
                keys.extend([UNKEYED] * len(rows))
                continue
            keyer = self._keyers[col]
            keys.extend([keyer(row) for row in rows])

    def _store_at(self, rid: int, row: Row) -> None:
        self.rows[rid] = row
        self._search.store(rid, row)
        site = row.get(self._site_field)
        self._site[rid] = None if site is None else str(site)
        for col, keys in self._key_cache.items():
            keys[rid] = self._keyers[col](row)
