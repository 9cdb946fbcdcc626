"""The assets of the generated company: IT, furniture and building equipment placed in its
spaces, with makes, models, serials, tags, owners and audit dates.

The second stage of a :class:`~makini_desktop.sandbox.gen_common.Run`, after the places: it
fills :attr:`Run.movable_by_site <makini_desktop.sandbox.gen_common.Run.movable_by_site>`
for the moves.
"""

from __future__ import annotations

import itertools
from bisect import bisect
from typing import Final

from makini_desktop.api import resources as res
from makini_desktop.sandbox import names as catalog
from makini_desktop.sandbox.gen_common import DESK_TYPES, Run, Site
from makini_desktop.sandbox.records import DAY, HOUR, Record, format_ts

_MOVABLE: Final = frozenset({
    "Monitor", "Docking station", "Desk", "Chair", "Printer", "Meeting room display",
    "Projector", "Desk phone", "Laptop",
})
_RACKED: Final = frozenset({"Server", "Network switch", "UPS"})
_SUPPLIERS: Final = ("CDW", "Insight", "Softcat", "Bechtle", "SHI", "Computacenter")


def gen_assets(run: Run) -> tuple[list[Record], dict[str, Record]]:
    """The assets in key order, and each laptop owner's first laptop (by owner name)."""
    rng = run.rng
    cats = catalog.CATEGORIES
    cum = list(itertools.accumulate(c.weight for c in cats))
    crit_cum = [list(itertools.accumulate(c.criticality)) for c in cats]
    by_type: dict[str, list[tuple[Site, Record]]] = {}
    for site in run.sites:
        for t, recs in site.by_type.items():
            by_type.setdefault(t, []).extend((site, r) for r in recs)
    pools: list[list[tuple[Site, Record]]] = []
    occupied_pools: list[list[tuple[Site, Record]]] = []
    for c in cats:
        pool = [p for t in c.space_types for p in by_type.get(t, ())]
        pools.append(pool or [p for t in DESK_TYPES for p in by_type[t]])
        occupied_pools.append([p for p in pool if p[1]["occupied"]] or pools[-1])
    host_counts: dict[tuple[str, str], int] = {}
    chosen = rng.choices(range(len(cats)), cum_weights=cum, k=run.scale.assets)
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
        run.tag += 1 + rng.getrandbits(1)
        legacy = i % 31 == 5 or rng.random() < 0.03
        if legacy:  # bought before the system went live, imported at go-live
            activated = site.created - rng.randrange(30, 900) * DAY - rng.randrange(DAY)
            created = site.created + rng.randrange(3 * DAY)
        else:
            activated = run.between(site.created, run.now - DAY)
            created = min(run.now - HOUR, activated + rng.randrange(2 * DAY))
        active = rng.random() > 0.04
        deactivated = None if active else run.between(max(activated, created), run.now)
        if not active:
            owner = None if cat.personal else owner
        audited = (
            max(created, run.now - rng.randrange(400 * DAY)) if rng.random() < 0.85
            else None
        )
        updated = max(created, audited or 0, deactivated or 0)
        if rng.random() < 0.3:
            updated = run.between(updated, run.now)
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
        rec["serialNumber"] = run.serial(pattern)
        rec["tag"] = f"{cat.tag_prefix}-{run.tag:06d}"
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
                "warrantyEnd": format_ts(activated + 3 * 365 * DAY)[:10],
                "supplier": rng.choice(_SUPPLIERS),
            }
        records.append(rec)
    # Keys in creation order, as a database's sequential IDs would be.
    records.sort(key=lambda r: r[res.F_CREATED])
    for rec in records:
        rec[res.F_KEY] = run.key()
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
            run.movable_by_site.setdefault(rec[res.F_SITE_KEY], []).append(rec)
    return records, laptops
