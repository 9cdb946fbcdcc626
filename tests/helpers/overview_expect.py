"""The Overview's figures computed the plain way, straight from the sandbox's records.

Written apart from :mod:`makini_desktop.table.overview` (no code shared), from the issue's
definitions, so a test compares two independent computations.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import datetime, timedelta
from typing import Any

SEATS = {"workstation", "office", "hoteling_desk"}
ROOMS = {"meeting_room", "huddle_room", "conference_room"}
OPEN_MOVES = {"pending", "approved", "in_progress"}


def _local(text: str | None) -> datetime | None:
    if not text:
        return None
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone()


def _live(rows: list[dict[str, Any]], site: str | None) -> list[dict[str, Any]]:
    return [r for r in rows if not r.get("deletedAt") and (site is None or r["siteKey"] == site)]


def floors(data: Any, site: str | None = None) -> dict[str, list[int]]:
    """floor key -> [seats, occupied, rooms, room capacity] (every floor of the building)."""
    out: dict[str, list[int]] = {}
    for loc in _live(data.locations, site):
        if loc["type"] == "floor":
            out.setdefault(loc["key"], [0, 0, 0, 0])
    for loc in _live(data.locations, site):
        kind = loc["type"]
        if kind in SEATS:
            out[loc["parentKey"]][0] += loc["capacity"]
            if loc["occupied"]:
                out[loc["parentKey"]][1] += loc["capacity"]
        elif kind in ROOMS:
            out[loc["parentKey"]][2] += 1
            out[loc["parentKey"]][3] += loc["capacity"]
    return out


def buildings(data: Any, site: str | None = None) -> dict[str, list[int]]:
    """building name -> [seats, occupied, rooms, room capacity]."""
    names = {s["key"]: s["name"] for s in data.sites}
    per: dict[str, list[int]] = {names[s["key"]]: [0, 0, 0, 0] for s in _live(data.sites, None)
                                 if site is None or s["key"] == site}
    site_of = {loc["key"]: loc["siteKey"] for loc in data.locations}
    for key, tally in floors(data, site).items():
        total = per[names[site_of[key]]]
        for i in range(4):
            total[i] += tally[i]
    return per


def stack(data: Any, site: str) -> list[tuple[str, int, int]]:
    """The building's floors top first: (name, seats, occupied)."""
    tallies = floors(data, site)
    rows = [loc for loc in data.locations if loc["key"] in tallies]
    rows.sort(key=lambda loc: -loc["level"])
    return [(loc["name"], tallies[loc["key"]][0], tallies[loc["key"]][1]) for loc in rows]


def visitors(data: Any, now: datetime, site: str | None = None) -> dict[str, Any]:
    """by_hour: hour -> (expected, arrived); by_status: the front desk's four counts."""
    today = now.astimezone().date()
    expected: Counter[int] = Counter()
    arrived: Counter[int] = Counter()
    status = {"expected": 0, "on_site": 0, "left": 0, "no_show": 0}
    for v in _live(data.visits, site):
        if v["status"] == "cancelled":
            continue
        exp, came, gone = _local(v["expectedAt"]), _local(v["checkedInAt"]), _local(
            v["checkedOutAt"])
        if exp and exp.date() == today:
            expected[exp.hour] += 1
        if came and came.date() == today:
            arrived[came.hour] += 1
        if v["status"] == "checked_in":
            status["on_site"] += 1
        if v["status"] == "expected" and exp and exp.date() == today:
            status["expected"] += 1
        if v["status"] == "no_show" and exp and exp.date() == today:
            status["no_show"] += 1
        if v["status"] == "checked_out" and gone and gone.date() == today:
            status["left"] += 1
    return {"by_hour": {h: (expected[h], arrived[h]) for h in range(24)}, "by_status": status}


def moves(data: Any, now: datetime, site: str | None = None) -> dict[str, Any]:
    today = now.astimezone().date()
    days = [today + timedelta(days=d) for d in range(14)]
    by_day = dict.fromkeys(days, 0)
    rows = _live(data.moves, site)
    for m in rows:
        when = _local(m["scheduledAt"])
        if m["status"] in OPEN_MOVES and when and when.date() in by_day:
            by_day[when.date()] += 1
    return {"by_status": Counter(m["status"] for m in rows), "by_day": by_day}


def assets(data: Any, now: datetime, site: str | None = None) -> dict[str, tuple[int, int]]:
    """category -> (assets, not audited for 12 months or more)."""
    try:
        cutoff = now.replace(year=now.year - 1)
    except ValueError:
        cutoff = now.replace(year=now.year - 1, day=28)
    out: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for a in _live(data.assets, site):
        cat = a.get("categoryName") or "Uncategorised"
        out[cat][0] += 1
        audited = _local(a.get("lastAuditedAt"))
        if audited is None or audited <= cutoff:
            out[cat][1] += 1
    return {k: (v[0], v[1]) for k, v in out.items()}


def on_site_names(data: Any, site: str | None = None) -> list[str]:
    return sorted(v["visitorName"] for v in _live(data.visits, site) if v["status"] == "checked_in")
