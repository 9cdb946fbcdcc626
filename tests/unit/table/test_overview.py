"""The Overview's figures equal the ones computed the plain way from the sandbox's records."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest

from makini_desktop.sandbox.data import generate
from makini_desktop.table import overview as ov
from makini_desktop.table.lookups import Lookups
from makini_desktop.table.roster import build_roster
from tests.helpers import overview_expect as expect


@pytest.fixture(scope="module")
def data():
    return generate("small", seed=7)


def figures(data, building=None, now=None):
    lookups = Lookups()
    lookups.set_rows("sites", data.sites)
    lookups.set_rows("locations", data.locations)
    names = lookups.names("locations")
    floors = [ov.FloorInfo(k, lookups.site_of(k), names[k], lookups.level(k))
              for k in lookups.floors()]
    return ov.compute(ov.OverviewInput(
        spaces=[r for r in data.locations if r["type"] != "floor"], floors=floors,
        sites=dict(lookups.names("sites")), visits=data.visits, moves=data.moves,
        assets=data.assets, building=building, now=now or data.now))


def sites(data):
    return [None, data.sites[0]["key"], data.sites[-1]["key"]]


def test_occupancy_per_building_and_floor(data):
    """Seats, occupied, rooms and room places per building and per floor match, for all
    buildings and for one."""
    for site in sites(data):
        got = figures(data, site)
        want = expect.buildings(data, site)
        assert {b.name: [b.occupancy.seats, b.occupancy.occupied, b.occupancy.rooms,
                         b.occupancy.room_capacity] for b in got.buildings} == want
        assert got.occupancy.seats == sum(v[0] for v in want.values())
        assert got.occupancy.vacant == sum(v[0] - v[1] for v in want.values())
        want_floors = expect.floors(data, site)
        got_floors = {f.key: [f.occupancy.seats, f.occupancy.occupied, f.occupancy.rooms,
                              f.occupancy.room_capacity]
                      for b in got.buildings for f in b.floors}
        assert got_floors == want_floors


def test_percent_occupied_is_occupied_over_seats(data):
    """% occupied is occupied ÷ seats, one decimal in its text."""
    b = figures(data).buildings[0]
    assert b.occupancy.percent == pytest.approx(100 * b.occupancy.occupied / b.occupancy.seats)
    assert b.occupancy.percent_text() == f"{100 * b.occupancy.occupied / b.occupancy.seats:.1f} %"


def test_stack_is_top_floor_first(data):
    """The stack lists a building's floors from the top level down, with their seats."""
    for site in sites(data)[1:]:
        building = figures(data, site).building_figures(site)
        assert [(f.name, f.occupancy.seats, f.occupancy.occupied)
                for f in building.stack()] == expect.stack(data, site)


@pytest.fixture(params=["UTC", "America/Denver", "Asia/Kolkata"])
def local_zone(request, monkeypatch):
    """Runs a test in a local time zone (today and its hours are local)."""
    monkeypatch.setenv("TZ", request.param)
    time.tzset()
    yield request.param
    monkeypatch.undo()
    time.tzset()


def test_visitors_today(data, local_zone):
    """Visitors by hour (expected, arrived) and by status match, for all and one building,
    in the local time zone."""
    for site in sites(data):
        got = figures(data, site).visitors
        want = expect.visitors(data, data.now, site)
        assert {h: (e, a) for h, e, a in got.by_hour} == want["by_hour"]
        assert dict(got.by_status) == want["by_status"]
    assert sum(figures(data).visitors.by_status.values()) > 0


def test_moves_by_status_and_by_day(data, local_zone):
    """Moves by status and open moves per day over the next 14 days (local days) match."""
    for site in sites(data):
        got = figures(data, site).moves
        want = expect.moves(data, data.now, site)
        assert {k: v for k, v in got.by_status.items() if v} == dict(want["by_status"])
        assert dict(got.by_day) == want["by_day"]
        assert len(got.by_day) == 14


def test_assets_by_category_and_audit(data):
    """Assets per category and those not audited for 12 months or more match."""
    for site in sites(data):
        got = figures(data, site).assets
        want = expect.assets(data, data.now, site)
        assert {c: (n, s) for c, n, s in got.by_category} == want
        assert got.not_audited == sum(s for _n, s in want.values())


