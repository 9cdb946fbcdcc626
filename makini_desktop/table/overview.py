"""The Overview's figures, computed from the rows the app holds (no Qt).

One call, :func:`compute`, turns the rows of the Spaces, Visitors, Moves and Assets lists
(and the floors the lookups know) into an :class:`Overview` (the figures' dataclasses are
in :mod:`~makini_desktop.table.overview_figures`): occupancy per building and per
floor, the stack of a building's floors, the front desk's day, the move pipeline and the
asset audit. The UI runs it in a worker thread (it reads plain lists and returns frozen
dataclasses), so the window keeps painting while it counts.

Definitions (issue 11):

* **seats**: the summed ``capacity`` of the spaces of :data:`res.SEATED_SPACE_TYPES`; **occupied**:
  the summed capacity of those whose ``occupied`` is true; **vacant** = seats − occupied.
  Rooms (:data:`res.ROOM_TYPES`) are counted apart: how many, and their summed capacity.
* **today** is the local calendar day of ``now``. Visitors by hour: *expected* counts the
  visits (not cancelled) expected in that hour, *arrived* those checked in in that hour. By
  status: *expected* = still expected today; *on site* = checked in now (whatever the day:
  the people in the building); *left* = checked out today; *no-show* = marked no-show,
  expected today.
* **moves ahead**: moves still open (:data:`res.MOVE_OPEN_STATUSES`) scheduled on each of
  the 14 days from today.
* **not audited**: assets whose ``lastAuditedAt`` is missing or 12 months or more before
  ``now`` (the same day of the month a year earlier).
"""

from __future__ import annotations

from bisect import bisect_right
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from functools import partial
from itertools import repeat
from operator import is_not
from typing import Any, cast

from makini_desktop.api import resources as res
from makini_desktop.table.overview_figures import (
    AssetFigures,
    BuildingFigures,
    FloorFigures,
    FloorInfo,
    MoveFigures,
    Occupancy,
    Overview,
    VisitorFigures,
)

__all__ = [
    "AHEAD_DAYS",
    "NO_CATEGORY",
    "UNKNOWN_FLOOR",
    "VISIT_STATUS_IDS",
    "AssetFigures",
    "BuildingFigures",
    "FloorFigures",
    "FloorInfo",
    "MoveFigures",
    "Occupancy",
    "Overview",
    "OverviewCache",
    "OverviewInput",
    "VisitorFigures",
    "audit_cutoff",
    "compute",
    "local_day_bounds",
]

AHEAD_DAYS = 14
CHUNK_ROWS = 2048
"""Rows :func:`compute` reads per slice (see :func:`_slices`)."""
NO_CATEGORY = "Uncategorised"
UNKNOWN_FLOOR = "No floor"
VISIT_STATUS_IDS: tuple[str, ...] = ("expected", "on_site", "left", "no_show")
"""The front desk's statuses, in the order a day goes."""

_SEATS = frozenset(res.SEATED_SPACE_TYPES)
_ROOMS = frozenset(res.ROOM_TYPES)
_OPEN_MOVES = frozenset(res.MOVE_OPEN_STATUSES)
_TAIL = slice(19, None)
"""``value[_TAIL] == "Z"``: a text of 20 ending in Z, the contract's form (a slice built once)."""


Row = dict[str, Any]
"""A record as a table holds it (JSON: fields by name)."""


@dataclass(frozen=True)
class OverviewInput:
    """What :func:`compute` reads: plain rows and names, safe to hand to a thread.

    The row sequences may be the lists a table holds, with None for rows it dropped:
    :func:`compute` copies them a slice at a time (each copy one C-level step, atomic under
    the GIL), so the GUI thread hands over references and never walks 100k rows itself.

    Attributes:
        spaces: Location rows (floors among them are ignored).
        floors: the floors known.
        sites: building key → name.
        visits, moves, assets: the rows of those lists.
        building: one building's key, or None for all of them.
        now: the instant "today" and "12 months" are measured from (aware).
        versions: per list (``spaces``, ``visits``, ``moves``, ``assets``), its table's
            change counter read with it (:attr:`~.rowindex.RowIndex.version`): with an
            :class:`OverviewCache`, the figures of a list whose version did not change are
            reused. A list without one is always counted.
    """

    spaces: Sequence[Row | None] = ()
    floors: Sequence[FloorInfo] = ()
    sites: Mapping[str, str] = field(default_factory=dict)
    visits: Sequence[Row | None] = ()
    moves: Sequence[Row | None] = ()
    assets: Sequence[Row | None] = ()
    building: str | None = None
    now: datetime = field(default_factory=lambda: datetime.now(UTC))
    versions: Mapping[str, int] = field(default_factory=dict)


