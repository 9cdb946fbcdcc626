"""The CLI ``export``'s table: the rows and columns a tab would show, for the command line.

Without ``--raw``, CSV and XLSX get the human table the app's File → Export writes
(:mod:`makini_desktop.export_human`): the tab's default columns, or a saved view's. The rows
go through the same :class:`~makini_desktop.table.rowindex.RowIndex` as the tab's table,
so ``--search``, ``--building`` and ``--view`` select and order exactly what the tab would.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from makini_desktop.api import resources as res
from makini_desktop.store.views import ViewState, ViewStore, presets_for
from makini_desktop.table.cells import Cells
from makini_desktop.table.criteria import CRITERIA_IDS, criterion, own_filters
from makini_desktop.table.lookups import Lookups
from makini_desktop.table.rowindex import RowIndex
from makini_desktop.usage import UsageError

__all__ = ["TableChoice", "lookup_views", "needs_table", "saved_view", "select_rows"]

Row = dict[str, Any]


@dataclass(frozen=True)
class TableChoice:
    """The rows selected and the columns to write (logical indexes of the view's columns)."""

    rows: list[Row]
    columns: list[int]
    cells: Cells
    unapplied_filters: tuple[str, ...] = ()
    """A saved view's filters the command line has no filter for (said on stderr)."""


def needs_table(ns: argparse.Namespace) -> bool:
    """True when the rows go through the table (anything but today's raw whole list)."""
    human = not ns.raw and ns.fmt in ("csv", "xlsx")
    return human or bool(ns.search or ns.building or ns.view)


def lookup_views(view: res.View) -> list[res.View]:
    """The views whose records name what this view's cells refer to (buildings always:
    their names and area units). Locations are floors and spaces together."""
    wanted = [res.BUILDINGS_VIEW]
    if any(c.ref == res.LOCATIONS.name for c in view.columns):
        wanted += [res.FLOORS_VIEW, res.SPACES_VIEW]
    return [v for v in wanted if v is not view]


def saved_view(resource: str, name: str) -> ViewState:
    """A tab's saved view (or built-in view) by name.

    Raises:
        UsageError: there is no view of that name for the tab.
    """
    store = ViewStore()
    found = store.find(resource, name)
    if found is None:
        found = next((p for p in presets_for(resource)
                      if p.name.casefold() == name.casefold()), None)
    if found is None:
        names = [v.name for v in store.views(resource) + presets_for(resource)]
        known = f"; views of {resource}: {', '.join(names)}" if names else (
            f"; {resource} has no saved view")
        raise UsageError(f"no view named {name!r}{known}")
    return found


def _building_key(name: str, sites: Sequence[Mapping[str, Any]]) -> str:
    wanted = " ".join(name.split()).casefold()
    for field in (res.F_NAME, res.F_CODE, res.F_KEY):
        for site in sites:
            value = site.get(field)
            if isinstance(value, str) and value.casefold() == wanted:
                return str(site[res.F_KEY])
    names = sorted(str(s.get(res.F_NAME) or s.get(res.F_KEY)) for s in sites)
    shown = ", ".join(names[:12]) + (", …" if len(names) > 12 else "")
    raise UsageError(f"no building named {name!r}; buildings: {shown or 'none'}")


def select_rows(
    view: res.View, rows: Sequence[Row], lookup_rows: Mapping[str, Sequence[Row]], *,
    search: str = "", building: str = "", view_state: ViewState | None = None,
    sort: bool = True,
) -> TableChoice:
    """The rows a tab would show, in its order, and the columns it would show.

    Args:
        view: the resource view.
        rows: every record of the view, in the server's order.
        lookup_rows: the records of the datasets the view names (sites, locations).
        search: the search text (added to a saved view's).
        building: a building's name, code or key; empty for every building.
        view_state: a saved view (columns, filters, search, sort).
        sort: order as the tab does (a saved view's sort, else its first column); False
            keeps the server's order.

    Raises:
        UsageError: an unknown building.
    """
    lookups = Lookups()
    for dataset, records in lookup_rows.items():
        # A space names its floor, an asset its space: locations are all of them.
        own = list(rows) if dataset == view.dataset.name else []
        lookups.set_rows(dataset, [*records, *own])
    if view.dataset.name not in lookup_rows:
        lookups.set_rows(view.dataset.name, rows)
    index = RowIndex(view, lookups)
    index.replace(rows)
    ids = [c.id for c in view.columns]
    columns = [i for i, c in enumerate(view.columns) if not c.hidden]
    terms = [search]
    unapplied: tuple[str, ...] = ()
    if view_state is not None:
        chosen = [ids.index(c) for c in view_state.columns if c in ids]
        columns = chosen or columns
        index.set_criterion(criterion(view.name, own_filters(view_state.filters)))
        unapplied = tuple(k for k in view_state.filters if k not in CRITERIA_IDS)
        terms.insert(0, view_state.search)
    index.set_searchable_columns(columns)
    if building:
        sites = lookup_rows.get(res.SITES.name, rows if view.dataset is res.SITES else ())
        index.set_building(_building_key(building, sites))
    index.search(" ".join(t for t in terms if t))
    if sort:
        column, descending = 0, False
        if view_state is not None and view_state.sort_column in ids:
            column, descending = ids.index(view_state.sort_column), view_state.descending
        index.sort(column, descending)
    shown = [index.rows[i] for i in index.visible]
    return TableChoice([r for r in shown if r is not None], columns, index.cells, unapplied)
