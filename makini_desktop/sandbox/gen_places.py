"""The places of the generated company: its buildings (Sites) and their floors and spaces
(Locations), with names, codes, areas and occupants as a facilities team would keep them.

The first stage of a :class:`~makini_desktop.sandbox.gen_common.Run`: it fills
:attr:`Run.sites <makini_desktop.sandbox.gen_common.Run.sites>`, which the later stages
place assets, moves and visits in.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Final

from makini_desktop.api import resources as res
from makini_desktop.sandbox import names as catalog
from makini_desktop.sandbox.gen_common import DESK_TYPES, Run, Site, ascii_letters, split
from makini_desktop.sandbox.records import DAY, HOUR, Record, format_ts

# Space types that fill a floor after the essentials, and how common each is.
_FILL_TYPES: Final = (
    "workstation", "office", "hoteling_desk", "meeting_room", "huddle_room",
    "conference_room", "storage", "lab", "other", "server_room", "break_room",
)
_FILL_CUM: Final = list(itertools.accumulate((60, 11, 9, 7, 5, 1.2, 1.5, 0.8, 3, 0.2, 0.8)))
# One of each of these per building, on a random floor, so every type exists everywhere.
_ONE_PER_SITE: Final = (
    "server_room", "lab", "other", "conference_room", "meeting_room", "huddle_room",
    "hoteling_desk", "office", "workstation",
)
# type -> (capacity low, high, area low, high in sq ft, share occupied, share reservable)
_SPACE_SPEC: Final[dict[str, tuple[int, int, float, float, float, float]]] = {
    "workstation": (1, 1, 42, 64, 0.78, 0.05),
    "office": (1, 2, 100, 220, 0.85, 0.0),
    "hoteling_desk": (1, 1, 40, 56, 0.0, 1.0),
    "meeting_room": (4, 12, 0, 0, 0.0, 1.0),
    "huddle_room": (2, 4, 0, 0, 0.0, 1.0),
    "conference_room": (12, 40, 0, 0, 0.0, 0.9),
    "reception": (2, 12, 250, 900, 0.0, 0.0),
    "break_room": (8, 40, 200, 900, 0.0, 0.0),
    "storage": (0, 0, 40, 300, 0.0, 0.0),
    "server_room": (0, 0, 80, 600, 0.0, 0.0),
    "restroom": (0, 0, 80, 260, 0.0, 0.0),
    "lab": (4, 16, 300, 1200, 0.0, 0.3),
    "parking_space": (1, 1, 135, 170, 0.35, 0.6),
    "other": (1, 4, 30, 200, 0.0, 0.5),
}
_ROOM_TYPES: Final = frozenset({"meeting_room", "huddle_room", "conference_room"})
# Words of a street name that make a poor building code ("North" in "North Avenue").
_STREET_NOISE: Final = frozenset({
    "North", "South", "East", "West", "Avenue", "Street", "Road", "Drive", "Boulevard",
    "Place", "Square", "Lane", "of", "the", "NW", "NE", "Sir",
})


def gen_sites(run: Run) -> list[Record]:
    """The buildings, in key order; also kept in ``run.sites`` for the later stages."""
    rng = run.rng
    n = run.scale.sites
    us = [c for c in catalog.CITIES if c.region == "US"]
    other = [c for c in catalog.CITIES if c.region != "US"]
    rng.shuffle(us)
    rng.shuffle(other)
    first, second = (us, other) if rng.random() < 0.5 else (other, us)
    # The first two sites are on different sides of the Atlantic, so even the small
    # scale has both area units and both address styles.
    rest = first[1:] + second[1:]
    rng.shuffle(rest)
    order = [first[0], second[0], *rest]
    words = list(catalog.BUILDING_WORDS)
    rng.shuffle(words)
    go_live = run.now - rng.randrange(4 * 365, 6 * 365) * DAY - rng.randrange(DAY)
    used_codes: set[str] = set()
    records: list[Record] = []
    for i in range(n):
        city = order[i % len(order)]
        word = words[i % len(words)]
        rec, code = _site(run, i, city, word, used_codes)
        created = go_live + rng.randrange(2 * DAY) if i == 0 else run.between(
            go_live, go_live + (run.now - go_live) // 2
        )
        updated = created if rng.random() < 0.3 else run.between(created, run.now - DAY)
        rec[res.F_CREATED] = format_ts(created)
        rec[res.F_UPDATED] = format_ts(updated)
        rec[res.F_DELETED] = None
        unit = "sqft" if city.region == "US" else "m2"
        run.sites.append(Site(
            record=rec, city=city, code=code, created=created, unit=unit,
            person=run.person_picker(city.culture), floors=[], spaces=[], by_type={},
            occupied=[],
        ))
        records.append(rec)
    return records


def _site(run: Run, i: int, city: catalog.City, word: str, used: set[str]) -> tuple[Record, str]:
    rng = run.rng
    street = rng.choice(city.streets)
    number = rng.randrange(1, 460) if city.region == "US" else rng.randrange(1, 160)
    if city.number_style == "after":
        line = f"{street} {number}"
    elif city.number_style == "comma":
        line = f"{street}, {number}"
    else:
        line = f"{number} {street}"
    style = rng.random()
    suffixes = catalog.BUILDING_SUFFIXES[city.region]
    if style < 0.3 and city.number_style == "first":
        name = line
        code_word = next(
            (w for w in street.split() if len(ascii_letters(w)) >= 3 and w not in _STREET_NOISE),
            street,
        )
    elif style < 0.65:
        name = f"{rng.choice(catalog.BUILDING_NUMBER_WORDS)} {word} {rng.choice(suffixes)}"
        code_word = word
    else:
        name = f"{word} {rng.choice(suffixes)}"
        code_word = word
    code = f"{city.code}-{ascii_letters(code_word)[:3].upper()}"
    base, k = code, 2
    while code in used:
        code, k = f"{base}{k}", k + 1
    used.add(code)
    lines = [line]
    if name != line and city.region == "UK":
        lines = [name, line]
    elif city.region == "US" and rng.random() < 0.35:
        lines.append(f"Suite {rng.randrange(1, 30) * 100}")
    role = "Global headquarters" if i == 0 else rng.choice(catalog.SITE_ROLES)
    role = role.replace("{centre}", "center" if city.region == "US" else "centre")
    rec: Record = {
        res.F_KEY: run.key(),
        res.F_NAME: name,
        "code": code,
        "description": None,  # filled when the floors are known
        "address": {
            "addressLines": lines,
            "city": city.name,
            "state": city.state,
            "postCode": rng.choice(city.postcodes),
            "country": city.country,
        },
        "lat": round(city.lat + rng.uniform(-0.012, 0.012), 6),
        "lng": round(city.lng + rng.uniform(-0.012, 0.012), 6),
        "floorsCount": 0,
        "grossArea": 0,
        "areaUnit": "sqft" if city.region == "US" else "m2",
        "_role": role,
    }
    return rec, code


def gen_locations(run: Run) -> list[Record]:
    """Every site's floors and spaces, in key order (a floor before its spaces).

    Also fills each site's ``floors``, ``spaces``, ``by_type`` and ``occupied``, and its
    record's floor count, gross area and description.
    """
    rng = run.rng
    weights = [rng.uniform(0.6, 1.4) * (1.8 if i == 0 else 1.0)
               for i in range(len(run.sites))]
    minimum = 40
    spare = run.scale.spaces - minimum * len(run.sites)
    alloc = [minimum + x for x in split(max(spare, 0), weights)]
    out: list[Record] = []
    counter = itertools.count()
    for site, n_spaces in zip(run.sites, alloc, strict=True):
        _site_locations(run, site, n_spaces, out, counter)
    return out


def _site_locations(
    run: Run, site: Site, n_spaces: int, out: list[Record], counter: Iterator[int]
) -> None:
    rng = run.rng
    first_site = not out
    has_parking = first_site or rng.random() < 0.45
    parking_n = min(80, max(4, n_spaces // 25)) if has_parking else 0
    per_floor = rng.uniform(25, 60) if n_spaces < 600 else rng.uniform(60, 140)
    n_floors = max(2, min(45, round((n_spaces - parking_n) / per_floor)))
    essentials: list[list[str]] = [["restroom", "restroom", "break_room", "storage"]
                                   for _ in range(n_floors)]
    essentials[0].append("reception")
    for t in _ONE_PER_SITE:
        essentials[rng.randrange(n_floors)].append(t)
    remaining = max(0, n_spaces - parking_n - sum(len(e) for e in essentials))
    fill = split(remaining, [rng.uniform(0.75, 1.25) * (0.7 if f == 0 else 1.0)
                              for f in range(n_floors)])
    theme_names = list(catalog.MEETING_THEMES[rng.choice(sorted(catalog.MEETING_THEMES))])
    rng.shuffle(theme_names)
    themes = itertools.count()

    def theme() -> str:
        i = next(themes)
        base = theme_names[i % len(theme_names)]
        return base if i < len(theme_names) else f"{base} {i // len(theme_names) + 1}"

    plan: list[tuple[int, list[str]]] = []
    if parking_n:
        plan.append((-1, ["parking_space"] * parking_n))
    for f in range(n_floors):
        types = essentials[f] + rng.choices(_FILL_TYPES, cum_weights=_FILL_CUM, k=fill[f])
        rng.shuffle(types)
        plan.append((f, types))
    region = site.city.region
    restrooms = catalog.RESTROOM_NAMES[region]
    has_boardroom = False
    site_area = 0.0
    for level, types in plan:
        floor = _floor(run, site, level, n_floors)
        out.append(floor)
        site.floors.append(floor)
        prefix = "P1" if level < 0 else ("G" if level == 0 else str(level))
        label = floor[res.F_NAME]
        floor_area = 0.0
        huddles = 0
        toilets = 0
        for n, t in enumerate(types, start=1):
            if t == "workstation":
                name = f"{prefix}.{n:03d} Workstation"
            elif t == "office":
                name = f"Office {prefix}.{n:03d}"
            elif t == "hoteling_desk":
                name = f"Hot Desk {prefix}.{n:03d}"
            elif t == "meeting_room":
                name = f"Meeting Room {theme()}"
            elif t == "conference_room":
                if not has_boardroom:
                    name, has_boardroom = "Boardroom", True
                else:
                    name = f"Conference Room {theme()}"
            elif t == "huddle_room":
                letter = catalog.HUDDLE_LETTERS[huddles % len(catalog.HUDDLE_LETTERS)]
                extra = "" if huddles < len(catalog.HUDDLE_LETTERS) else str(
                    huddles // len(catalog.HUDDLE_LETTERS) + 1)
                name = f"Huddle {prefix}{letter}{extra}"
                huddles += 1
            elif t == "restroom":
                name = f"{label} {restrooms[toilets % len(restrooms)]}"
                toilets += 1
            elif t == "reception":
                name = "Main Reception" if level == 0 else f"{label} Reception"
            elif t == "break_room":
                name = f"{label} {rng.choice(catalog.SPACE_BASE_NAMES['break_room'])}"
            elif t == "parking_space":
                name = f"Parking {prefix}-{n:03d}"
            else:
                name = f"{rng.choice(catalog.SPACE_BASE_NAMES[t])} {prefix}.{n:03d}"
            rec = _space(run, site, floor, t, name, f"{site.code}-{prefix}.{n:03d}",
                              next(counter))
            floor_area += float(rec["area"])
            out.append(rec)
        # Circulation, cores and walls add about 30% to the rooms' net area.
        gross = floor_area * 1.3
        floor["area"] = round(gross) if site.unit == "sqft" else round(gross, 1)
        site_area += gross
    srec = site.record
    srec["floorsCount"] = len(site.floors)
    srec["grossArea"] = round(site_area)
    role = srec.pop("_role")
    note = rng.choice(catalog.SITE_NOTES[region])
    srec["description"] = f"{role}. {n_floors} floors" + (
        " plus parking level." if has_parking else "."
    ) + f" {note}"


def _floor(run: Run, site: Site, level: int, n_floors: int) -> Record:
    rng = run.rng
    description: str | None
    if level < 0:
        name, code = "Parking Level P1", f"{site.code}-P1"
        description = "Underground parking, access by badge"
    elif level == 0:
        name, code = "Ground Floor", f"{site.code}-GF"
        description = "Reception, café and visitor lobby"
    else:
        name, code = f"Level {level}", f"{site.code}-L{level:02d}"
        description = None if rng.random() < 0.7 else rng.choice((
            "Open-plan floor", "Refurbished in 2023", "Executive floor",
            "Project spaces and labs", "Shared with a sub-tenant",
        ))
    created = site.created + rng.randrange(2 * DAY)
    updated = created if rng.random() < 0.6 else run.between(created, run.now - HOUR)
    return {
        res.F_KEY: run.key(),
        res.F_SITE_KEY: site.record[res.F_KEY],
        res.F_PARENT_KEY: None,
        res.F_NAME: name,
        "code": code,
        res.F_TYPE: res.LOCATION_TYPE_FLOOR,
        "description": description,
        "isActive": True,
        "level": level,
        "area": 0,
        res.F_CREATED: format_ts(created),
        res.F_UPDATED: format_ts(updated),
        res.F_DELETED: None,
    }


def _space(
    run: Run, site: Site, floor: Record, t: str, name: str, code: str, i: int
) -> Record:
    rng = run.rng
    cap_lo, cap_hi, a_lo, a_hi, occ_p, res_p = _SPACE_SPEC[t]
    capacity = cap_lo if cap_lo == cap_hi else rng.randint(cap_lo, cap_hi)
    if t in _ROOM_TYPES:
        sqft = capacity * rng.uniform(22, 34)
    else:
        sqft = rng.uniform(a_lo, a_hi)
    occupant: str | None = None
    if occ_p and rng.random() < occ_p:
        first, last = site.person()
        occupant = f"{first} {last}"
    descriptions = catalog.SPACE_DESCRIPTIONS.get(t)
    description = rng.choice(descriptions) if descriptions and rng.random() < 0.22 else None
    if t == "parking_space" and description == "EV charging":
        name = name.replace("Parking", "EV Bay")
    if rng.random() < 0.88:
        created = site.created + rng.randrange(30 * DAY)
    else:  # added later by a re-stack or a refit
        created = run.between(site.created, run.now - DAY)
    updated = created if rng.random() < 0.45 else run.between(created, run.now - HOUR)
    rec: Record = {
        res.F_KEY: run.key(),
        res.F_SITE_KEY: site.record[res.F_KEY],
        res.F_PARENT_KEY: floor[res.F_KEY],
        res.F_NAME: name,
        "code": code,
        res.F_TYPE: t,
        "description": description,
        "isActive": rng.random() > 0.015,
        "capacity": capacity,
        "area": run.area(sqft, site.unit),
        "occupied": occupant is not None,
        "occupantName": occupant,
        "reservable": rng.random() < res_p,
        res.F_CREATED: format_ts(created),
        res.F_UPDATED: format_ts(updated),
        res.F_DELETED: None,
    }
    # A few records carry the customer's own fields (contract §2.1: custom mappings)...
    if i % 53 == 7:
        rec["costCenter"] = f"CC-{rng.randrange(1000, 9999)}"
    if i % 97 == 11:
        first, last = site.person()
        rec["customFields"] = {
            "cleaningZone": rng.choice("ABCD"),
            "fireWarden": f"{first} {last}",
            "hasAV": t in _ROOM_TYPES,
        }
    # ...and a few lack an optional one altogether.
    if i % 71 == 29:
        del rec["description"]
    site.spaces.append(rec)
    site.by_type.setdefault(t, []).append(rec)
    if occupant is not None and t in DESK_TYPES:
        site.occupied.append(rec)
    return rec

