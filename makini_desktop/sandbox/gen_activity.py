"""What happens in the generated company's buildings: move requests (people and equipment
between spaces) and visitor registrations, around ``now``: visits today, moves scheduled
ahead, a history behind.

The last stage of a :class:`~makini_desktop.sandbox.gen_common.Run`: it reads the places
and the movable assets the earlier stages built.
"""

from __future__ import annotations

import itertools
import time
from bisect import bisect
from typing import Final

from makini_desktop.api import resources as res
from makini_desktop.sandbox import names as catalog
from makini_desktop.sandbox.gen_common import DESK_TYPES, Run, Site, ascii_letters
from makini_desktop.sandbox.records import DAY, HOUR, Record, format_ts

_MOVE_STATUS_CUM: Final = list(itertools.accumulate((14, 14, 8, 40, 8, 16)))
_MOVE_KINDS: Final = ("desk", "team", "new_starter", "leaver", "equipment")
_MOVE_KIND_CUM: Final = list(itertools.accumulate((30, 15, 20, 15, 20)))
_VISITOR_TYPE_CUM: Final = list(itertools.accumulate((45, 18, 12, 15, 10)))
_MAIL_DOMAINS: Final = ("gmail.com", "outlook.com", "proton.me", "icloud.com", "yahoo.com")

_MoveContext = tuple[list[Record], ...]
"""Per site: vacant desks, occupied desks, storage, movable assets, spare laptops."""


def _day_at(run: Run, day_start: int, lo_hour: int, hi_hour: int) -> int:
    """A quarter-hour between lo_hour and hi_hour on the day starting at day_start."""
    return day_start + lo_hour * HOUR + run.rng.randrange((hi_hour - lo_hour) * 4) * 900


def gen_moves(run: Run, laptops: dict[str, Record]) -> list[Record]:
    """The move requests in key order; ``laptops`` (owner name -> laptop) lets a leaver's
    move return their laptop to storage."""
    contexts: dict[str, _MoveContext] = {}
    rng = run.rng
    site_weights = list(itertools.accumulate(len(s.spaces) for s in run.sites))
    records: list[Record] = []
    for i in range(run.scale.moves):
        site = run.sites[bisect(site_weights, rng.random() * site_weights[-1])]
        # The first moves cover every status and every kind, so even the small scale
        # exercises every state and item type.
        status = res.MOVE_STATUSES[i] if i < len(res.MOVE_STATUSES) else res.MOVE_STATUSES[
            bisect(_MOVE_STATUS_CUM, rng.random() * _MOVE_STATUS_CUM[-1])]
        kind = _MOVE_KINDS[i] if i < len(_MOVE_KINDS) else _MOVE_KINDS[
            bisect(_MOVE_KIND_CUM, rng.random() * _MOVE_KIND_CUM[-1])]
        title, items = _move_items(run, site, kind, laptops, contexts)
        records.append(_move_record(run, site, status, title, items))
    records.sort(key=lambda r: r[res.F_CREATED])
    for rec in records:
        rec[res.F_KEY] = run.key()
    return records


def _move_items(
    run: Run, site: Site, kind: str, laptops: dict[str, Record],
    contexts: dict[str, _MoveContext],
) -> tuple[str, list[Record]]:
    rng = run.rng
    ctx = contexts.get(site.code)
    if ctx is None:  # built once per site: a large scale asks for thousands of moves
        desks = [r for t in DESK_TYPES for r in site.by_type.get(t, ())]
        movable = run.movable_by_site.get(site.record[res.F_KEY]) or []
        ctx = (
            [r for r in desks if not r["occupied"]] or desks,
            site.occupied or desks,
            site.by_type.get("storage") or desks,
            movable,
            [a for a in movable if a["categoryName"] == "Laptop" and not a["ownerName"]],
        )
        contexts[site.code] = ctx
    vacant, occupied, storage, movable, spare = ctx

    def item(person: str | None, asset: Record | None, src: str | None, dst: str | None,
             item_type: str) -> Record:
        return {
            "personName": person,
            "assetKey": None if asset is None else asset[res.F_KEY],
            "fromLocationKey": src,
            "toLocationKey": dst,
            "itemType": item_type,
        }

    def equipment(asset: Record, dst: Record, person: str | None = None) -> Record:
        return item(person, asset, asset[res.F_LOCATION_KEY], dst[res.F_KEY], "equipment")

    if kind == "desk":
        src = rng.choice(occupied)
        person = src["occupantName"] or _full(site)
        return f"Desk move – {person}", [
            item(person, None, src[res.F_KEY], rng.choice(vacant)[res.F_KEY], "employee_move")
        ]
    if kind == "team":
        dept = rng.choice(catalog.DEPARTMENTS)
        floor = rng.choice([f for f in site.floors if f["level"] >= 0])
        people = rng.sample(occupied, min(len(occupied), rng.randint(3, 10)))
        items = [
            item(p["occupantName"] or _full(site), None, p[res.F_KEY],
                 rng.choice(vacant)[res.F_KEY], "employee_move")
            for p in people
        ]
        if movable and rng.random() < 0.4:
            target = rng.choice(vacant)
            items += [equipment(a, target) for a in rng.sample(movable, min(2, len(movable)))]
        return f"{dept} team move to {floor[res.F_NAME]}", items
    if kind == "new_starter":
        person = _full(site)
        dst = rng.choice(vacant)
        items = [item(person, None, None, dst[res.F_KEY], "new_person")]
        if spare or movable:
            items.append(equipment(rng.choice(spare or movable), dst, person))
        return f"New starter – {person}", items
    if kind == "leaver":
        src = rng.choice(occupied)
        person = src["occupantName"] or _full(site)
        items = [item(person, None, src[res.F_KEY], None, "exiting_employee")]
        laptop = laptops.get(person)
        if laptop is not None and laptop[res.F_SITE_KEY] == site.record[res.F_KEY]:
            items.append(equipment(laptop, rng.choice(storage), person))
        return f"Leaver – {person}", items
    dst = rng.choice(site.spaces)
    chosen = rng.sample(movable, min(len(movable), rng.randint(1, 4))) if movable else []
    items = [equipment(a, dst) for a in chosen]
    if len(chosen) == 1:
        title = f"Move {chosen[0]['categoryName'].lower()} to {dst[res.F_NAME]}"
    else:
        title = f"Relocate {len(chosen)} items to {dst[res.F_NAME]}"
    return title, items


