"""The sandbox's data generator: deterministic, coherent, realistic."""

from __future__ import annotations

import re
import time
from collections import Counter
from datetime import UTC, datetime

import pytest

from makini_desktop.api import resources as res
from makini_desktop.sandbox import names as catalog
from makini_desktop.sandbox.data import (
    SCALES,
    SandboxData,
    default_now,
    format_ts,
    generate,
)
from tests.unit.sandbox.support import NOW

TS_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
NOW_TS = format_ts(int(NOW.timestamp()))


def _spaces(data: SandboxData) -> list[dict]:
    return [r for r in data.locations if r["type"] != res.LOCATION_TYPE_FLOOR]


def _floors(data: SandboxData) -> list[dict]:
    return [r for r in data.locations if r["type"] == res.LOCATION_TYPE_FLOOR]


def test_same_seed_and_now_give_identical_data() -> None:
    """Two generations with the same scale, seed and now are identical record for record."""
    a = generate("small", 7, now=NOW)
    b = generate("small", 7, now=NOW)
    for name in res.DATASETS:
        assert a.dataset(name) == b.dataset(name)
    assert a.integration == b.integration


def test_different_seed_gives_different_data() -> None:
    """A different seed gives different buildings and keys."""
    a = generate("small", 1, now=NOW)
    b = generate("small", 2, now=NOW)
    assert [s["name"] for s in a.sites] != [s["name"] for s in b.sites]
    assert a.assets[0]["key"] != b.assets[0]["key"]


def test_generation_does_not_touch_the_global_random() -> None:
    """Generating leaves the module-level random state alone (only its own Random is used)."""
    import random

    random.seed(123)
    expected = random.random()
    random.seed(123)
    generate("small", 5, now=NOW)
    assert random.random() == expected


def test_default_now_is_today_at_noon_utc() -> None:
    """Without now, the data is relative to today's date at 12:00 UTC."""
    now = default_now()
    assert now.date() == datetime.now(UTC).date()
    assert (now.hour, now.minute, now.second) == (12, 0, 0)
    assert generate("small", 3).now == now


def test_naive_now_is_taken_as_utc() -> None:
    """A naive now means UTC, so it gives the same data as the aware one."""
    naive = generate("small", 3, now=NOW.replace(tzinfo=None))
    assert naive.visits == generate("small", 3, now=NOW).visits


def test_small_scale_counts(small_data: SandboxData) -> None:
    """Small has 2 buildings, 300 spaces, 500 assets, 60 moves and 150 visits."""
    assert len(small_data.sites) == 2
    assert len(_spaces(small_data)) == 300
    assert len(small_data.assets) == 500
    assert len(small_data.moves) == 60
    assert len(small_data.visits) == 150
    assert 4 <= len(_floors(small_data)) <= 20


def test_medium_scale_counts() -> None:
    """Medium has 5 buildings, 3k spaces, 6k assets, 300 moves and 1k visits."""
    data = generate("medium", 42, now=NOW)
    scale = SCALES["medium"]
    assert len(data.sites) == scale.sites == 5
    assert len(_spaces(data)) == 3_000
    assert len(data.assets) == 6_000
    assert len(data.moves) == 300
    assert len(data.visits) == 1_000


@pytest.mark.slow
def test_large_scale_generation_time() -> None:
    """Large generates 50k spaces and 100k assets (time printed, not asserted)."""
    start = time.perf_counter()
    data = generate("large", 42, now=NOW)
    elapsed = time.perf_counter() - start
    print(f"\nlarge generation: {elapsed:.2f} s, {data.counts()}")
    assert len(data.assets) == 100_000
    assert len(_spaces(data)) == 50_000


def test_unknown_scale_is_rejected() -> None:
    """An unknown scale name raises ValueError."""
    with pytest.raises(ValueError, match="scale"):
        generate("huge", 1)


def test_keys_are_unique_14_digit_strings_in_key_order(small_data: SandboxData) -> None:
    """Keys are 14-digit numeric strings, unique across datasets, each list in key order."""
    seen: list[str] = []
    for name in res.DATASETS:
        keys = [r["key"] for r in small_data.dataset(name)]
        assert keys == sorted(keys)
        assert all(re.fullmatch(r"\d{14}", k) for k in keys)
        seen.extend(keys)
    assert len(seen) == len(set(seen))


def test_timestamps_are_iso_utc_and_coherent(small_data: SandboxData) -> None:
    """Every *At field is ISO-8601 UTC with Z and seconds; created <= updated <= now."""
    for name in res.DATASETS:
        for rec in small_data.dataset(name):
            for field, value in rec.items():
                if field.endswith("At") and value is not None:
                    assert TS_RE.match(value), (name, field, value)
            assert rec["createdAt"] <= rec["updatedAt"] <= NOW_TS, rec
            assert rec["deletedAt"] is None


