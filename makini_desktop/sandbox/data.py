"""Deterministic, realistic data for the sandbox: a company's buildings, spaces, assets, moves
and visitors as the Makini workplace API would return them (contract §2).

:func:`generate` builds a :class:`SandboxData` from ``(scale, seed, now)`` using only its own
``random.Random(seed)``: the same three inputs always give identical records. ``now`` defaults
to today's date at 12:00 UTC, so the demo always has visitors "today" and two processes
started on the same day (the CLI sandbox and a test harness) agree on the data.

Records are plain JSON-ready dicts with the contract's camelCase fields, kept in key order.
Keys are 14-digit numeric strings, unique across all datasets and allocated in creation order
(sequential database IDs), so ``key`` order roughly follows ``createdAt``.
"""

from __future__ import annotations

import itertools
import random
import threading
import time
import unicodedata
from bisect import bisect
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from makini_desktop.api import resources as res
from makini_desktop.sandbox import names as catalog

Record = dict[str, Any]
"""One entity as JSON: camelCase field -> value."""

DATASET_NAMES: Final[tuple[str, ...]] = tuple(res.DATASETS)

_DAY: Final = 86400
_HOUR: Final = 3600
_SQFT_TO_M2: Final = 0.09290304
_ALNUM: Final = "ABCDEFGHJKLMNPQRSTUVWXYZ0123456789"  # no I/O: serials avoid them too


@dataclass(frozen=True)
class Scale:
    """How much data a scale produces.

    Attributes:
        sites: buildings.
        spaces: spaces (Locations that are not floors); floors come on top.
        assets: assets.
        moves: move requests.
        visits: visitor registrations.
    """

    sites: int
    spaces: int
    assets: int
    moves: int
    visits: int


SCALES: Final[dict[str, Scale]] = {
    "small": Scale(sites=2, spaces=300, assets=500, moves=60, visits=150),
    "medium": Scale(sites=5, spaces=3_000, assets=6_000, moves=300, visits=1_000),
    "large": Scale(sites=25, spaces=50_000, assets=100_000, moves=5_000, visits=20_000),
}


# ---------------------------------------------------------------------------------------
# Timestamps. The generator works in integer Unix seconds and formats once per value; a
# per-day prefix cache makes formatting a few hundred thousand stamps cheap.

_DATE_PREFIX: dict[int, str] = {}


def format_ts(ts: int) -> str:
    """Unix seconds as the contract's ISO-8601 UTC form, ``2026-03-14T09:30:00Z``."""
    day, sec = divmod(int(ts), _DAY)
    prefix = _DATE_PREFIX.get(day)
    if prefix is None:
        prefix = time.strftime("%Y-%m-%dT", time.gmtime(day * _DAY))
        _DATE_PREFIX[day] = prefix
    hh, rem = divmod(sec, _HOUR)
    mm, ss = divmod(rem, 60)
    return f"{prefix}{hh:02d}:{mm:02d}:{ss:02d}Z"


