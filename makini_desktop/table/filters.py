"""The filters beside a tab's search box, without Qt: their ids, their choices, their tests.

Each view offers a few filters (:data:`VIEW_FILTERS`); a filter has a stable id and a
chosen value id, both plain strings, so a filter state is a ``dict[str, str]`` that saved
views and chart clicks can store and hand back (an absent or empty value means "All"):

=============  ==================  ===============================================================
filter id      views               value ids
=============  ==================  ===============================================================
``floor``      spaces, assets      a floor's key (an asset is on the floor of its location)
``type``       spaces              a space type code (``meeting_room``)
``vacancy``    spaces              ``vacant`` (a seat type, see ``SEATED_SPACE_TYPES``, with no
                                   occupant) or ``occupied`` (an occupant is assigned)
``category``   assets              a category name as the API sends it
``status``     moves, visitors     a status code (``pending``, ``checked_in``)
``date``       visitors            ``today``, ``tomorrow``, ``this_week`` (Monday to Sunday),
                                   ``past_7_days`` (the last 7 × 24 hours); local time, by
                                   the visit's expected time
=============  ==================  ===============================================================

:func:`row_filter` turns a state into a :class:`RowFilter`, a predicate on a row that the
row index applies together with the building filter and the search.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from makini_desktop.api import resources as res
from makini_desktop.api.values import display, parse_datetime
from makini_desktop.table.collate import collation_key
from makini_desktop.table.lookups import Lookups

FLOOR = "floor"
TYPE = "type"
VACANCY = "vacancy"
CATEGORY = "category"
STATUS = "status"
DATE = "date"

VACANT = "vacant"
OCCUPIED = "occupied"
TODAY = "today"
TOMORROW = "tomorrow"
THIS_WEEK = "this_week"
PAST_7_DAYS = "past_7_days"

VIEW_FILTERS: Mapping[str, tuple[str, ...]] = {
    res.SPACES_VIEW.name: (FLOOR, TYPE, VACANCY),
    res.ASSETS_VIEW.name: (FLOOR, CATEGORY),
    res.MOVES_VIEW.name: (STATUS,),
    res.VISITORS_VIEW.name: (STATUS, DATE),
}
"""The filters of each view, in the order they sit beside the search box."""

ALL_LABELS: Mapping[str, str] = {
    FLOOR: "All floors", TYPE: "All types", VACANCY: "All", CATEGORY: "All categories",
    STATUS: "All statuses", DATE: "All dates",
}
"""The first choice of each filter, which lets every row through."""

LABELS: Mapping[str, str] = {
    FLOOR: "Floor", TYPE: "Type", VACANCY: "Vacancy", CATEGORY: "Category",
    STATUS: "Status", DATE: "Date",
}
"""What each filter is called (its accessible name says "<Tab> <label> filter")."""

_DATE_CHOICES: tuple[tuple[str, str], ...] = (
    (TODAY, "Today"), (TOMORROW, "Tomorrow"), (THIS_WEEK, "This week"),
    (PAST_7_DAYS, "Past 7 days"),
)
_VACANCY_CHOICES: tuple[tuple[str, str], ...] = ((VACANT, "Vacant"), (OCCUPIED, "Occupied"))


@dataclass(frozen=True, slots=True)
class Choice:
    """One entry of a filter's list: the value id kept in a state, and its label."""

    value: str
    label: str


def _enum_choices(codes: Iterable[str]) -> list[Choice]:
    return [Choice(code, display(res.Kind.ENUM, code)) for code in codes]