def test_references_point_at_existing_records(small_data: SandboxData) -> None:
    """siteKey, parentKey, locationKey and move item keys all resolve, within one site."""
    sites = {s["key"] for s in small_data.sites}
    locations = {r["key"]: r for r in small_data.locations}
    assets = {r["key"]: r for r in small_data.assets}
    for loc in small_data.locations:
        assert loc["siteKey"] in sites
        if loc["type"] == res.LOCATION_TYPE_FLOOR:
            assert loc["parentKey"] is None
        else:
            floor = locations[loc["parentKey"]]
            assert floor["type"] == res.LOCATION_TYPE_FLOOR
            assert floor["siteKey"] == loc["siteKey"]
    for asset in small_data.assets:
        space = locations[asset["locationKey"]]
        assert space["type"] != res.LOCATION_TYPE_FLOOR
        assert space["siteKey"] == asset["siteKey"]
        if asset["parentKey"] is not None:
            assert assets[asset["parentKey"]]["locationKey"] == asset["locationKey"]
    for move in small_data.moves:
        assert move["siteKey"] in sites
        for item in move["items"]:
            if item["assetKey"] is not None:
                assert assets[item["assetKey"]]["siteKey"] == move["siteKey"]
            for field in ("fromLocationKey", "toLocationKey"):
                if item[field] is not None:
                    assert locations[item[field]]["siteKey"] == move["siteKey"]
    for visit in small_data.visits:
        assert locations[visit["locationKey"]]["siteKey"] == visit["siteKey"]


def test_some_assets_sit_in_racks(small_data: SandboxData) -> None:
    """Servers, switches and UPSs in a server room with a rack have the rack as parent."""
    data = generate("medium", 42, now=NOW)
    parents = [a for a in data.assets if a["parentKey"] is not None]
    assert parents
    by_key = {a["key"]: a for a in data.assets}
    assert {by_key[a["parentKey"]]["categoryName"] for a in parents} == {"Server rack"}


def test_every_space_type_exists(small_data: SandboxData) -> None:
    """Each building has every space type of the contract, mostly desks."""
    for site in small_data.sites:
        types = Counter(r["type"] for r in _spaces(small_data) if r["siteKey"] == site["key"])
        if any(f["level"] < 0 for f in _floors(small_data) if f["siteKey"] == site["key"]):
            assert set(types) == set(res.SPACE_TYPES)
        else:
            assert set(types) == set(res.SPACE_TYPES) - {"parking_space"}
        desks = types["workstation"] + types["office"] + types["hoteling_desk"]
        assert desks > sum(types.values()) / 2


def test_floors_and_buildings_agree(small_data: SandboxData) -> None:
    """Floors are named like "Ground Floor"/"Level 3" with an int level; floorsCount matches."""
    for site in small_data.sites:
        floors = [f for f in _floors(small_data) if f["siteKey"] == site["key"]]
        assert site["floorsCount"] == len(floors)
        for floor in floors:
            assert isinstance(floor["level"], int)
            expected = {-1: "Parking Level P1", 0: "Ground Floor"}.get(
                floor["level"], f"Level {floor['level']}"
            )
            assert floor["name"] == expected


def test_buildings_read_like_real_ones(small_data: SandboxData) -> None:
    """Buildings have real cities, full addresses, codes like NYC-RIV and a fitting unit."""
    cities = {c.name: c for c in catalog.CITIES}
    units = set()
    for site in small_data.sites:
        address = site["address"]
        city = cities[address["city"]]
        assert address["country"] == city.country
        assert address["postCode"] in city.postcodes
        assert address["addressLines"] and all(address["addressLines"])
        assert re.fullmatch(r"[A-Z]{3}-[A-Z]{3}\d*", site["code"])
        assert site["code"].startswith(city.code + "-")
        assert site["areaUnit"] == ("sqft" if city.region == "US" else "m2")
        assert abs(site["lat"] - city.lat) < 0.05 and abs(site["lng"] - city.lng) < 0.05
        assert site["grossArea"] > 0
        units.add(site["areaUnit"])
    assert units == {"sqft", "m2"}