_REJECT_REASONS: Final = (
    "No budget approved for this quarter", "Destination space already allocated",
    "Duplicate of an earlier request", "Needs the department head's sign-off first",
)
_CANCEL_REASONS: Final = (
    "Requester left the company", "Team plans changed", "Moved into the office refit instead",
    "Postponed until the new floor opens",
)


def _status_reason(status: str, title: str) -> str | None:
    """Why a move was rejected or cancelled (``statusReason``), else None. Picked from the
    title rather than the random source, so adding the field left the rest of the data as
    it was."""
    pool = {"rejected": _REJECT_REASONS, "cancelled": _CANCEL_REASONS}.get(status)
    return None if pool is None else pool[len(title) % len(pool)]


def _full(site: Site) -> str:
    """A random full name of someone at the site."""
    first, last = site.person()
    return f"{first} {last}"


def _move_record(run: Run, site: Site, status: str, title: str, items: list[Record]) -> Record:
    rng = run.rng
    now, today = run.now, run.today
    completed: int | None = None
    if status == "completed":
        sched = _day_at(run, today - rng.randrange(1, 180) * DAY, 8, 19)
        completed = sched + rng.randrange(2 * HOUR, 10 * HOUR)
    elif status == "in_progress":
        sched = min(now - HOUR, _day_at(run, today - rng.randrange(0, 3) * DAY, 7, 12))
    elif status == "approved":
        sched = _day_at(run, today + rng.randrange(1, 45) * DAY, 8, 19)
    elif status == "pending":
        sched = _day_at(run, today + rng.randrange(3, 60) * DAY, 8, 19)
    else:
        sched = _day_at(run, today + rng.randrange(-60, 60) * DAY, 8, 19)
    created = min(now - rng.randrange(HOUR, 2 * DAY),
                  sched - rng.randrange(3 * DAY, 40 * DAY))
    created = max(created, site.created + DAY)
    if status == "completed":
        updated = completed or created
    elif status == "in_progress":
        updated = sched
    elif status == "pending":
        updated = created
    else:
        updated = min(now - 60, created + rng.randrange(HOUR, 5 * DAY))
    updated = max(created, updated)
    first, last = site.person()
    return {
        res.F_KEY: "",
        "title": title,
        res.F_STATUS: status,
        "requestedByName": (
            rng.choice(site.occupied)["occupantName"] if site.occupied and rng.random() < 0.7
            else f"{first} {last}"
        ),
        res.F_SITE_KEY: site.record[res.F_KEY],
        "scheduledAt": format_ts(sched),
        "completedAt": None if completed is None else format_ts(completed),
        "items": items,
        "notes": rng.choice(catalog.MOVE_NOTES) if rng.random() < 0.55 else None,
        res.F_STATUS_REASON: _status_reason(status, title),
        res.F_CREATED: format_ts(created),
        res.F_UPDATED: format_ts(updated),
        res.F_DELETED: None,
    }