def choices(
    view: res.View,
    filter_id: str,
    lookups: Lookups,
    *,
    building: str | None = None,
    rows: Iterable[Mapping[str, Any]] = (),
) -> list[Choice]:
    """A filter's choices after "All", in the order listed.

    Args:
        view: the tab's view.
        filter_id: one of the view's :data:`VIEW_FILTERS`.
        lookups: the connection's names and floors.
        building: the building chosen in the toolbar (floors of that building only).
        rows: the rows held (asset categories are the ones in use).
    """
    if filter_id == FLOOR:
        names = lookups.names(res.LOCATIONS.name)
        sites = lookups.names(res.SITES.name)
        out = []
        for key in lookups.floors(building):
            label = names.get(key) or key
            if building is None:  # floors of every building: say whose
                site = sites.get(lookups.site_of(key) or "")
                label = f"{label} — {site}" if site else label
            out.append(Choice(key, label))
        if building is None:
            # Grouped by building (by name), each building's floors in level order.
            order = {key: n for n, key in enumerate(lookups.floors(None))}
            out.sort(key=lambda c: (
                collation_key(sites.get(lookups.site_of(c.value) or "", "")), order[c.value]))
        return out
    if filter_id == TYPE:
        return _enum_choices(res.SPACE_TYPES)
    if filter_id == VACANCY:
        return [Choice(v, label) for v, label in _VACANCY_CHOICES]
    if filter_id == CATEGORY:
        found = {str(r.get(res.F_CATEGORY)) for r in rows if r.get(res.F_CATEGORY)}
        return [Choice(c, c) for c in sorted(found, key=collation_key)]
    if filter_id == STATUS:
        codes = res.MOVE_STATUSES if view.dataset is res.MOVES else res.VISIT_STATUSES
        return _enum_choices(codes)
    if filter_id == DATE:
        return [Choice(v, label) for v, label in _DATE_CHOICES]
    return []


Test = Callable[[Mapping[str, Any]], bool]
"""A filter's test of one row."""
Select = Callable[[list[int], Sequence[Mapping[str, Any] | None]], list[int]]
"""A filter's test of many rows at once: the ids (into the rows by id) that pass, in order."""


class RowFilter:
    """A predicate on a row: True when the row passes every filter of a state.

    :meth:`select` tests a list of rows at once: a comprehension per filter reading the
    row's field inline costs a tenth of a call of the predicate per row (the row index
    narrows 100k rows with it).

    Attributes:
        state: the (non-empty) filter values it tests, by filter id.
        datasets: the lookups it reads (the row index refilters when they change).
    """

    def __init__(
        self,
        state: Mapping[str, str],
        tests: list[tuple[Test, Select]],
        datasets: frozenset[str],
    ) -> None:
        self.state = dict(state)
        self.datasets = datasets
        self._selects = [select for _test, select in tests]
        row_tests = [test for test, _select in tests]
        if len(row_tests) == 1:
            self._call = row_tests[0]
        elif len(row_tests) == 2:
            a, b = row_tests
            self._call = lambda row: a(row) and b(row)
        else:
            self._call = lambda row: all(t(row) for t in row_tests)

    def __call__(self, row: Mapping[str, Any]) -> bool:
        return self._call(row)

    def select(self, ids: list[int], rows: Sequence[Mapping[str, Any] | None]) -> list[int]:
        """The ids of ``ids`` whose row (``rows[id]``, a live row) passes, in order."""
        for select in self._selects:
            if not ids:
                break
            ids = select(ids, rows)
        return ids


def row_filter(
    view: res.View,
    state: Mapping[str, str],
    lookups: Lookups,
    *,
    now: datetime | None = None,
) -> RowFilter | None:
    """The predicate of a filter state for a view's rows; None when nothing is filtered.

    Values of filters the view does not have are ignored; so is an unknown value of a
    vacancy or date filter.

    Args:
        view: the tab's view.
        state: filter id → chosen value id.
        lookups: the connection's floors (an asset's floor is its location's).
        now: the local time "today" is counted from (tests pass one).
    """
    offered = VIEW_FILTERS.get(view.name, ())
    chosen = {k: v for k, v in state.items() if k in offered and v}
    tests: list[tuple[Test, Select]] = []
    datasets: set[str] = set()
    for filter_id, value in chosen.items():
        test = _test(view, filter_id, value, lookups, now)
        if test is not None:
            tests.append(test)
            if filter_id == FLOOR and view.dataset is not res.LOCATIONS:
                datasets.add(res.LOCATIONS.name)
    if not tests:
        return None
    return RowFilter(chosen, tests, frozenset(datasets))


