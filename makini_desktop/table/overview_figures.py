"""The Overview's figures as :func:`~makini_desktop.table.overview.compute` returns them.

Frozen dataclasses, no Qt and no counting: what the Overview tab's charts and tables read
(:mod:`makini_desktop.ui.overview_parts`) and what a worker thread hands back whole. The
definitions of each figure are in :mod:`makini_desktop.table.overview`, which counts them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime

__all__ = [
    "AssetFigures",
    "BuildingFigures",
    "FloorFigures",
    "FloorInfo",
    "MoveFigures",
    "Occupancy",
    "Overview",
    "VisitorFigures",
]


@dataclass(frozen=True)
class Occupancy:
    """Seats and rooms of a set of spaces."""

    seats: int = 0
    occupied: int = 0
    rooms: int = 0
    room_capacity: int = 0

    @property
    def vacant(self) -> int:
        return self.seats - self.occupied

    @property
    def percent(self) -> float | None:
        """Occupied ÷ seats × 100, None when there are no seats."""
        return None if self.seats <= 0 else 100.0 * self.occupied / self.seats

    def percent_text(self) -> str:
        """``73.5 %`` (one decimal), ``—`` without seats."""
        pct = self.percent
        return "—" if pct is None else f"{pct:.1f} %"


@dataclass(frozen=True)
class FloorInfo:
    """A floor the app knows (from the lookups)."""

    key: str
    site_key: str | None
    name: str
    level: int | None


@dataclass(frozen=True)
class FloorFigures:
    """One floor's occupancy."""

    key: str
    name: str
    level: int | None
    occupancy: Occupancy


@dataclass(frozen=True)
class BuildingFigures:
    """One building's occupancy and its floors, lowest level first."""

    key: str
    name: str
    occupancy: Occupancy
    floors: tuple[FloorFigures, ...]

    def stack(self) -> tuple[FloorFigures, ...]:
        """The floors as a stack is drawn: top floor first."""
        return tuple(reversed(self.floors))


@dataclass(frozen=True)
class VisitorFigures:
    """The front desk's day.

    Attributes:
        by_hour: ``(hour, expected, arrived)`` for every hour 0–23 of today.
        by_status: :data:`VISIT_STATUS_IDS` → count.
    """

    by_hour: tuple[tuple[int, int, int], ...]
    by_status: Mapping[str, int]

    def busy_hours(self, first: int = 8, last: int = 18) -> tuple[tuple[int, int, int], ...]:
        """The hours worth drawing: ``first``–``last`` widened to every hour with visits."""
        used = [h for h, e, a in self.by_hour if e or a]
        lo = min([first, *used])
        hi = max([last, *used])
        return tuple(t for t in self.by_hour if lo <= t[0] <= hi)


@dataclass(frozen=True)
class MoveFigures:
    """Moves by status (every status of the contract, in its order) and the days ahead."""

    by_status: Mapping[str, int]
    by_day: tuple[tuple[date, int], ...]


@dataclass(frozen=True)
class AssetFigures:
    """Assets per category: ``(category, assets, not audited for 12 months)``, largest first."""

    by_category: tuple[tuple[str, int, int], ...]
    total: int
    not_audited: int
    cutoff: datetime


@dataclass(frozen=True)
class Overview:
    """Every figure of the Overview tab."""

    building: str | None
    now: datetime
    occupancy: Occupancy
    buildings: tuple[BuildingFigures, ...]
    visitors: VisitorFigures
    moves: MoveFigures
    assets: AssetFigures

    def building_figures(self, key: str | None) -> BuildingFigures | None:
        for b in self.buildings:
            if b.key == key:
                return b
        return None