def gen_visits(run: Run) -> list[Record]:
    """The visitor registrations in key order: a tenth today, the rest over the weeks
    before and after."""
    rng = run.rng
    n = run.scale.visits
    today_n = max(6, round(n * 0.1))
    future_n = round(n * 0.27)
    past_n = max(0, n - today_n - future_n)
    # Weekdays are busy, weekends nearly empty.
    past_days = [run.today - d * DAY for d in range(1, 46)]
    future_days = [run.today + d * DAY for d in range(1, 15)]

    def weight(day: int) -> float:
        return 0.12 if time.gmtime(day).tm_wday >= 5 else 1.0

    past_cum = list(itertools.accumulate(weight(d) for d in past_days))
    future_cum = list(itertools.accumulate(weight(d) for d in future_days))
    days: list[int] = [run.today] * today_n
    days += [past_days[bisect(past_cum, rng.random() * past_cum[-1])] for _ in range(past_n)]
    days += [future_days[bisect(future_cum, rng.random() * future_cum[-1])]
             for _ in range(future_n)]
    site_weights = list(itertools.accumulate(len(s.spaces) for s in run.sites))
    records = [
        _visit(run, run.sites[bisect(site_weights, rng.random() * site_weights[-1])], day)
        for day in days
    ]
    records.sort(key=lambda r: r[res.F_CREATED])
    for rec in records:
        rec[res.F_KEY] = run.key()
    return records


def _visit(run: Run, site: Site, day: int) -> Record:
    rng = run.rng
    now = run.now
    vtype = res.VISITOR_TYPES[bisect(_VISITOR_TYPE_CUM, rng.random() * _VISITOR_TYPE_CUM[-1])]
    first, last = run.person()
    visitor = f"{first} {last}"
    company: str | None
    if vtype == "contractor":
        company = rng.choice(catalog.CONTRACTORS)
    elif vtype == "delivery":
        company = rng.choice(catalog.COURIERS)
    elif vtype == "interview":
        company = None if rng.random() < 0.7 else rng.choice(catalog.VISITOR_COMPANIES)
    else:
        company = rng.choice(catalog.VISITOR_COMPANIES)
    local = f"{ascii_letters(first).lower()}.{ascii_letters(last).lower()}"
    if vtype == "delivery":
        email = None
    elif company is None:
        email = f"{local}@{rng.choice(_MAIL_DOMAINS)}"
    else:
        email = f"{local}@{ascii_letters(company.split(' & ')[0].replace(' ', '-')).lower()}.com"
    host = (
        rng.choice(site.occupied)["occupantName"] if site.occupied
        else "{} {}".format(*site.person())
    )
    receptions = site.by_type.get("reception") or site.spaces
    if vtype in ("visitor", "vendor", "interview") and rng.random() < 0.3:
        location = rng.choice(site.by_type.get("meeting_room") or receptions)
    elif vtype == "contractor" and rng.random() < 0.4:
        location = rng.choice(site.by_type.get("storage") or receptions)
    else:
        location = rng.choice(receptions)
    expected = _day_at(run, day, 8, 17)
    checked_in: int | None = None
    checked_out: int | None = None
    r = rng.random()
    if day < run.today:
        status = "checked_out" if r < 0.76 else ("no_show" if r < 0.88 else "cancelled")
    elif day > run.today:
        status = "expected" if r < 0.92 else "cancelled"
    elif expected <= now - 2 * HOUR:
        status = ("checked_out" if r < 0.6 else "checked_in" if r < 0.85
                  else "no_show" if r < 0.92 else "cancelled")
    elif expected <= now:
        status = "checked_in" if r < 0.6 else ("expected" if r < 0.9 else "cancelled")
    else:
        status = "expected" if r < 0.9 else "cancelled"
    if status in ("checked_in", "checked_out"):
        checked_in = min(now - 60, expected + rng.randint(-20, 25) * 60)
    if status == "checked_out" and checked_in is not None:
        checked_out = min(now - 60, checked_in + rng.randrange(30 * 60, 6 * HOUR))
        if checked_out <= checked_in:
            status, checked_out = "checked_in", None
    created = min(now - rng.randrange(60, 3 * HOUR),
                  expected - rng.randrange(HOUR, 10 * DAY))
    if status == "checked_in" and checked_in is not None:
        updated = checked_in
    elif status == "checked_out" and checked_out is not None:
        updated = checked_out
    elif status == "no_show":
        updated = min(now - 60, day + 20 * HOUR)
    elif status == "cancelled":
        updated = min(now - 60, created + rng.randrange(0, 3 * DAY))
    else:
        updated = created
    updated = max(created, updated)
    notes_pool = catalog.VISIT_NOTES[vtype]
    return {
        res.F_KEY: "",
        "visitorName": visitor,
        "visitorEmail": email,
        "company": company,
        "visitorType": vtype,
        "hostName": host,
        res.F_SITE_KEY: site.record[res.F_KEY],
        res.F_LOCATION_KEY: location[res.F_KEY],
        res.F_STATUS: status,
        "expectedAt": format_ts(expected),
        "checkedInAt": None if checked_in is None else format_ts(checked_in),
        "checkedOutAt": None if checked_out is None else format_ts(checked_out),
        "notes": rng.choice(notes_pool) if rng.random() < 0.4 else None,
        res.F_CREATED: format_ts(created),
        res.F_UPDATED: format_ts(updated),
        res.F_DELETED: None,
    }