def _test(
    view: res.View, filter_id: str, value: str, lookups: Lookups, now: datetime | None
) -> tuple[Test, Select] | None:
    if filter_id == FLOOR:
        if view.dataset is res.LOCATIONS:
            return _text_equals(res.F_PARENT_KEY, value)
        return _on_floor(lookups, value)
    if filter_id == TYPE:
        return _equals(res.F_TYPE, value)
    if filter_id == VACANCY:
        if value == VACANT:
            return _each(lambda row: row.get(res.F_TYPE) in res.SEATED_SPACE_TYPES
                         and not _occupied(row))
        if value == OCCUPIED:
            return _each(_occupied)
        return None
    if filter_id == CATEGORY:
        return _text_equals(res.F_CATEGORY, value)
    if filter_id == STATUS:
        return _equals(res.F_STATUS, value)
    if filter_id == DATE:
        bounds = date_bounds(value, now)
        if bounds is None:
            return None
        start, end = bounds
        return _each(lambda row: start <= _stamp(row.get(res.F_EXPECTED)) < end)
    return None


# Each of these gives a filter's test of a row and the same test of many rows; the
# comprehensions read live rows only (the row index hands over live ids).

def _equals(field: str, value: str) -> tuple[Test, Select]:
    """The field's value is ``value``."""
    def select(ids: list[int], rows: Sequence[Mapping[str, Any] | None]) -> list[int]:
        return [i for i in ids if rows[i].get(field) == value]  # type: ignore[union-attr]

    return (lambda row: row.get(field) == value), select


def _text_equals(field: str, value: str) -> tuple[Test, Select]:
    """The field's value, as text, is ``value`` (keys and names may come as numbers)."""
    def select(ids: list[int], rows: Sequence[Mapping[str, Any] | None]) -> list[int]:
        return [i for i in ids
                if (v := rows[i].get(field)) == value  # type: ignore[union-attr]
                or (v.__class__ is not str and str(v) == value)]

    return (lambda row: str(row.get(field)) == value), select


def _on_floor(lookups: Lookups, floor: str) -> tuple[Test, Select]:
    """The row's location is the floor or a space on it (as the lookups say now)."""
    floor_of = lookups.floor_of
    field = res.F_LOCATION_KEY

    def select(ids: list[int], rows: Sequence[Mapping[str, Any] | None]) -> list[int]:
        on = lookups.on_floor(floor)  # asked per call: the floors may have changed
        return [i for i in ids
                if ((v := rows[i].get(field)).__class__ is str  # type: ignore[union-attr]
                    and v in on)
                or (v is not None and v.__class__ is not str and str(v) in on)]

    return (lambda row: floor_of(row.get(field)) == floor), select


def _each(test: Test) -> tuple[Test, Select]:
    """A test with no faster form for many rows: called per row."""
    def select(ids: list[int], rows: Sequence[Mapping[str, Any] | None]) -> list[int]:
        return [i for i in ids if test(rows[i])]  # type: ignore[arg-type]

    return test, select


def _occupied(row: Mapping[str, Any]) -> bool:
    """An occupant is assigned (the ``occupied`` flag, or a name when the flag is missing)."""
    flag = row.get(res.F_OCCUPIED)
    if isinstance(flag, bool):
        return flag or bool(row.get(res.F_OCCUPANT))
    return bool(row.get(res.F_OCCUPANT))


def date_bounds(value: str, now: datetime | None = None) -> tuple[float, float] | None:
    """The POSIX timestamps [start, end) of a date choice, in local time; None if unknown."""
    local = (now or datetime.now()).astimezone()
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)

    def day(offset: int) -> float:
        # Midnight ``offset`` days away, as a local wall-clock time (DST days are 23/25 h).
        moved = (midnight + timedelta(days=offset)).replace(tzinfo=None)
        return moved.astimezone().timestamp()

    if value == TODAY:
        return day(0), day(1)
    if value == TOMORROW:
        return day(1), day(2)
    if value == THIS_WEEK:
        monday = -local.weekday()
        return day(monday), day(monday + 7)
    if value == PAST_7_DAYS:
        end = local.timestamp()
        return end - 7 * 86400, end
    return None


_NO_TIME = float("nan")  # compares False with every bound: a visit without a time never passes


@functools.lru_cache(maxsize=1 << 16)
def _stamp_of(value: str) -> float:
    parsed = parse_datetime(value)
    if parsed is None:
        return _NO_TIME
    try:
        return parsed.timestamp()
    except (OverflowError, ValueError, OSError):
        return _NO_TIME


def _stamp(value: Any) -> float:
    return _stamp_of(value) if isinstance(value, str) else _NO_TIME