def test_names_are_realistic_and_varied(small_data: SandboxData) -> None:
    """No placeholder names like "Asset 1"; names of spaces, assets and people vary."""
    placeholder = re.compile(r"^(asset|space|location|site|visitor|move|item|record)\s*#?\d+$",
                             re.I)
    for name in res.DATASETS:
        for rec in small_data.dataset(name):
            for field in ("name", "title", "visitorName"):
                if field in rec:
                    assert not placeholder.match(rec[field]), rec[field]
    spaces = _spaces(small_data)
    # Room names repeat between buildings ("1.002 Workstation"), not within one.
    assert len({(s["siteKey"], s["name"]) for s in spaces}) / len(spaces) > 0.97
    assets = small_data.assets
    assert len({a["name"] for a in assets}) / len(assets) > 0.6
    occupants = [s["occupantName"] for s in spaces if s["occupantName"]]
    assert len(occupants) > 100
    assert len(set(occupants)) / len(occupants) > 0.8
    assert all(" " in name for name in occupants)
    meeting = [(s["siteKey"], s["name"]) for s in spaces if s["type"] == "meeting_room"]
    assert meeting and all(n.startswith("Meeting Room ") for _, n in meeting)
    assert len(set(meeting)) == len(meeting)


def test_assets_match_their_catalog(small_data: SandboxData) -> None:
    """Make and model fit the category; tags are unique; personal assets carry owners."""
    models = {(c.name, make, model) for c in catalog.CATEGORIES for make, model, _ in c.models}
    personal = {c.name for c in catalog.CATEGORIES if c.personal}
    tags = [a["tag"] for a in small_data.assets]
    assert len(tags) == len(set(tags))
    for asset in small_data.assets:
        make = asset.get("makeName") or asset.get("manufacturerName")
        assert (asset["categoryName"], make, asset["modelName"]) in models
        assert re.fullmatch(r"(AST|FAC)-\d{6}", asset["tag"])
        assert asset["criticality"] in ("low", "medium", "high")
        assert asset["serialNumber"]
        if asset["categoryName"] not in personal:
            assert asset["ownerName"] is None
        if not asset["isActive"]:
            assert asset["deactivatedAt"] is not None
    owned = [a for a in small_data.assets if a["categoryName"] == "Laptop" and a["ownerName"]]
    assert owned
    assert all(a["name"] == f"Laptop – {a['ownerName']}" for a in owned)


def test_some_records_are_customised(small_data: SandboxData) -> None:
    """A few records carry custom fields, use manufacturerName, or lack an optional field."""
    legacy = [a for a in small_data.assets if "manufacturerName" in a]
    assert legacy and all("makeName" not in a for a in legacy)
    assert any("costCenter" in a for a in small_data.assets)
    assert any(isinstance(a.get("customFields"), dict) for a in small_data.assets)
    assert any("costCenter" in s for s in small_data.locations)
    assert any("description" not in s for s in small_data.locations)


def test_moves_cover_every_status_and_item_type(small_data: SandboxData) -> None:
    """Moves use every status and item type, with times coherent with the status."""
    assert {m["status"] for m in small_data.moves} == set(res.MOVE_STATUSES)
    item_types = {i["itemType"] for m in small_data.moves for i in m["items"]}
    assert item_types == set(res.MOVE_ITEM_TYPES)
    for move in small_data.moves:
        assert move["items"]
        if move["status"] == "completed":
            assert move["scheduledAt"] <= move["completedAt"] <= NOW_TS
        else:
            assert move["completedAt"] is None
        if move["status"] in ("pending", "approved"):
            assert move["scheduledAt"] > NOW_TS
        if move["status"] == "in_progress":
            assert move["scheduledAt"] <= NOW_TS


def test_visits_are_coherent_with_time(small_data: SandboxData) -> None:
    """Past visits are over, future ones expected, today's mixed; check-in times fit."""
    today = NOW_TS[:10]
    statuses_today = set()
    for visit in small_data.visits:
        day = visit["expectedAt"][:10]
        status = visit["status"]
        if day < today:
            assert status in ("checked_out", "no_show", "cancelled")
        elif day > today:
            assert status in ("expected", "cancelled")
        else:
            statuses_today.add(status)
        assert (visit["checkedInAt"] is not None) == (status in ("checked_in", "checked_out"))
        assert (visit["checkedOutAt"] is not None) == (status == "checked_out")
        if visit["checkedInAt"]:
            assert visit["checkedInAt"] <= NOW_TS
        if visit["checkedOutAt"]:
            assert visit["checkedInAt"] < visit["checkedOutAt"] <= NOW_TS
        assert visit["visitorType"] in res.VISITOR_TYPES
    assert {"expected", "checked_in"} <= statuses_today
    assert sum(v["expectedAt"].startswith(today) for v in small_data.visits) >= 6