class OverviewCache:
    """Each list's figures from the last :func:`compute`, reused while that list is as it was.

    "As it was": the same list object at the same version (:attr:`OverviewInput.versions`),
    for the same building, the same local day (visits, moves), the same floors and names
    (spaces); the audit figures also only while no asset's last audit has come to 12 months
    since (the earliest audit that was still recent is remembered). So when one list
    changes (a visitor checks in), only that list is counted again: what "recomputed when a
    list changes" costs. One cache per window; :func:`compute` may run in worker threads
    (each entry is one tuple, replaced whole).
    """

    def __init__(self) -> None:
        self._parts: dict[str, tuple[object, tuple[Any, ...], Any]] = {}

    def get(self, name: str, rows: object, key: tuple[Any, ...]) -> Any:
        """What :meth:`put` kept for ``name`` with this list and key, else None."""
        part = self._parts.get(name)
        if part is None or part[0] is not rows or part[1] != key:
            return None
        return part[2]

    def put(self, name: str, rows: object, key: tuple[Any, ...], value: Any) -> None:
        # The list itself is kept (not its id): while cached, no other list can take its id.
        self._parts[name] = (rows, key, value)

    def clear(self) -> None:
        self._parts.clear()


# -- values ---------------------------------------------------------------------------------


def _int(value: Any) -> int:
    """A capacity as a whole number; anything unreadable counts as 0."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value)
    if isinstance(value, str):
        try:
            return int(float(value.strip()))
        except ValueError:
            return 0
    return 0


def _true(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.strip().lower() == "true")


def _utc_text(value: Any) -> str | None:
    """A timestamp as ``YYYY-MM-DDTHH:MM:SSZ`` (comparable as text), None when unreadable.

    The contract's own form passes through untouched: comparing text is what keeps 100k
    audit dates well under the time budget.
    """
    if not isinstance(value, str):
        return None
    if len(value) == 20 and value[19] == "Z" and value[10] == "T":
        return value
    try:
        dt = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _utc_of(local: datetime) -> str:
    return local.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def local_day_bounds(now: datetime, days: int = 1) -> tuple[datetime, datetime]:
    """The start of ``now``'s local day and the start of the day ``days`` later (local,
    aware; daylight-saving days are 23 or 25 hours long)."""
    local = now.astimezone()
    start_day = local.date()
    end_day = start_day + timedelta(days=days)
    start = datetime(start_day.year, start_day.month, start_day.day).astimezone()
    end = datetime(end_day.year, end_day.month, end_day.day).astimezone()
    return start, end


def audit_cutoff(now: datetime) -> datetime:
    """Twelve months before ``now``: the same day of the month a year earlier (28 Feb for
    29 Feb)."""
    try:
        return now.replace(year=now.year - 1)
    except ValueError:
        return now.replace(year=now.year - 1, day=28)


_get = cast(Callable[[Row, str], Any], dict.get)


def _slices(rows: Sequence[Row | None], building: str | None) -> Iterator[list[Row]]:
    """The rows a table holds, a slice of :data:`CHUNK_ROWS` at a time, without the None of
    dropped rows, and kept to ``building`` when one is chosen.

    Each slice is copied first (one C-level copy, atomic under the GIL: the GUI thread may
    change its list meanwhile). A table's list only grows and has slots replaced or set to
    None, never moves a row (:class:`~.rowindex.RowIndex`), so every row is read once, as it
    is at that moment; a change meanwhile schedules another computation anyway. A row the
    table shows is counted as it shows it, so a figure matches the list a click on it opens.

    Why slices, not one copy of the whole list: a list of 100k rows that is young when the
    garbage collector's youngest generation is collected (which any thread's allocations
    start, in the middle of this work) has every row it holds visited, rows spread over
    memory: one uninterruptible C-level step (44-68 ms measured on a loaded machine) that
    holds the GIL, and so the GUI thread. A slice of a few thousand rows costs that
    collection a millisecond or so, and every C-level step here (a copy, the building's
    filter, a Counter) stays as short.
    """
    keep = partial(is_not, None)
    get, f_site = _get, res.F_SITE_KEY
    for start in range(0, len(rows), CHUNK_ROWS):
        live = cast(list[Row], list(filter(keep, rows[start:start + CHUNK_ROWS])))
        if building is not None:
            live = [r for r, site in zip(live, map(get, live, repeat(f_site)), strict=True)
                    if site == building or (site.__class__ is not str and str(site) == building)]
        yield live


# -- the figures ----------------------------------------------------------------------------
#
# Issue 11 asks these under 200 ms on the ``large`` data (tests/perf/bench_overview.py).
# What costs most is reaching 175k rows spread over memory, so each list is one pass over
# its rows, a slice at a time (:func:`_slices`), with the work per row kept to a few field
# reads and comparisons: no helper called, the fields' names and the counters bound to
# locals, and a timestamp in the contract's form (``YYYY-MM-DDTHH:MM:SSZ``: a text of 20
# ending in Z, checked as ``value[_TAIL] == "Z"``) compared as text against bounds computed
# once; only a value in another form goes through :func:`_utc_text` first. (Reading the
# fields as columns first, in C, measured slower: every value is reached either way.)


def compute(inp: OverviewInput, cache: OverviewCache | None = None) -> Overview:
    """Every figure of the Overview, for all buildings or ``inp.building``; with a
    ``cache``, a list unchanged since the last call is not counted again."""
    building, now = inp.building, inp.now
    versions = inp.versions if cache is not None else {}

    def reuse(name: str, rows: object, *key: Any) -> tuple[tuple[Any, ...] | None, Any]:
        version = versions.get(name)
        if version is None or cache is None:
            return None, None
        full = (version, building, *key)
        return full, cache.get(name, rows, full)

    key, buildings = reuse("spaces", inp.spaces, list(inp.floors), dict(inp.sites))
    if buildings is None:
        buildings = _occupancy(inp, _slices(inp.spaces, building))
        if key is not None and cache is not None:
            cache.put("spaces", inp.spaces, key, buildings)
    bounds = _hour_bounds(now)
    key, visitors = reuse("visits", inp.visits, bounds[0], bounds[-1])
    if visitors is None:
        visitors = _visitors(_slices(inp.visits, building), bounds)
        if key is not None and cache is not None:
            cache.put("visits", inp.visits, key, visitors)
    key, moves = reuse("moves", inp.moves, bounds[0])
    if moves is None:
        moves = _moves(_slices(inp.moves, building), now)
        if key is not None and cache is not None:
            cache.put("moves", inp.moves, key, moves)
    cutoff = audit_cutoff(now)
    cut = _utc_of(cutoff)
    key, kept = reuse("assets", inp.assets)
    if kept is not None and kept[1] <= cut < kept[2]:
        assets = replace(kept[0], cutoff=cutoff)
    else:
        assets, fresh_from = _assets(_slices(inp.assets, building), cutoff, cut)
        if key is not None and cache is not None:
            cache.put("assets", inp.assets, key, (assets, cut, fresh_from))
    total = Occupancy(
        sum(b.occupancy.seats for b in buildings),
        sum(b.occupancy.occupied for b in buildings),
        sum(b.occupancy.rooms for b in buildings),
        sum(b.occupancy.room_capacity for b in buildings),
    )
    return Overview(
        building=building,
        now=now,
        occupancy=total,
        buildings=buildings,
        visitors=visitors,
        moves=moves,
        assets=assets,
    )


def _slot(slots: dict[str | None, list[Any]], parent: Any, site: Any) -> list[Any]:
    """The tally of a space whose floor is not one known under its building (or whose keys
    are not text): its floor's, or one for the space's own building, never lost."""
    floor_key = None if parent is None else str(parent)
    site_key = None if site is None else str(site)
    slot = slots.get(floor_key)
    if slot is None or slot[0] != site_key:
        floor_key = f"{site_key}\0{floor_key or ''}"
        slot = slots.get(floor_key)
        if slot is None:
            slot = slots[floor_key] = [site_key, 0, 0, 0, 0]
    return slot


def _occupancy(inp: OverviewInput, spaces: Iterator[list[Row]],
               ) -> tuple[BuildingFigures, ...]:
    building = inp.building
    # floor key -> [site key, seats, occupied, rooms, room capacity], floors first
    slots: dict[str | None, list[Any]] = {}
    for floor in inp.floors:
        if building is None or floor.site_key == building:
            slots[floor.key] = [floor.site_key, 0, 0, 0, 0]
    seats_t, rooms_t = _SEATS, _ROOMS
    f_type, f_parent, f_site = res.F_TYPE, res.F_PARENT_KEY, res.F_SITE_KEY
    f_cap, f_occ = res.F_CAPACITY, res.F_OCCUPIED
    get_slot, int_t, str_t = slots.get, int, str
    for rows in spaces:
        for row in rows:
            kind = row.get(f_type)
            if kind.__class__ is not str_t:  # an odd type (a list, a number) seats no one
                continue
            if kind in seats_t:
                is_seat = True
            elif kind in rooms_t:
                is_seat = False
            else:
                continue
            site = row.get(f_site)
            parent = row.get(f_parent)
            if parent is not None and parent.__class__ is not str_t:
                parent = str(parent)  # an odd key (a list) is text, as the tables show it
            slot = get_slot(parent)
            if slot is None or slot[0] != site:
                slot = _slot(slots, parent, site)
            capacity = row.get(f_cap)
            if capacity.__class__ is not int_t:
                capacity = _int(capacity)
            if is_seat:
                slot[1] += capacity
                occupied = row.get(f_occ)
                if occupied is True or (occupied is not False and _true(occupied)):
                    slot[2] += capacity
            else:
                slot[3] += 1
                slot[4] += capacity

    info = {f.key: f for f in inp.floors}
    site_keys = [k for k in inp.sites if building is None or k == building]
    for slot in slots.values():
        site = slot[0]
        if site is not None and site not in site_keys and site not in inp.sites:
            site_keys.append(site)
    if building is not None and building not in site_keys:
        site_keys.append(building)
    per_site: dict[str | None, list[FloorFigures]] = {k: [] for k in site_keys}
    for floor_key, (site, *tally) in slots.items():
        floors = per_site.get(site)
        if floors is None:
            continue
        occupancy = Occupancy(*tally)
        known = info.get(floor_key or "")
        if known is not None:
            floors.append(FloorFigures(known.key, known.name, known.level, occupancy))
        else:
            raw_key = (floor_key or "").split("\0")[-1]
            floors.append(FloorFigures(raw_key, UNKNOWN_FLOOR if not raw_key else raw_key,
                                       None, occupancy))
    out = []
    for site_key in site_keys:
        floors = per_site[site_key]
        floors.sort(key=lambda f: (f.level is None, f.level or 0, f.name.casefold(), f.key))
        occ = Occupancy(*(sum(getattr(f.occupancy, a) for f in floors)
                          for a in ("seats", "occupied", "rooms", "room_capacity")))
        out.append(BuildingFigures(site_key, inp.sites.get(site_key) or site_key, occ,
                                   tuple(floors)))
    out.sort(key=lambda b: (b.name.casefold(), b.key))
    return tuple(out)


def _hour_bounds(now: datetime) -> list[str]:
    """The UTC text of the start of every local hour of today, and of tomorrow."""
    start, end = local_day_bounds(now)
    day = start.date()
    out = [_utc_of(datetime(day.year, day.month, day.day, h).astimezone()) for h in range(24)]
    out.append(_utc_of(end))
    return out


def _visitors(visits: Iterator[list[Row]], bounds: list[str]) -> VisitorFigures:
    lo, hi = bounds[0], bounds[-1]
    expected = [0] * 24
    arrived = [0] * 24
    on_site = waiting = left = no_show = 0
    f_status, f_exp, f_in, f_out = res.F_STATUS, res.F_EXPECTED, res.F_CHECKED_IN, res.F_CHECKED_OUT
    s_cancelled, s_on_site, s_expected = res.VISIT_CANCELLED, res.VISIT_ON_SITE, res.VISIT_EXPECTED
    s_no_show, s_left = res.VISIT_NO_SHOW, res.VISIT_LEFT
    str_t, tail, utc_text = str, _TAIL, _utc_text
    for rows in visits:
        for row in rows:
            state = row.get(f_status)
            if state == s_cancelled:
                continue
            exp = row.get(f_exp)
            if exp.__class__ is not str_t or exp[tail] != "Z":
                exp = None if exp is None else utc_text(exp)
            exp_today = False
            if exp is not None and lo <= exp < hi:
                exp_today = True
                expected[bisect_right(bounds, exp) - 1] += 1
            came = row.get(f_in)
            if came.__class__ is not str_t or came[tail] != "Z":
                came = None if came is None else utc_text(came)
            if came is not None and lo <= came < hi:
                arrived[bisect_right(bounds, came) - 1] += 1
            if state == s_on_site:
                on_site += 1
            elif state == s_expected:
                waiting += exp_today
            elif state == s_no_show:
                no_show += exp_today
            elif state == s_left:
                gone = row.get(f_out)
                if gone.__class__ is not str_t or gone[tail] != "Z":
                    gone = None if gone is None else utc_text(gone)
                if gone is not None and lo <= gone < hi:
                    left += 1
    status = dict(zip(VISIT_STATUS_IDS, (waiting, on_site, left, no_show), strict=True))
    return VisitorFigures(
        tuple((h, expected[h], arrived[h]) for h in range(24)), status
    )


def _moves(moves: Iterator[list[Row]], now: datetime) -> MoveFigures:
    start, _end = local_day_bounds(now)
    bounds = [_utc_of(local_day_bounds(start + timedelta(days=d, hours=12))[0])
              for d in range(AHEAD_DAYS + 1)]
    days = [(start + timedelta(days=d, hours=12)).date() for d in range(AHEAD_DAYS)]
    lo, hi = bounds[0], bounds[-1]
    by_status: dict[str, int] = dict.fromkeys(res.MOVE_STATUSES, 0)
    per_day = [0] * AHEAD_DAYS
    f_status, f_scheduled, open_t = res.F_STATUS, res.F_SCHEDULED, _OPEN_MOVES
    str_t, tail = str, _TAIL
    for rows in moves:
        for row in rows:
            state = row.get(f_status)
            if state.__class__ is not str_t:
                state = str(state or "")
            by_status[state] = by_status.get(state, 0) + 1
            if state not in open_t:
                continue
            when = row.get(f_scheduled)
            # _utc_text's own pass-through also wants the T: the same here.
            if when.__class__ is not str_t or when[tail] != "Z" or when[10] != "T":
                when = _utc_text(when)
            if when is not None and lo <= when < hi:
                per_day[bisect_right(bounds, when) - 1] += 1
    return MoveFigures(by_status, tuple(zip(days, per_day, strict=True)))


def _tally(raws: list[Any]) -> Counter[Any]:
    """How many times each raw category occurs, in the order first met. A value that is not
    text (a list, a number) counts as its text, as the table shows it: so ``1`` and ``True``
    stay apart, and a list can be counted at all. (Per slice: the same text for the same
    value in every slice, so the slices' tallies add up to the whole list's.)"""
    try:
        counts: Counter[Any] | None = Counter(raws)
    except TypeError:  # unhashable: a list or an object as a category
        counts = None
    if counts is None or any(k.__class__ is not str and k is not None for k in counts):
        counts = Counter(r if r.__class__ is str or r is None else str(r) for r in raws)
    return counts


def _assets(assets: Iterator[list[Row]], cutoff: datetime, cut: str,
            ) -> tuple[AssetFigures, str]:
    """The audit figures, and the earliest last audit still within 12 months (``~``, after
    every timestamp, when there is none): until ``cut`` reaches it, no figure changes."""
    fresh_from = "~"
    # Each slice's raw categories, and those of the stale assets: counted in C (_tally).
    totals: Counter[Any] = Counter()
    stale: Counter[Any] = Counter()
    f_cat, f_aud = res.F_CATEGORY, res.F_LAST_AUDITED
    str_t, tail = str, _TAIL
    for rows in assets:
        cats: list[Any] = []
        stale_cats: list[Any] = []
        add, add_stale = cats.append, stale_cats.append
        for row in rows:
            raw = row.get(f_cat)
            add(raw)
            audited = row.get(f_aud)
            if audited.__class__ is str_t and audited[tail] == "Z":
                if audited > cut:
                    if audited < fresh_from:
                        fresh_from = audited
                    continue
            elif audited is not None:
                audited = _utc_text(audited)
                if audited is not None and audited > cut:
                    if audited < fresh_from:
                        fresh_from = audited
                    continue
            add_stale(raw)
        totals.update(_tally(cats))
        stale.update(_tally(stale_cats))
    # Raw values to names: None, "" and "  " are one "Uncategorised"; odd types as text.
    counts: dict[str, list[int]] = {}
    for raw, n in totals.items():
        name = str(raw).strip() if raw is not None else ""
        tally = counts.setdefault(name or NO_CATEGORY, [0, 0])
        tally[0] += n
        tally[1] += stale.get(raw, 0)
    ordered = sorted(counts.items(), key=lambda kv: (-kv[1][0], kv[0].casefold()))
    return AssetFigures(tuple((c, n, s) for c, (n, s) in ordered),
                        sum(totals.values()), sum(stale.values()), cutoff), fresh_from
