"""Which records refer to which: the detail pane's related records, looked up by key.

:class:`RelatedIndex` holds, per connection, every row of every dataset as it arrives (the
floors the Spaces tab leaves out included) and, for each relation the detail pane shows, a
dict from the referenced key to the keys of the rows that refer to it:

* ``locations`` by ``siteKey`` (a building's floors and spaces) and by ``parentKey``
  (a floor's spaces);
* ``assets`` by ``locationKey`` (a space's assets) and by ``parentKey`` (an asset's parts);
* ``moves`` by every ``fromLocationKey``/``toLocationKey`` and every ``assetKey`` of their
  items (the moves that involve a space, that carry an asset);
* ``visits`` by ``locationKey`` (the visits expected in a space).

It is kept up to date row by row as lists load and change (``set_rows``, ``update_rows``,
the same calls a tab's rows get), so a lookup costs a dict access and the rows found, never
a scan of the list.

The rows a start from the cache stages (``update_rows(..., later=True)``) are indexed when
first needed instead: they wait in arrival order until a read asks for their list, or until
:meth:`RelatedIndex.catch_up` indexes them a slice per turn of the loop once every tab
shows its rows (the workspace calls it then). So a start from the cache fills its tabs
without the index's work (about a tenth of it), and a detail pane opened meanwhile pays only
for its own lists. Pages of a sync are indexed as they arrive, as before: a sync compares
pages with the index while it runs.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

from makini_desktop.api import resources as res
from makini_desktop.table.lookups import Lookups

Row = Mapping[str, Any]
Extract = Callable[[Row], Iterable[str]]
R = TypeVar("R", bound=Mapping[str, Any])

BY_SITE = "site"
BY_PARENT = "parent"
BY_LOCATION = "location"
BY_ASSET = "asset"
"""Names of the relations a dataset is indexed by (see :data:`RELATIONS`)."""


def _item_fields(*names: str) -> Extract:
    """The values of ``names`` over a move's items (a malformed item is skipped)."""

    def read(row: Row) -> Iterable[str]:
        items = row.get(res.F_ITEMS)
        if not isinstance(items, list):
            return ()
        found: dict[str, None] = {}
        for item in items:
            if not isinstance(item, Mapping):
                continue
            for name in names:
                value = item.get(name)
                if value is not None and value != "":
                    found[str(value)] = None
        return found.keys()

    return read


Relation = str | Extract
"""A field that holds the key referred to, or what reads the keys a row refers to."""

RELATIONS: Mapping[str, Mapping[str, Relation]] = {
    res.SITES.name: {},
    res.LOCATIONS.name: {BY_SITE: res.F_SITE_KEY, BY_PARENT: res.F_PARENT_KEY},
    res.ASSETS.name: {BY_LOCATION: res.F_LOCATION_KEY, BY_PARENT: res.F_PARENT_KEY},
    res.MOVES.name: {
        BY_LOCATION: _item_fields(res.F_FROM_LOCATION_KEY, res.F_TO_LOCATION_KEY),
        BY_ASSET: _item_fields(res.F_ASSET_KEY),
    },
    res.VISITS.name: {BY_LOCATION: res.F_LOCATION_KEY},
}
"""Per dataset, the relations it is indexed by: a name and what a row refers to."""


Referrers = str | tuple[str, ...] | dict[str, None]
"""The keys of the rows referring to one key, in arrival order: the key itself while there
is one (most spaces hold one or two assets, most assets are part of nothing: a dict each,
184 bytes, was 12 MB of a large portfolio's index), a tuple of up to :data:`FEW_REFERRERS`
(56 bytes for two: 47k spaces with a few assets or visits were 7 MB of dicts), a dict once
there are more."""

FEW_REFERRERS = 8
"""Referrers held in a tuple (each new one copies it); more go in a dict."""

CATCH_UP_SLICE_SECONDS = 0.008
"""How long :meth:`RelatedIndex.catch_up` indexes waiting rows before a turn of the loop."""
CATCH_UP_ROWS = 2_000
"""Rows indexed at a time by :meth:`RelatedIndex.catch_up` (then the clock is read)."""


def _link(by_key: dict[str, Referrers], target: str, key: str) -> None:
    """Record that the row ``key`` refers to ``target``."""
    keys = by_key.get(target)
    if keys is None:
        by_key[target] = key
    elif keys.__class__ is str:
        if keys != key:
            by_key[target] = (keys, key)
    elif keys.__class__ is tuple:
        if key not in keys:
            by_key[target] = (*keys, key) if len(keys) < FEW_REFERRERS else dict.fromkeys(
                (*keys, key))
    else:
        keys[key] = None  # type: ignore[index]