def test_cached_figures_follow_a_changed_list(data):
    """With a cache, figures follow a list that changed and an asset whose last audit comes
    to 12 months meanwhile: each time they equal a count from scratch."""
    def both(now, visits, versions):
        inp = ov.OverviewInput(spaces=[r for r in data.locations if r["type"] != "floor"],
                               visits=visits, moves=data.moves, assets=data.assets, now=now,
                               versions=versions)
        return ov.compute(inp, cache), ov.compute(inp)

    cache = ov.OverviewCache()
    visits = list(data.visits)
    versions = dict.fromkeys(["spaces", "visits", "moves", "assets"], 1)
    cached, fresh = both(data.now, visits, versions)
    assert cached == fresh
    on_site = fresh.visitors.by_status["on_site"]
    gone = next(i for i, v in enumerate(visits) if v["status"] == "checked_in")
    visits[gone] = None  # the table drops the row: its list changes in place
    versions = {**versions, "visits": 2}
    cached, fresh = both(data.now, visits, versions)
    assert cached == fresh and cached.visitors.by_status["on_site"] == on_site - 1

    cut = ov.audit_cutoff(data.now).strftime("%Y-%m-%dT%H:%M:%SZ")
    first = min(a["lastAuditedAt"] for a in data.assets
                if a.get("lastAuditedAt") and a["lastAuditedAt"] > cut)
    when = datetime.fromisoformat(first.replace("Z", "+00:00"))
    later = when.replace(year=when.year + 1)
    before = both(later - timedelta(seconds=1), visits, versions)
    after = both(later, visits, versions)
    assert before[0] == before[1] and after[0] == after[1]
    assert after[0].assets.not_audited > before[0].assets.not_audited


def test_today_follows_the_local_day():
    """A visit is today's by the local calendar day of "now"."""
    now = datetime(2026, 3, 14, 12, tzinfo=UTC)
    start, end = ov.local_day_bounds(now)
    inside = start.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    outside = end.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    visits = [{"status": "expected", "expectedAt": inside},
              {"status": "expected", "expectedAt": outside}]
    got = ov.compute(ov.OverviewInput(visits=visits, now=now)).visitors
    assert got.by_status["expected"] == 1
    assert dict((h, e) for h, e, _a in got.by_hour)[0] == 1


def test_odd_values_count_without_a_crash():
    """A capacity as text, a missing flag, an odd timestamp: counted or ignored, never fatal."""
    spaces = [{"type": "workstation", "capacity": "4", "occupied": "true", "siteKey": "s",
               "parentKey": "f"},
              {"type": "office", "capacity": None, "siteKey": "s", "parentKey": "f"},
              {"type": "meeting_room", "capacity": 8.0, "siteKey": "s", "parentKey": None},
              {"type": ["workstation"], "capacity": 3, "siteKey": "s", "parentKey": "f"},
              {"type": "workstation", "capacity": 2, "siteKey": "s", "parentKey": ["f"]}]
    assets = [{"categoryName": ["odd"], "lastAuditedAt": "yesterday"}, {}]
    got = ov.compute(ov.OverviewInput(spaces=spaces, assets=assets, sites={"s": "S"}))
    assert (got.occupancy.seats, got.occupancy.occupied, got.occupancy.rooms,
            got.occupancy.room_capacity) == (6, 4, 1, 8)  # a list as a type seats no one
    assert got.assets.total == 2 and got.assets.not_audited == 2


def test_roster_lists_everyone_checked_in_per_building(data):
    """The roster has every checked-in visitor, under their building, and only them."""
    names = {s["key"]: s["name"] for s in data.sites}
    roster = build_roster(data.visits, names)
    assert sorted(e.name for b in roster.buildings for e in b.entries) == \
        expect.on_site_names(data)
    for b in roster.buildings:
        want = expect.on_site_names(data, b.key)
        assert sorted(e.name for e in b.entries) == want and b.name == names[b.key]
    one = data.sites[0]["key"]
    assert [e.name for b in build_roster(data.visits, names, building=one).buildings
            for e in b.entries] == expect.on_site_names(data, one)
