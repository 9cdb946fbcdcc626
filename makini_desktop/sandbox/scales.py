"""How much data each sandbox scale makes: light enough for the argument parser to import
(the ``--scale`` choices) without loading the generator or the server."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final


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


__all__ = ["SCALES", "Scale"]
