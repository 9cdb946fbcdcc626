"""The rows as the user should see them: the cached or fetched rows with the changes still on
their way applied on top.

A list refresh that lands while a check-in is being sent carries the visitor as the server
had them a moment ago (still ``expected``); shown as it is, the refresh would undo what the
user just did. :func:`overlay` applies every pending change (waiting or sending) to its row,
in the order they were made, and a record the server confirmed more recently than the
refreshed row (see :class:`Outbox.confirmed`) replaces the stale copy. Changes that were
refused (failed, conflict) are not applied: their row shows what the server has.

Pure functions, Qt-free; the body fields and the timestamps a status change sets follow
contract §6.2.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from makini_desktop.api import resources as res
from makini_desktop.api import writes
from makini_desktop.api.values import parse_datetime
from makini_desktop.store.outbox import KIND_CREATE, KIND_STATUS, Change

__all__ = [
    "B_EXPECTED_STATUS",
    "B_OCCURRED_AT",
    "B_REASON",
    "apply_change",
    "overlay",
    "pending_by_key",
]

Row = dict[str, Any]

# Contract §6.2's body fields, from the one table of field names.
B_EXPECTED_STATUS = res.W_EXPECTED_STATUS
B_OCCURRED_AT = res.W_OCCURRED_AT
B_REASON = res.W_REASON


def apply_change(row: Mapping[str, Any] | None, change: Change) -> Row:
    """The record as it will be once ``change`` is applied (what the row shows meanwhile)."""
    body = change.body
    occurred = body.get(B_OCCURRED_AT) or _iso(change)
    if change.kind == KIND_CREATE:
        new: Row = {
            k: v for k, v in body.items() if k not in (B_OCCURRED_AT, B_EXPECTED_STATUS)
        }
        new[res.F_KEY] = change.record_key
        new.setdefault(res.F_STATUS, "expected")
        if new.get(res.F_STATUS) == "checked_in":
            new[res.F_CHECKED_IN] = occurred
        return new
    out: Row = dict(row or change.before or {res.F_KEY: change.record_key})
    target = body.get(res.W_STATUS)
    dataset = res.DATASETS.get(change.dataset)
    if change.kind != KIND_STATUS or not isinstance(target, str) or dataset is None:
        return out
    reason = body.get(B_REASON)
    return writes.apply_status(
        dataset, out, target, when=str(occurred),
        reason=reason if isinstance(reason, str) else None,
    )


def _iso(change: Change) -> str:
    return change.occurred_at.isoformat().replace("+00:00", "Z")


def _newer(candidate: Mapping[str, Any], row: Mapping[str, Any]) -> bool:
    """True when ``candidate`` is at least as recent as ``row`` (by ``updatedAt``)."""
    mine = parse_datetime(candidate.get(res.F_UPDATED))
    theirs = parse_datetime(row.get(res.F_UPDATED))
    if mine is None:
        return False
    return theirs is None or mine >= theirs


def pending_by_key(changes: Iterable[Change], dataset: str) -> dict[str, list[Change]]:
    """The changes of a dataset the rows show, by record key, in created order.

    A record's pending changes count up to its first refused one: the changes made after
    it are held (they were made on top of it), so its row shows the server's record.
    """
    found: dict[str, list[Change]] = {}
    held: set[str] = set()
    for change in sorted(changes, key=lambda c: c.seq):
        if change.dataset != dataset or change.record_key in held:
            continue
        if not change.pending:
            held.add(change.record_key)
            continue
        found.setdefault(change.record_key, []).append(change)
    return found


def overlay(
    rows: Sequence[Mapping[str, Any]],
    changes: Iterable[Change],
    dataset: str,
    *,
    confirmed: Mapping[tuple[str, str], Mapping[str, Any]] | None = None,
) -> list[Row]:
    """The rows as the user should see them.

    Args:
        rows: the cached or fetched rows of ``dataset``, in their order.
        changes: the outbox's changes (any dataset, any state).
        dataset: the dataset of ``rows``.
        confirmed: records the server answered with recently, by (dataset, key): one
            replaces a row whose ``updatedAt`` is older (a refresh fetched before the
            answer arrived).

    Returns:
        New row dicts (the input is not changed) in the same order; records created in the
        outbox and not yet confirmed come last. Rows without a pending change and without a
        newer confirmed record are the same objects as given.
    """
    pending = pending_by_key(changes, dataset)
    known = confirmed or {}
    out: list[Row] = []
    seen: set[str] = set()
    for row in rows:
        key = row.get(res.F_KEY)
        skey = str(key) if key is not None else ""
        seen.add(skey)
        base: Mapping[str, Any] = row
        newer = known.get((dataset, skey))
        if newer is not None and newer is not row and _newer(newer, row):
            base = newer
        todo = pending.get(skey)
        if not todo:
            out.append(base if isinstance(base, dict) and base is row else dict(base))
            continue
        current: Row = dict(base)
        for change in todo:
            current = apply_change(current, change)
        out.append(current)
    for key, todo in pending.items():
        if key in seen or todo[0].kind != KIND_CREATE:
            continue
        current = apply_change(None, todo[0])
        for change in todo[1:]:
            current = apply_change(current, change)
        out.append(current)
    return out