def parse_ts(text: str) -> int:
    """An ISO-8601 timestamp (``Z`` or offset; naive means UTC) as Unix seconds (floored).

    Raises:
        ValueError: the text is not an ISO-8601 date or date-time.
    """
    dt = datetime.fromisoformat(text.strip())
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return int(dt.timestamp() // 1)


def default_now() -> datetime:
    """Today's date at 12:00 UTC: stable for a whole day, mid-day so "today" is mixed."""
    today = datetime.now(UTC).date()
    return datetime(today.year, today.month, today.day, 12, 0, 0, tzinfo=UTC)


# ---------------------------------------------------------------------------------------
# The data set


class SandboxData:
    """The sandbox's records, live: the server mutates them through :meth:`replace`.

    Attributes:
        scale: the scale name it was generated at.
        seed: the seed it was generated from.
        now: the instant the data was generated relative to.
        sites: Site records in key order (including soft-deleted ones).
        locations: Location records (floors and spaces) in key order.
        assets: Asset records in key order.
        moves: Move records in key order.
        visits: Visit records in key order.
        integration: the Integration object (contract §2.2).
        lock: guards compound read-modify-write sequences on the records.
    """

    def __init__(
        self,
        *,
        scale: str,
        seed: int,
        now: datetime,
        sites: list[Record],
        locations: list[Record],
        assets: list[Record],
        moves: list[Record],
        visits: list[Record],
        integration: Record,
    ) -> None:
        self.scale = scale
        self.seed = seed
        self.now = now
        self.sites = sites
        self.locations = locations
        self.assets = assets
        self.moves = moves
        self.visits = visits
        self.integration = integration
        self.lock = threading.RLock()
        self._lists: dict[str, list[Record]] = {
            "sites": sites,
            "locations": locations,
            "assets": assets,
            "moves": moves,
            "visits": visits,
        }
        self._index: dict[str, dict[str, int]] = {
            name: {rec[res.F_KEY]: i for i, rec in enumerate(records)}
            for name, records in self._lists.items()
        }
        self._versions: dict[str, int] = dict.fromkeys(self._lists, 0)
        self._visible: dict[str, list[Record]] = {}
        newest = max(
            (rec[res.F_UPDATED] for records in self._lists.values() for rec in records),
            default=format_ts(int(now.timestamp())),
        )
        self.last_stamp = parse_ts(newest)
        """The newest ``updatedAt`` ever handed out, as Unix seconds."""

    # -- reading ----------------------------------------------------------------------------

    def dataset(self, name: str) -> list[Record]:
        """All records of a dataset (``sites`` ... ``visits``), soft-deleted ones included.

        Raises:
            KeyError: not one of :data:`makini_desktop.api.resources.DATASETS`.
        """
        return self._lists[name]

    def visible(self, name: str) -> list[Record]:
        """The records a full list returns: ``deletedAt`` null, in key order (a new list)."""
        return list(self.visible_view(name))

    def visible_view(self, name: str) -> Sequence[Record]:
        """Like :meth:`visible` but the shared cached list: callers must not modify it."""
        with self.lock:
            cached = self._visible.get(name)
            if cached is None:
                cached = [r for r in self._lists[name] if r.get(res.F_DELETED) is None]
                self._visible[name] = cached
            return cached

    def get(self, name: str, key: str) -> Record | None:
        """The record with that key (soft-deleted or not), else None."""
        i = self._index[name].get(key)
        return None if i is None else self._lists[name][i]

    def version(self, name: str) -> int:
        """A counter that changes whenever a record of the dataset changes (cache key)."""
        return self._versions[name]

    def counts(self) -> dict[str, int]:
        """Number of records per dataset, soft-deleted ones included."""
        return {name: len(records) for name, records in self._lists.items()}

    # -- writing ----------------------------------------------------------------------------

    def replace(self, name: str, record: Record) -> None:
        """Swap in a new version of an existing record (same key).

        Records are replaced, never edited in place, so a request thread that is serialising
        the old version never sees a half-updated record.

        Raises:
            KeyError: no record of the dataset has that key.
        """
        with self.lock:
            i = self._index[name][record[res.F_KEY]]
            self._lists[name][i] = record
            self._versions[name] += 1
            self._visible.pop(name, None)

    def next_stamp(self) -> int:
        """A Unix-seconds stamp for a change: the wall clock, but strictly after every stamp
        already handed out, so ``filter[updatedAt:gt]=<newest seen>`` never misses a change
        even when the data's ``now`` is ahead of the clock or two changes share a second."""
        with self.lock:
            ts = max(int(time.time()), self.last_stamp + 1)
            self.last_stamp = ts
            self.integration["sync_updated_at"] = format_ts(ts)
            return ts


def person_name(rng: random.Random) -> str:
    """A random full name from the company-wide mix of cultures (for runtime changes)."""
    cultures = tuple(catalog.PEOPLE)
    culture = rng.choices(cultures, weights=[catalog.CULTURE_WEIGHTS[c] for c in cultures])[0]
    firsts, lasts = catalog.PEOPLE[culture]
    return f"{rng.choice(firsts)} {rng.choice(lasts)}"


# ---------------------------------------------------------------------------------------
# Generation


def generate(scale: str = "small", seed: int = 42, *, now: datetime | None = None) -> SandboxData:
    """Generate a company's workplace data.

    Args:
        scale: ``small``, ``medium`` or ``large`` (see :data:`SCALES`).
        seed: the only source of randomness; same seed and ``now`` give identical records.
        now: the instant the data is relative to (visits today, moves scheduled ahead);
            defaults to :func:`default_now`. A naive datetime is taken as UTC.

    Returns:
        The records, every dataset in key order.

    Raises:
        ValueError: unknown scale.
    """
    if scale not in SCALES:
        raise ValueError(f"unknown scale {scale!r}; expected one of {', '.join(SCALES)}")
    if now is None:
        now = default_now()
    elif now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    gen = _Generator(SCALES[scale], seed, int(now.timestamp()))
    return gen.run(scale, now)


def _split(total: int, weights: Sequence[float]) -> list[int]:
    """Split ``total`` into integer parts proportional to ``weights`` (largest remainder)."""
    wsum = sum(weights)
    raw = [total * w / wsum for w in weights]
    parts = [int(x) for x in raw]
    order = sorted(range(len(raw)), key=lambda i: raw[i] - parts[i], reverse=True)
    for i in order[: total - sum(parts)]:
        parts[i] += 1
    return parts


def _ascii(text: str) -> str:
    """Letters only, accents folded: for codes and e-mail addresses."""
    text = text.replace("ø", "o").replace("Ø", "O").replace("ß", "ss").replace("ł", "l")
    text = text.replace("æ", "ae").replace("ı", "i").replace("Ł", "L")
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(ch for ch in folded if ch.isalnum())


_SERIAL_CACHE: dict[str, list[tuple[str, int | str]]] = {}


def _compile_serial(pattern: str) -> list[tuple[str, int | str]]:
    """Group a serial pattern into runs: ("X", n) random letters/digits, ("9", n) digits,
    ("", text) literal text. Cached: patterns repeat across a hundred thousand assets."""
    parts = _SERIAL_CACHE.get(pattern)
    if parts is None:
        parts = []
        for ch, run in itertools.groupby(pattern):
            n = len(list(run))
            if ch in "X9":
                parts.append((ch, n))
            elif parts and parts[-1][0] == "":
                parts[-1] = ("", str(parts[-1][1]) + ch * n)
            else:
                parts.append(("", ch * n))
        _SERIAL_CACHE[pattern] = parts
    return parts


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
_DESK_TYPES: Final = ("workstation", "office")
_MOVABLE: Final = frozenset({
    "Monitor", "Docking station", "Desk", "Chair", "Printer", "Meeting room display",
    "Projector", "Desk phone", "Laptop",
})
_RACKED: Final = frozenset({"Server", "Network switch", "UPS"})
_MOVE_STATUS_CUM: Final = list(itertools.accumulate((14, 14, 8, 40, 8, 16)))
_MOVE_KINDS: Final = ("desk", "team", "new_starter", "leaver", "equipment")
_MOVE_KIND_CUM: Final = list(itertools.accumulate((30, 15, 20, 15, 20)))
_VISITOR_TYPE_CUM: Final = list(itertools.accumulate((45, 18, 12, 15, 10)))
_MAIL_DOMAINS: Final = ("gmail.com", "outlook.com", "proton.me", "icloud.com", "yahoo.com")
_SUPPLIERS: Final = ("CDW", "Insight", "Softcat", "Bechtle", "SHI", "Computacenter")


@dataclass
class _Site:
    """What later stages need to know about a generated building."""

    record: Record
    city: catalog.City
    code: str
    created: int
    unit: str
    person: Callable[[], tuple[str, str]]
    floors: list[Record]
    spaces: list[Record]
    by_type: dict[str, list[Record]]
    occupied: list[Record]


class _Generator:
    """One generation run. Everything random goes through ``self.rng``."""

    def __init__(self, scale: Scale, seed: int, now: int) -> None:
        self.scale = scale
        self.seed = seed
        self.rng = random.Random(seed)
        self.now = now
        self.today = now - now % _DAY
        self._key = 9_000_000_000_000 + self.rng.randrange(1_000_000_000)
        self._tag = 1_000 + self.rng.randrange(4_000)
        self._cultures = tuple(catalog.PEOPLE)
        self.person = self._person_picker(None)
        self.sites: list[_Site] = []
        self._assets_by_site: dict[str, list[Record]] = {}
        self._move_ctx: dict[str, tuple[list[Record], ...]] = {}

    # -- helpers ----------------------------------------------------------------------------

    def key(self) -> str:
        """The next key: increasing with random gaps, like IDs in a shared database."""
        self._key += 1 + self.rng.getrandbits(6)
        return f"{self._key:014d}"

    def _person_picker(self, local: str | None) -> Callable[[], tuple[str, str]]:
        """A function returning (first, last) names; ``local`` culture is more common."""
        rng = self.rng
        cultures = self._cultures
        weights = [
            catalog.CULTURE_WEIGHTS[c] * ((1.5 if c == "en" else 7.0) if c == local else 1.0)
            for c in cultures
        ]
        cum = list(itertools.accumulate(weights))
        total = cum[-1]
        pools = [catalog.PEOPLE[c] for c in cultures]

        def pick() -> tuple[str, str]:
            firsts, lasts = pools[bisect(cum, rng.random() * total)]
            if rng.random() < 0.15:
                # Multinational staff: some family names come from another culture, which
                # also keeps a large company from having every name four times over.
                lasts = pools[bisect(cum, rng.random() * total)][1]
            return firsts[int(rng.random() * len(firsts))], lasts[int(rng.random() * len(lasts))]

        return pick

    def serial(self, pattern: str) -> str:
        rng = self.rng
        out: list[str] = []
        for kind, value in _compile_serial(pattern):
            if kind == "X":
                out.append("".join(rng.choices(_ALNUM, k=int(value))))
            elif kind == "9":
                n = int(value)
                out.append(str(rng.randrange(10**n)).zfill(n))
            else:
                out.append(str(value))
        return "".join(out)

    def area(self, sqft: float, unit: str) -> float | int:
        """An area measured in square feet, in the site's unit (whole sq ft, m2 to 0.1)."""
        return round(sqft) if unit == "sqft" else round(sqft * _SQFT_TO_M2, 1)

    def between(self, lo: int, hi: int) -> int:
        """A random second in [lo, hi] (hi < lo gives lo)."""
        return lo if hi <= lo else lo + self.rng.randrange(hi - lo + 1)

    # -- the run ----------------------------------------------------------------------------

    def run(self, scale_name: str, now_dt: datetime) -> SandboxData:
        sites = self.gen_sites()
        locations = self.gen_locations()
        assets, laptops = self.gen_assets()
        moves = self.gen_moves(laptops)
        visits = self.gen_visits()
        company, domain = self.rng.choice(catalog.INTEGRATION_COMPANIES)
        newest = max(r[res.F_UPDATED] for r in itertools.chain(sites, locations, assets,
                                                               moves, visits))
        integration: Record = {
            "id": self.rng.randrange(1_000, 99_999),
            "company_name": company,
            "email": f"facilities@{domain}",
            "provider": "ioffice",
            "updated_at": format_ts(self.now),
            "sync_status": "done",
            "sync_updated_at": newest,
        }
        return SandboxData(
            scale=scale_name, seed=self.seed,
            now=now_dt, sites=sites, locations=locations, assets=assets, moves=moves,
            visits=visits, integration=integration,
        )

    # -- sites ------------------------------------------------------------------------------

    def gen_sites(self) -> list[Record]:
        rng = self.rng
        n = self.scale.sites
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
        go_live = self.now - rng.randrange(4 * 365, 6 * 365) * _DAY - rng.randrange(_DAY)
        used_codes: set[str] = set()
        records: list[Record] = []
        for i in range(n):
            city = order[i % len(order)]
            word = words[i % len(words)]
            rec, code = self._site(i, city, word, used_codes)
            created = go_live + rng.randrange(2 * _DAY) if i == 0 else self.between(
                go_live, go_live + (self.now - go_live) // 2
            )
            updated = created if rng.random() < 0.3 else self.between(created, self.now - _DAY)
            rec[res.F_CREATED] = format_ts(created)
            rec[res.F_UPDATED] = format_ts(updated)
            rec[res.F_DELETED] = None
            unit = "sqft" if city.region == "US" else "m2"
            self.sites.append(_Site(
                record=rec, city=city, code=code, created=created, unit=unit,
                person=self._person_picker(city.culture), floors=[], spaces=[], by_type={},
                occupied=[],
            ))
            records.append(rec)
        return records

    def _site(self, i: int, city: catalog.City, word: str, used: set[str]) -> tuple[Record, str]:
        rng = self.rng
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
                (w for w in street.split() if len(_ascii(w)) >= 3 and w not in _STREET_NOISE),
                street,
            )
        elif style < 0.65:
            name = f"{rng.choice(catalog.BUILDING_NUMBER_WORDS)} {word} {rng.choice(suffixes)}"
            code_word = word
        else:
            name = f"{word} {rng.choice(suffixes)}"
            code_word = word
        code = f"{city.code}-{_ascii(code_word)[:3].upper()}"
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
            res.F_KEY: self.key(),
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

    # -- locations --------------------------------------------------------------------------

    def gen_locations(self) -> list[Record]:
        rng = self.rng
        weights = [rng.uniform(0.6, 1.4) * (1.8 if i == 0 else 1.0)
                   for i in range(len(self.sites))]
        minimum = 40
        spare = self.scale.spaces - minimum * len(self.sites)
        alloc = [minimum + x for x in _split(max(spare, 0), weights)]
        out: list[Record] = []
        counter = itertools.count()
        for site, n_spaces in zip(self.sites, alloc, strict=True):
            self._site_locations(site, n_spaces, out, counter)
        return out

    def _site_locations(
        self, site: _Site, n_spaces: int, out: list[Record], counter: Iterator[int]
    ) -> None:
        rng = self.rng
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
        fill = _split(remaining, [rng.uniform(0.75, 1.25) * (0.7 if f == 0 else 1.0)
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
            floor = self._floor(site, level, n_floors)
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
                rec = self._space(site, floor, t, name, f"{site.code}-{prefix}.{n:03d}",
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

    def _floor(self, site: _Site, level: int, n_floors: int) -> Record:
        rng = self.rng
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
        created = site.created + rng.randrange(2 * _DAY)
        updated = created if rng.random() < 0.6 else self.between(created, self.now - _HOUR)
        return {
            res.F_KEY: self.key(),
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
        self, site: _Site, floor: Record, t: str, name: str, code: str, i: int
    ) -> Record:
        rng = self.rng
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
            created = site.created + rng.randrange(30 * _DAY)
        else:  # added later by a re-stack or a refit
            created = self.between(site.created, self.now - _DAY)
        updated = created if rng.random() < 0.45 else self.between(created, self.now - _HOUR)
        rec: Record = {
            res.F_KEY: self.key(),
            res.F_SITE_KEY: site.record[res.F_KEY],
            res.F_PARENT_KEY: floor[res.F_KEY],
            res.F_NAME: name,
            "code": code,
            res.F_TYPE: t,
            "description": description,
            "isActive": rng.random() > 0.015,
            "capacity": capacity,
            "area": self.area(sqft, site.unit),
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
        if occupant is not None and t in _DESK_TYPES:
            site.occupied.append(rec)
        return rec

    # -- assets -----------------------------------------------------------------------------

    def gen_assets(self) -> tuple[list[Record], dict[str, Record]]:
        rng = self.rng
        cats = catalog.CATEGORIES
        cum = list(itertools.accumulate(c.weight for c in cats))
        crit_cum = [list(itertools.accumulate(c.criticality)) for c in cats]
        by_type: dict[str, list[tuple[_Site, Record]]] = {}
        for site in self.sites:
            for t, recs in site.by_type.items():
                by_type.setdefault(t, []).extend((site, r) for r in recs)
        pools: list[list[tuple[_Site, Record]]] = []
        occupied_pools: list[list[tuple[_Site, Record]]] = []
        for c in cats:
            pool = [p for t in c.space_types for p in by_type.get(t, ())]
            pools.append(pool or [p for t in _DESK_TYPES for p in by_type[t]])
            occupied_pools.append([p for p in pool if p[1]["occupied"]] or pools[-1])
        host_counts: dict[tuple[str, str], int] = {}
        chosen = rng.choices(range(len(cats)), cum_weights=cum, k=self.scale.assets)
        records: list[Record] = []
        crit_names = ("low", "medium", "high")
        for i, ci in enumerate(chosen):
            cat = cats[ci]
            owner: str | None = None
            if cat.personal and rng.random() < 0.85:
                site, space = occupied_pools[ci][int(rng.random() * len(occupied_pools[ci]))]
                owner = space["occupantName"]
            else:
                site, space = pools[ci][int(rng.random() * len(pools[ci]))]
                if cat.personal and rng.random() < 0.5:
                    first, last = site.person()  # a hot-desker's device, parked at a desk
                    owner = f"{first} {last}"
            make, model, pattern = cat.models[int(rng.random() * len(cat.models))]
            if cat.naming == "owner":
                name = f"{cat.name} – {owner}" if owner else f"{make} {model}"
            elif cat.naming == "host":
                hk = (site.code, cat.host_abbr)
                host_counts[hk] = host_counts.get(hk, 0) + 1
                name = f"{site.code.lower()}-{cat.host_abbr}-{host_counts[hk]:02d}"
            else:
                name = f"{cat.name} – {space[res.F_NAME]}"
            self._tag += 1 + rng.getrandbits(1)
            legacy = i % 31 == 5 or rng.random() < 0.03
            if legacy:  # bought before the system went live, imported at go-live
                activated = site.created - rng.randrange(30, 900) * _DAY - rng.randrange(_DAY)
                created = site.created + rng.randrange(3 * _DAY)
            else:
                activated = self.between(site.created, self.now - _DAY)
                created = min(self.now - _HOUR, activated + rng.randrange(2 * _DAY))
            active = rng.random() > 0.04
            deactivated = None if active else self.between(max(activated, created), self.now)
            if not active:
                owner = None if cat.personal else owner
            audited = (
                max(created, self.now - rng.randrange(400 * _DAY)) if rng.random() < 0.85
                else None
            )
            updated = max(created, audited or 0, deactivated or 0)
            if rng.random() < 0.3:
                updated = self.between(updated, self.now)
            rec: Record = {
                res.F_KEY: "",  # allocated once the assets are in creation order
                res.F_SITE_KEY: site.record[res.F_KEY],
                res.F_LOCATION_KEY: space[res.F_KEY],
                res.F_PARENT_KEY: None,
                res.F_NAME: name,
                "description": (
                    rng.choice(cat.descriptions)
                    if cat.descriptions and rng.random() < 0.35 else None
                ),
                "categoryName": cat.name,
                "criticality": crit_names[bisect(crit_cum[ci], rng.random() * crit_cum[ci][-1])],
                "isActive": active,
            }
            # Older payloads say manufacturerName instead of makeName (contract §2.5).
            if legacy and (i % 31 == 5 or rng.random() < 0.6):
                rec["manufacturerName"] = make
            else:
                rec["makeName"] = make
            rec["modelName"] = model
            rec["serialNumber"] = self.serial(pattern)
            rec["tag"] = f"{cat.tag_prefix}-{self._tag:06d}"
            rec["ownerName"] = owner
            rec["activatedAt"] = format_ts(activated)
            rec["deactivatedAt"] = None if deactivated is None else format_ts(deactivated)
            rec["lastAuditedAt"] = None if audited is None else format_ts(audited)
            rec[res.F_CREATED] = format_ts(created)
            rec[res.F_UPDATED] = format_ts(updated)
            rec[res.F_DELETED] = None
            if i % 41 == 9:
                rec["costCenter"] = f"CC-{rng.randrange(1000, 9999)}"
            if i % 113 == 17:
                rec["customFields"] = {
                    "purchaseOrder": f"PO-{format_ts(activated)[:4]}-{rng.randrange(10**5):05d}",
                    "warrantyEnd": format_ts(activated + 3 * 365 * _DAY)[:10],
                    "supplier": rng.choice(_SUPPLIERS),
                }
            records.append(rec)
        # Keys in creation order, as a database's sequential IDs would be.
        records.sort(key=lambda r: r[res.F_CREATED])
        for rec in records:
            rec[res.F_KEY] = self.key()
        racks: dict[str, str] = {}
        laptops: dict[str, Record] = {}
        for rec in records:
            if rec["categoryName"] == "Server rack":
                racks.setdefault(rec[res.F_LOCATION_KEY], rec[res.F_KEY])
            elif rec["categoryName"] == "Laptop" and rec["ownerName"]:
                laptops.setdefault(rec["ownerName"], rec)
        for rec in records:
            if rec["categoryName"] in _RACKED:
                rec[res.F_PARENT_KEY] = racks.get(rec[res.F_LOCATION_KEY])
        for rec in records:
            if rec["categoryName"] in _MOVABLE and rec["isActive"]:
                self._assets_by_site.setdefault(rec[res.F_SITE_KEY], []).append(rec)
        return records, laptops

    # -- moves ------------------------------------------------------------------------------

    def _day_at(self, day_start: int, lo_hour: int, hi_hour: int) -> int:
        """A quarter-hour between lo_hour and hi_hour on the day starting at day_start."""
        return day_start + lo_hour * _HOUR + self.rng.randrange((hi_hour - lo_hour) * 4) * 900

    def gen_moves(self, laptops: dict[str, Record]) -> list[Record]:
        rng = self.rng
        site_weights = list(itertools.accumulate(len(s.spaces) for s in self.sites))
        records: list[Record] = []
        for i in range(self.scale.moves):
            site = self.sites[bisect(site_weights, rng.random() * site_weights[-1])]
            # The first moves cover every status and every kind, so even the small scale
            # exercises every state and item type.
            status = res.MOVE_STATUSES[i] if i < len(res.MOVE_STATUSES) else res.MOVE_STATUSES[
                bisect(_MOVE_STATUS_CUM, rng.random() * _MOVE_STATUS_CUM[-1])]
            kind = _MOVE_KINDS[i] if i < len(_MOVE_KINDS) else _MOVE_KINDS[
                bisect(_MOVE_KIND_CUM, rng.random() * _MOVE_KIND_CUM[-1])]
            title, items = self._move_items(site, kind, laptops)
            records.append(self._move_record(site, status, title, items))
        records.sort(key=lambda r: r[res.F_CREATED])
        for rec in records:
            rec[res.F_KEY] = self.key()
        return records

    def _move_items(
        self, site: _Site, kind: str, laptops: dict[str, Record]
    ) -> tuple[str, list[Record]]:
        rng = self.rng
        ctx = self._move_ctx.get(site.code)
        if ctx is None:  # built once per site: a large scale asks for thousands of moves
            desks = [r for t in _DESK_TYPES for r in site.by_type.get(t, ())]
            movable = self._assets_by_site.get(site.record[res.F_KEY]) or []
            ctx = (
                [r for r in desks if not r["occupied"]] or desks,
                site.occupied or desks,
                site.by_type.get("storage") or desks,
                movable,
                [a for a in movable if a["categoryName"] == "Laptop" and not a["ownerName"]],
            )
            self._move_ctx[site.code] = ctx
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
            person = src["occupantName"] or self._full(site)
            return f"Desk move – {person}", [
                item(person, None, src[res.F_KEY], rng.choice(vacant)[res.F_KEY], "employee_move")
            ]
        if kind == "team":
            dept = rng.choice(catalog.DEPARTMENTS)
            floor = rng.choice([f for f in site.floors if f["level"] >= 0])
            people = rng.sample(occupied, min(len(occupied), rng.randint(3, 10)))
            items = [
                item(p["occupantName"] or self._full(site), None, p[res.F_KEY],
                     rng.choice(vacant)[res.F_KEY], "employee_move")
                for p in people
            ]
            if movable and rng.random() < 0.4:
                target = rng.choice(vacant)
                items += [equipment(a, target) for a in rng.sample(movable, min(2, len(movable)))]
            return f"{dept} team move to {floor[res.F_NAME]}", items
        if kind == "new_starter":
            person = self._full(site)
            dst = rng.choice(vacant)
            items = [item(person, None, None, dst[res.F_KEY], "new_person")]
            if spare or movable:
                items.append(equipment(rng.choice(spare or movable), dst, person))
            return f"New starter – {person}", items
        if kind == "leaver":
            src = rng.choice(occupied)
            person = src["occupantName"] or self._full(site)
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

    def _full(self, site: _Site) -> str:
        first, last = site.person()
        return f"{first} {last}"

    def _move_record(self, site: _Site, status: str, title: str, items: list[Record]) -> Record:
        rng = self.rng
        now, today = self.now, self.today
        completed: int | None = None
        if status == "completed":
            sched = self._day_at(today - rng.randrange(1, 180) * _DAY, 8, 19)
            completed = sched + rng.randrange(2 * _HOUR, 10 * _HOUR)
        elif status == "in_progress":
            sched = min(now - _HOUR, self._day_at(today - rng.randrange(0, 3) * _DAY, 7, 12))
        elif status == "approved":
            sched = self._day_at(today + rng.randrange(1, 45) * _DAY, 8, 19)
        elif status == "pending":
            sched = self._day_at(today + rng.randrange(3, 60) * _DAY, 8, 19)
        else:
            sched = self._day_at(today + rng.randrange(-60, 60) * _DAY, 8, 19)
        created = min(now - rng.randrange(_HOUR, 2 * _DAY),
                      sched - rng.randrange(3 * _DAY, 40 * _DAY))
        created = max(created, site.created + _DAY)
        if status == "completed":
            updated = completed or created
        elif status == "in_progress":
            updated = sched
        elif status == "pending":
            updated = created
        else:
            updated = min(now - 60, created + rng.randrange(_HOUR, 5 * _DAY))
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
            res.F_CREATED: format_ts(created),
            res.F_UPDATED: format_ts(updated),
            res.F_DELETED: None,
        }

    # -- visits -----------------------------------------------------------------------------

    def gen_visits(self) -> list[Record]:
        rng = self.rng
        n = self.scale.visits
        today_n = max(6, round(n * 0.1))
        future_n = round(n * 0.27)
        past_n = max(0, n - today_n - future_n)
        # Weekdays are busy, weekends nearly empty.
        past_days = [self.today - d * _DAY for d in range(1, 46)]
        future_days = [self.today + d * _DAY for d in range(1, 15)]

        def weight(day: int) -> float:
            return 0.12 if time.gmtime(day).tm_wday >= 5 else 1.0

        past_cum = list(itertools.accumulate(weight(d) for d in past_days))
        future_cum = list(itertools.accumulate(weight(d) for d in future_days))
        days: list[int] = [self.today] * today_n
        days += [past_days[bisect(past_cum, rng.random() * past_cum[-1])] for _ in range(past_n)]
        days += [future_days[bisect(future_cum, rng.random() * future_cum[-1])]
                 for _ in range(future_n)]
        site_weights = list(itertools.accumulate(len(s.spaces) for s in self.sites))
        records = [
            self._visit(self.sites[bisect(site_weights, rng.random() * site_weights[-1])], day)
            for day in days
        ]
        records.sort(key=lambda r: r[res.F_CREATED])
        for rec in records:
            rec[res.F_KEY] = self.key()
        return records

    def _visit(self, site: _Site, day: int) -> Record:
        rng = self.rng
        now = self.now
        vtype = res.VISITOR_TYPES[bisect(_VISITOR_TYPE_CUM, rng.random() * _VISITOR_TYPE_CUM[-1])]
        first, last = self.person()
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
        local = f"{_ascii(first).lower()}.{_ascii(last).lower()}"
        if vtype == "delivery":
            email = None
        elif company is None:
            email = f"{local}@{rng.choice(_MAIL_DOMAINS)}"
        else:
            email = f"{local}@{_ascii(company.split(' & ')[0].replace(' ', '-')).lower()}.com"
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
        expected = self._day_at(day, 8, 17)
        checked_in: int | None = None
        checked_out: int | None = None
        r = rng.random()
        if day < self.today:
            status = "checked_out" if r < 0.76 else ("no_show" if r < 0.88 else "cancelled")
        elif day > self.today:
            status = "expected" if r < 0.92 else "cancelled"
        elif expected <= now - 2 * _HOUR:
            status = ("checked_out" if r < 0.6 else "checked_in" if r < 0.85
                      else "no_show" if r < 0.92 else "cancelled")
        elif expected <= now:
            status = "checked_in" if r < 0.6 else ("expected" if r < 0.9 else "cancelled")
        else:
            status = "expected" if r < 0.9 else "cancelled"
        if status in ("checked_in", "checked_out"):
            checked_in = min(now - 60, expected + rng.randint(-20, 25) * 60)
        if status == "checked_out" and checked_in is not None:
            checked_out = min(now - 60, checked_in + rng.randrange(30 * 60, 6 * _HOUR))
            if checked_out <= checked_in:
                status, checked_out = "checked_in", None
        created = min(now - rng.randrange(60, 3 * _HOUR),
                      expected - rng.randrange(_HOUR, 10 * _DAY))
        if status == "checked_in" and checked_in is not None:
            updated = checked_in
        elif status == "checked_out" and checked_out is not None:
            updated = checked_out
        elif status == "no_show":
            updated = min(now - 60, day + 20 * _HOUR)
        elif status == "cancelled":
            updated = min(now - 60, created + rng.randrange(0, 3 * _DAY))
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


_STREET_NOISE: Final = frozenset({
    "North", "South", "East", "West", "Avenue", "Street", "Road", "Drive", "Boulevard",
    "Place", "Square", "Lane", "of", "the", "NW", "NE", "Sir",
})
