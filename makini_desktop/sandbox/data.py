"""Deterministic, realistic data for the sandbox: a company's buildings, spaces, assets, moves
and visitors as the Makini workplace API would return them (contract §2).

:func:`generate` builds a :class:`SandboxData` from ``(scale, seed, now)`` using only its own
``random.Random(seed)``: the same three inputs always give identical records. ``now`` defaults
to today's date at 12:00 UTC, so the demo always has visitors "today" and two processes
started on the same day (the CLI sandbox and a test harness) agree on the data.

Records are plain JSON-ready dicts with the contract's camelCase fields, kept in key order.
Keys are 14-digit numeric strings, unique across all datasets and allocated in creation order
(sequential database IDs), so ``key`` order roughly follows ``createdAt``.

Generation is one :class:`~makini_desktop.sandbox.gen_common.Run` through three stages, a
module each: :mod:`.gen_places` (sites, floors, spaces), :mod:`.gen_assets` and
:mod:`.gen_activity` (moves, visits); the result is a live
:class:`~makini_desktop.sandbox.records.SandboxData` (:mod:`.records`). This module is the
front door: :func:`generate` and the names the rest of the sandbox and the tests use.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

from makini_desktop.api import resources as res
from makini_desktop.sandbox import names as catalog
from makini_desktop.sandbox.gen_activity import gen_moves, gen_visits
from makini_desktop.sandbox.gen_assets import gen_assets
from makini_desktop.sandbox.gen_common import Run
from makini_desktop.sandbox.gen_places import gen_locations, gen_sites
from makini_desktop.sandbox.records import (
    DATASET_NAMES,
    Record,
    SandboxData,
    default_now,
    format_ts,
    parse_ts,
)
from makini_desktop.sandbox.scales import SCALES, Scale

__all__ = [
    "DATASET_NAMES",
    "SCALES",
    "Record",
    "SandboxData",
    "Scale",
    "default_now",
    "format_ts",
    "generate",
    "parse_ts",
]


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
    run = Run(SCALES[scale], seed, int(now.timestamp()))
    sites = gen_sites(run)
    locations = gen_locations(run)
    assets, laptops = gen_assets(run)
    moves = gen_moves(run, laptops)
    visits = gen_visits(run)
    company, domain = run.rng.choice(catalog.INTEGRATION_COMPANIES)
    newest = max(r[res.F_UPDATED] for r in itertools.chain(sites, locations, assets,
                                                           moves, visits))
    integration: Record = {
        "id": run.rng.randrange(1_000, 99_999),
        "company_name": company,
        "email": f"facilities@{domain}",
        "provider": "ioffice",
        "updated_at": format_ts(run.now),
        "sync_status": "done",
        "sync_updated_at": newest,
    }
    return SandboxData(
        scale=scale, seed=seed, now=now, sites=sites, locations=locations, assets=assets,
        moves=moves, visits=visits, integration=integration,
    )
