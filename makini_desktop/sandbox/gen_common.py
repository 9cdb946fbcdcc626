"""What every stage of the data generator shares: the scales, the run's state and helpers.

A generation is one :class:`Run`: a single ``random.Random(seed)`` that every stage draws from
in a fixed order (:mod:`.gen_places`, then :mod:`.gen_assets`, then :mod:`.gen_activity`), so
the same scale, seed and ``now`` always give identical records. Later stages read what
earlier ones built (the buildings in :attr:`Run.sites`, the movable assets per site).
"""

from __future__ import annotations

import itertools
import random
import unicodedata
from bisect import bisect
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Final

from makini_desktop.sandbox import names as catalog
from makini_desktop.sandbox.records import DAY, Record
from makini_desktop.sandbox.scales import Scale

_SQFT_TO_M2: Final = 0.09290304
_ALNUM: Final = "ABCDEFGHJKLMNPQRSTUVWXYZ0123456789"  # no I/O: serials avoid them too
DESK_TYPES: Final = ("workstation", "office")
"""Space types a person sits at (occupied desks own laptops, moves go between them)."""


def split(total: int, weights: Sequence[float]) -> list[int]:
    """Split ``total`` into integer parts proportional to ``weights`` (largest remainder)."""
    wsum = sum(weights)
    raw = [total * w / wsum for w in weights]
    parts = [int(x) for x in raw]
    order = sorted(range(len(raw)), key=lambda i: raw[i] - parts[i], reverse=True)
    for i in order[: total - sum(parts)]:
        parts[i] += 1
    return parts


def ascii_letters(text: str) -> str:
    """Letters only, accents folded: for codes and e-mail addresses."""
    text = text.replace("ø", "o").replace("Ø", "O").replace("ß", "ss").replace("ł", "l")
    text = text.replace("æ", "ae").replace("ı", "i").replace("Ł", "L")
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(ch for ch in folded if ch.isalnum())


_SERIAL_CACHE: dict[str, list[tuple[str, int | str]]] = {}


def compile_serial(pattern: str) -> list[tuple[str, int | str]]:
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


@dataclass
class Site:
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


class Run:
    """One generation run. Everything random goes through ``self.rng``.

    Attributes:
        scale: how much to generate.
        seed: the seed of :attr:`rng`.
        rng: the only source of randomness.
        now: the instant the data is relative to, Unix seconds.
        today: the start of ``now``'s day (UTC).
        tag: the last asset tag number handed out.
        person: a random (first, last) name from the company-wide mix.
        sites: the buildings, once :func:`.gen_places.gen_sites` ran.
        movable_by_site: active movable assets per site key, once
            :func:`.gen_assets.gen_assets` ran (moves pick from them).
    """

    def __init__(self, scale: Scale, seed: int, now: int) -> None:
        self.scale = scale
        self.seed = seed
        self.rng = random.Random(seed)
        self.now = now
        self.today = now - now % DAY
        self._key = 9_000_000_000_000 + self.rng.randrange(1_000_000_000)
        self.tag = 1_000 + self.rng.randrange(4_000)
        self._cultures = tuple(catalog.PEOPLE)
        self.person = self.person_picker(None)
        self.sites: list[Site] = []
        self.movable_by_site: dict[str, list[Record]] = {}

    # -- helpers ----------------------------------------------------------------------------

    def key(self) -> str:
        """The next key: increasing with random gaps, like IDs in a shared database."""
        self._key += 1 + self.rng.getrandbits(6)
        return f"{self._key:014d}"

    def person_picker(self, local: str | None) -> Callable[[], tuple[str, str]]:
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
        """A random serial number in the shape of ``pattern`` (see :func:`compile_serial`)."""
        rng = self.rng
        out: list[str] = []
        for kind, value in compile_serial(pattern):
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