def _targets(relation: Relation, row: Row) -> Iterable[str]:
    if isinstance(relation, str):
        value = row.get(relation)
        if value is None or value == "":
            return ()
        return (value if value.__class__ is str else str(value),)
    return relation(row)


class RelatedIndex:
    """Every row of a connection's datasets by key, and who refers to whom.

    Args:
        relations: per dataset, the relations to index (default :data:`RELATIONS`).
    """

    def __init__(self, relations: Mapping[str, Mapping[str, Relation]] = RELATIONS) -> None:
        self._relations = relations
        self._rows: dict[str, dict[str, Row]] = {name: {} for name in relations}
        # dataset -> relation -> referenced key -> the keys of the rows referring to it
        # (see Referrers)
        self._refs: dict[str, dict[str, dict[str, Referrers]]] = {
            name: {rel: {} for rel in rels} for name, rels in relations.items()
        }
        self._fed: set[str] = set()
        # dataset -> what arrived and is not indexed yet, in arrival order: (rows, keys gone)
        self._waiting: dict[str, list[tuple[list[Row], list[str]]]] = {}
        self._listeners: list[Callable[[str], None]] = []

    def subscribe(self, listener: Callable[[str], None]) -> None:
        """Call ``listener(dataset)`` after rows of a dataset arrived, changed or went."""
        self._listeners.append(listener)

    # -- reading --------------------------------------------------------------------------------

    def get(self, dataset: str, key: Any) -> Row | None:
        """The row ``key`` of ``dataset``, or None when it is not held."""
        self._settle(dataset)
        rows = self._rows.get(dataset)
        return None if rows is None or key is None else rows.get(str(key))

    def count(self, dataset: str) -> int:
        """Rows of a dataset held."""
        self._settle(dataset)
        return len(self._rows.get(dataset, {}))

    def has_rows(self, dataset: str) -> bool:
        """True once rows of the dataset arrived (an empty list arrived counts too)."""
        return dataset in self._fed

    def name(self, dataset: str, key: Any) -> str | None:
        """The name a record is shown by (its name, else its code), or None if not held."""
        row = self.get(dataset, key)
        return None if row is None else (Lookups._row_name(row) or None)

    def referring(self, dataset: str, relation: str, key: Any) -> list[Row]:
        """The rows of ``dataset`` whose ``relation`` refers to ``key``, in arrival order."""
        if key is None:
            return []
        self._settle(dataset)
        keys = self._refs.get(dataset, {}).get(relation, {}).get(str(key))
        if not keys:
            return []
        rows = self._rows[dataset]
        if keys.__class__ is str:
            return [rows[keys]] if keys in rows else []
        return [rows[k] for k in keys if k in rows]

    # -- filling --------------------------------------------------------------------------------

    def set_rows(self, dataset: str, rows: Iterable[Row]) -> None:
        """Hold exactly ``rows`` for a dataset (a list read anew, or cleared), indexed now;
        what waited for the dataset is dropped."""
        if dataset not in self._relations:
            return
        self._rows[dataset] = {}
        self._refs[dataset] = {rel: {} for rel in self._relations[dataset]}
        self._fed.add(dataset)
        self._waiting.pop(dataset, None)
        self._put(dataset, rows)
        self._notify(dataset)

    def update_rows(self, dataset: str, rows: Iterable[Row], deleted_keys: Iterable[str] = (),
                    *, later: bool = False) -> None:
        """Add or replace ``rows`` and forget ``deleted_keys``.

        Args:
            later: index them when first read or caught up (:meth:`catch_up`), not now: for
                a start from the cache, whose tabs are filled first. Rows arriving while
                others wait are queued behind them, whatever ``later`` says (the order of
                arrival is kept).
        """
        if dataset not in self._relations:
            return
        self._fed.add(dataset)
        gone = [str(k) for k in deleted_keys]
        if later or dataset in self._waiting:
            self._waiting.setdefault(dataset, []).append((list(rows), gone))
        else:
            self._apply(dataset, list(rows), gone)
        self._notify(dataset)

    @property
    def waiting(self) -> int:
        """Rows and deletions that arrived and are not indexed yet (see :meth:`catch_up`)."""
        return sum(len(rows) + len(gone) for waits in self._waiting.values()
                   for rows, gone in waits)

    async def catch_up(self) -> None:
        """Index every row waiting, about :data:`CATCH_UP_SLICE_SECONDS` of work per turn of
        the loop (rows arriving meanwhile are indexed too). A read between two slices
        indexes its own list at once."""
        started = time.perf_counter()
        while self._waiting:
            dataset = next(iter(self._waiting))
            waits = self._waiting[dataset]
            rows, gone = waits[0]
            if len(rows) > CATCH_UP_ROWS:  # the rest waits, first in line
                waits[0] = (rows[CATCH_UP_ROWS:], gone)
                self._put(dataset, rows[:CATCH_UP_ROWS])
            else:
                waits.pop(0)
                if not waits:
                    del self._waiting[dataset]
                self._apply(dataset, rows, gone)
            if time.perf_counter() - started >= CATCH_UP_SLICE_SECONDS:
                await asyncio.sleep(0)
                started = time.perf_counter()

    def clear(self) -> None:
        """Forget everything (the connection changed)."""
        fed = list(self._fed)
        self._waiting.clear()
        self._rows = {name: {} for name in self._relations}
        self._refs = {name: {rel: {} for rel in rels} for name, rels in self._relations.items()}
        self._fed.clear()
        for dataset in fed:
            self._notify(dataset)

    def changed_outside(
        self, dataset: str, rows: Iterable[R], inside: Callable[[R], bool],
        seen: set[str] | None = None,
    ) -> list[R]:
        """The rows for which ``inside`` is False that are new or changed (by ``updatedAt``).

        A tab's rows compare a new list with what they hold but skip the rows their view
        leaves out (the Spaces tab's floors); this compares those against the index, so a
        refresh still brings them here. Their keys are added to ``seen``.
        """
        self._settle(dataset)
        held = self._rows.get(dataset, {})
        out: list[R] = []
        for row in rows:
            raw = row.get(res.F_KEY)
            if raw is None or inside(row):
                continue
            key = str(raw)
            if seen is not None:
                seen.add(key)
            old = held.get(key)
            if old is None or old.get(res.F_UPDATED) != row.get(res.F_UPDATED) or (
                row.get(res.F_UPDATED) is None and old != row
            ):
                out.append(row)
        return out

    def keys_outside_not_in(
        self, dataset: str, seen: set[str], inside: Callable[[Row], bool]
    ) -> list[str]:
        """Keys of the rows held for which ``inside`` is False and that are not in ``seen``."""
        self._settle(dataset)
        return [k for k, row in self._rows.get(dataset, {}).items()
                if k not in seen and not inside(row)]

    # -- internals ------------------------------------------------------------------------------

    def _settle(self, dataset: str) -> None:
        """Index what waits for ``dataset``, in arrival order (every read calls it first)."""
        for rows, gone in self._waiting.pop(dataset, ()):
            self._apply(dataset, rows, gone)

    def _apply(self, dataset: str, rows: list[Row], gone: list[str]) -> None:
        self._put(dataset, rows)
        held = self._rows[dataset]
        for key in gone:
            old = held.pop(key, None)
            if old is not None:
                self._unlink(dataset, key, old)

    def _put(self, dataset: str, rows: Iterable[Row]) -> None:
        # Runs for every row that reaches a tab: plain field relations are read inline.
        held = self._rows[dataset]
        refs = self._refs[dataset]
        relations = self._relations[dataset]
        fields_of = [(how, refs[rel]) for rel, how in relations.items() if isinstance(how, str)]
        readers = [(how, refs[rel]) for rel, how in relations.items() if not isinstance(how, str)]
        for row in rows:
            raw = row.get(res.F_KEY)
            if raw is None:
                continue
            key = raw if raw.__class__ is str else str(raw)
            old = held.get(key)
            if old is not None:
                self._unlink(dataset, key, old)
            held[key] = row
            for name, by_key in fields_of:
                value = row.get(name)
                if value is None or value == "":
                    continue
                target = value if value.__class__ is str else str(value)
                if target in by_key:
                    _link(by_key, target, key)
                else:
                    by_key[target] = key
            for read, by_key in readers:
                for target in read(row):
                    _link(by_key, target, key)

    def _unlink(self, dataset: str, key: str, row: Row) -> None:
        refs = self._refs[dataset]
        for rel, how in self._relations[dataset].items():
            by_key = refs[rel]
            for target in _targets(how, row):
                keys = by_key.get(target)
                if keys is None:
                    continue
                if keys.__class__ is str:
                    if keys == key:
                        del by_key[target]
                    continue
                if keys.__class__ is tuple:
                    left = tuple(k for k in keys if k != key)
                    if len(left) != len(keys):
                        by_key[target] = left[0] if len(left) == 1 else left
                    continue
                keys.pop(key, None)  # type: ignore[union-attr]
                if not keys:
                    del by_key[target]

    def _notify(self, dataset: str) -> None:
        for listener in list(self._listeners):
            listener(dataset)


__all__ = ["BY_ASSET", "BY_LOCATION", "BY_PARENT", "BY_SITE", "RELATIONS", "RelatedIndex"]
