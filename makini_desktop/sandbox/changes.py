"""Changes to the live records: as users of the source system would make them, for tests of
incremental sync (``SandboxServer.mutate`` and ``POST /__sandbox__/mutate``), and as the
contract's writes make them (:func:`change_status`, :func:`register_visit`; the HTTP side,
validation and idempotency are in :mod:`.writes`). Every change stamps ``updatedAt`` after
every earlier stamp, so an incremental sync sees it.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from typing import Any, Final

from makini_desktop.api import resources as res
from makini_desktop.api import writes
from makini_desktop.sandbox import names as catalog
from makini_desktop.sandbox.records import Record, SandboxData, format_ts

_SITE_UPDATES: Final = (
    "Lobby works in progress; use the side entrance", "Fire drill scheduled this month",
    "New visitor kiosks installed", "Bike store extended", "Lift 2 out of service",
)
_FLOOR_UPDATES: Final = (
    "Temporarily closed for a refit", "Neighbourhoods re-planned", "New quiet zone",
    "Re-opened after refurbishment",
)
_VISIT_UPDATES: Final = (
    "Arrival time changed by the host", "Parking space added", "Host changed",
    "Needs an escort to the meeting room", "Bringing a colleague",
)


def person_name(rng: random.Random) -> str:
    """A random full name from the company-wide mix of cultures (for runtime changes)."""
    cultures = tuple(catalog.PEOPLE)
    culture = rng.choices(cultures, weights=[catalog.CULTURE_WEIGHTS[c] for c in cultures])[0]
    firsts, lasts = catalog.PEOPLE[culture]
    return f"{rng.choice(firsts)} {rng.choice(lasts)}"


def mutate(
    data: SandboxData, dataset: str, count: int, delete_share: float, rng: random.Random
) -> list[str]:
    """Change ``count`` random visible records as a user of the source system would.

    Each gets a changed display field and an ``updatedAt`` strictly after every earlier
    one; ``round(count * delete_share)`` of them are soft-deleted instead (``deletedAt``
    set), so an incremental sync sees them as tombstones.

    Args:
        data: the live records.
        dataset: which dataset (``sites`` ... ``visits``).
        count: how many records to change (fewer if there are fewer).
        delete_share: the share of them soft-deleted instead.
        rng: the random source (the server's own, seeded from its config).

    Returns:
        The changed keys, in key order.

    Raises:
        ValueError: unknown dataset, negative count, or a share outside 0..1.
    """
    if dataset not in res.DATASETS:
        raise ValueError(f"unknown dataset {dataset!r}")
    if count < 0 or not 0.0 <= delete_share <= 1.0:
        raise ValueError("count must be >= 0 and delete_share between 0 and 1")
    with data.lock:
        visible = data.visible_view(dataset)
        n = min(count, len(visible))
        if not n:
            return []
        chosen = [visible[i] for i in rng.sample(range(len(visible)), n)]
        deleted = round(n * delete_share)
        ts = format_ts(data.next_stamp())
        for i, rec in enumerate(chosen):
            new = dict(rec)
            _touch(dataset, new, ts, rng)
            new[res.F_UPDATED] = ts
            if i < deleted:
                new[res.F_DELETED] = ts
            data.replace(dataset, new)
    return sorted(rec[res.F_KEY] for rec in chosen)


def _touch(dataset: str, rec: Record, ts: str, rng: random.Random) -> None:
    """Change a field a person would see, the way that dataset's records change."""
    day = ts[:10]
    if dataset == res.SITES.name:
        rec["description"] = f"{rng.choice(_SITE_UPDATES)} (updated {day})"
    elif dataset == res.LOCATIONS.name:
        if rec.get(res.F_TYPE) == res.LOCATION_TYPE_FLOOR:
            rec["description"] = f"{rng.choice(_FLOOR_UPDATES)} (updated {day})"
        elif rec.get("occupied"):
            rec["occupied"], rec["occupantName"] = False, None
        else:
            rec["occupied"], rec["occupantName"] = True, person_name(rng)
    elif dataset == res.ASSETS.name:
        rec["lastAuditedAt"] = ts
        if rec.get("ownerName"):
            rec["ownerName"] = person_name(rng)
    elif dataset == res.MOVES.name:
        rec["notes"] = rng.choice(catalog.MOVE_NOTES)
    else:
        rec["notes"] = rng.choice(_VISIT_UPDATES)


# ---------------------------------------------------------------------------------------
# The writes of contract §6 (validated by :mod:`.writes`; applied here)


def change_status(
    data: SandboxData,
    dataset: res.Dataset,
    record: Record,
    target: str,
    *,
    occurred: int | None,
    reason: str | None,
) -> Record:
    """Apply a status change the contract allows and swap the new record in.

    The change is :func:`makini_desktop.api.writes.apply_status`; ``occurred`` (Unix
    seconds, else the server's time) goes into ``checkedInAt`` / ``checkedOutAt`` /
    ``completedAt``; ``updatedAt`` is a fresh stamp after every earlier one, so an
    incremental sync (``filter[updatedAt:gt]``) sees the change.

    Returns:
        The record after the change.
    """
    with data.lock:
        stamp = data.next_stamp()
        when = format_ts(occurred if occurred is not None else stamp)
        new = writes.apply_status(dataset, record, target, when=when, reason=reason)
        new[res.F_UPDATED] = format_ts(stamp)
        data.replace(dataset.name, new)
    return new


def register_visit(
    data: SandboxData, fields: Mapping[str, Any], *, status: str, occurred: int | None
) -> Record:
    """Create a visit from validated registration fields (contract §6.3) with a new key.

    A walk-in (``status`` ``checked_in``) records ``occurred`` (else the server's time) as
    ``checkedInAt``.

    Returns:
        The new record.
    """
    with data.lock:
        stamp = data.next_stamp()
        ts = format_ts(stamp)
        checked_in = None
        if status == "checked_in":
            checked_in = format_ts(occurred if occurred is not None else stamp)
        record: Record = {
            res.F_KEY: data.new_key(),
            res.F_VISITOR_NAME: fields[res.F_VISITOR_NAME],
            res.F_VISITOR_EMAIL: fields.get(res.F_VISITOR_EMAIL),
            res.F_COMPANY: fields.get(res.F_COMPANY),
            res.F_VISITOR_TYPE: fields[res.F_VISITOR_TYPE],
            res.F_HOST_NAME: fields[res.F_HOST_NAME],
            res.F_SITE_KEY: fields[res.F_SITE_KEY],
            res.F_LOCATION_KEY: fields.get(res.F_LOCATION_KEY),
            res.F_STATUS: status,
            res.F_EXPECTED: fields[res.F_EXPECTED],
            res.F_CHECKED_IN: checked_in,
            res.F_CHECKED_OUT: None,
            res.F_NOTES: fields.get(res.F_NOTES),
            res.F_CREATED: ts,
            res.F_UPDATED: ts,
            res.F_DELETED: None,
        }
        data.add(res.VISITS.name, record)
    return record
