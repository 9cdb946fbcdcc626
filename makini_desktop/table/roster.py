"""The on-site roster: everyone checked in now, per building (no Qt).

What a fire warden takes outside: for each building, every visitor whose status is checked
in, with their company, host and check-in time, and the time the list was last confirmed
by the server. :func:`build_roster` makes it from the Visitors rows the app holds (offline
too); :mod:`makini_desktop.ui.roster` prints it and writes it as PDF.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from makini_desktop.api import resources as res

__all__ = ["NO_BUILDING", "Roster", "RosterBuilding", "RosterEntry", "build_roster", "on_site"]

NO_BUILDING = "Building not recorded"


@dataclass(frozen=True)
class RosterEntry:
    """One person on site."""

    name: str
    company: str
    host: str
    checked_in: datetime | None


@dataclass(frozen=True)
class RosterBuilding:
    """The people on site in one building, by name."""

    key: str | None
    name: str
    entries: tuple[RosterEntry, ...]


@dataclass(frozen=True)
class Roster:
    """The roster: buildings by name, when it was made and when the data was confirmed.

    Attributes:
        buildings: only buildings with someone on site (a chosen building is listed even
            when empty, so the page says "nobody").
        made_at: when the roster was built.
        confirmed_at: when the Visitors list was last confirmed by the server (None: never,
            the list is from the cache only or empty).
    """

    buildings: tuple[RosterBuilding, ...]
    made_at: datetime
    confirmed_at: datetime | None

    @property
    def count(self) -> int:
        return sum(len(b.entries) for b in self.buildings)


def _text(value: Any) -> str:
    if value is None:
        return ""
    return value.strip() if isinstance(value, str) else str(value)


def _when(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        dt = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return dt if dt.tzinfo is not None else dt.replace(tzinfo=UTC)


def on_site(
    visits: Iterable[Mapping[str, Any]], building: str | None = None
) -> Iterator[Mapping[str, Any]]:
    """The visits checked in now (not deleted), in one building when ``building`` is given:
    who the roster lists and who "Check out everyone still on site" checks out."""
    for row in visits:
        if row.get(res.F_DELETED) or row.get(res.F_STATUS) != res.VISIT_ON_SITE:
            continue
        if building is not None:
            site = row.get(res.F_SITE_KEY)
            if site is None or str(site) != building:
                continue
        yield row


def build_roster(
    visits: Iterable[Mapping[str, Any]],
    sites: Mapping[str, str],
    *,
    building: str | None = None,
    confirmed_at: datetime | None = None,
    now: datetime | None = None,
) -> Roster:
    """Everyone checked in now, per building (one building when ``building`` is given).

    Args:
        visits: the Visitors rows.
        sites: building key → name.
        building: one building's key, or None for all.
        confirmed_at: when the Visitors list was last synced.
        now: when the roster is made (default: now).
    """
    groups: dict[str | None, list[RosterEntry]] = {}
    if building is not None:
        groups[building] = []
    for row in on_site(visits, building):
        site = row.get(res.F_SITE_KEY)
        key = None if site is None else str(site)
        groups.setdefault(key, []).append(RosterEntry(
            _text(row.get(res.F_VISITOR_NAME)) or _text(row.get(res.F_KEY)),
            _text(row.get(res.F_COMPANY)),
            _text(row.get(res.F_HOST_NAME)),
            _when(row.get(res.F_CHECKED_IN)),
        ))
    out = []
    for key, entries in groups.items():
        name = (sites.get(key) or key) if key is not None else NO_BUILDING
        entries.sort(key=lambda e: (e.name.casefold(), e.company.casefold()))
        out.append(RosterBuilding(key, name, tuple(entries)))
    out.sort(key=lambda b: (b.key is None, b.name.casefold()))
    return Roster(tuple(out), now or datetime.now(UTC), confirmed_at)
