"""The CLI's ``outbox list``: the changes not yet confirmed by the server, for support. No Qt.

Reads each connection's cache file read-only (a running app is not disturbed). Prints what a
support engineer needs to follow a change through the server's logs (its state, reason,
request ID and Idempotency-Key, when the user acted) and never a token: the outbox holds
none, and its reasons were scrubbed when they were stored.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from makini_desktop.api import resources as res
from makini_desktop.store.cache import CacheError, cache_path_for, profile_cache_key
from makini_desktop.store.outbox import Change, OutboxStore
from makini_desktop.store.profiles import ProfileStore
from makini_desktop.usage import EXIT_FAILED, EXIT_OK, UsageError

__all__ = ["run_outbox_command"]

_NAME_FIELDS = ("visitorName", "title", "name")  # what the record is called, by dataset


def _entries(ns: argparse.Namespace) -> list[tuple[str, str]]:
    from makini_desktop.cli_cache import _known_caches

    if ns.connection:
        profile = ProfileStore().find_by_name(ns.connection)
        if profile is None:
            raise UsageError(f"no saved connection named {ns.connection!r}")
        return [(profile.name, profile_cache_key(profile.id, profile.base_url))]
    return _known_caches()


def _named(change: Change) -> str:
    record = change.before or change.body
    for field in _NAME_FIELDS:
        value = record.get(field)
        if isinstance(value, str) and value:
            return value
    return ""


def _as_json(label: str, change: Change) -> dict[str, Any]:
    return {
        "connection": label,
        "seq": change.seq,
        "state": change.state.value,
        "dataset": change.dataset,
        "key": change.record_key,
        "name": _named(change),
        "action": change.action,
        "target": change.body.get(res.F_STATUS),
        "occurredAt": change.occurred_at.isoformat().replace("+00:00", "Z"),
        "createdAt": change.created_at.isoformat().replace("+00:00", "Z")
        if change.created_at else None,
        "attempts": change.attempts,
        "reason": change.reason,
        "requestId": change.request_id,
        "httpStatus": change.http_status,
        "idempotencyKey": change.idempotency_key,
    }


def _print_text(label: str, changes: list[Change]) -> None:
    print(f"{label}: {len(changes)} change(s) not yet confirmed")
    for c in changes:
        what = f"{c.action} {c.dataset} {c.record_key}"
        name = _named(c)
        local = c.occurred_at.astimezone().strftime("%Y-%m-%d %H:%M:%S")
        print(f"  #{c.seq} {c.state.value:<8} {what}{f' ({name})' if name else ''}")
        print(f"      acted at {local} local ({c.occurred_at:%Y-%m-%dT%H:%M:%SZ}), "
              f"{c.attempts} attempt(s), Idempotency-Key {c.idempotency_key}")
        if c.reason:
            print(f"      {c.reason}")
        if c.request_id:
            print(f"      request id: {c.request_id}")


def run_outbox_command(ns: argparse.Namespace) -> int:
    """``makini-desktop outbox list``: every connection's unconfirmed changes."""
    if ns.outbox_command != "list":
        raise AssertionError(ns.outbox_command)
    found: list[tuple[str, list[Change]]] = []
    failed = False
    for label, key in _entries(ns):
        path = cache_path_for(key)
        if not path.is_file():
            continue
        try:
            with OutboxStore.open(path, read_only=True) as store:
                changes = store.changes()
        except CacheError as exc:
            print(f"{label}: error: {exc}", file=sys.stderr)
            failed = True
            continue
        if changes:
            found.append((label, changes))
    if ns.json:
        doc = [_as_json(label, c) for label, changes in found for c in changes]
        print(json.dumps({"changes": doc}, indent=2, ensure_ascii=False))
    elif not found:
        print("No changes waiting to be sent." if not ns.connection
              else f"{ns.connection}: no changes waiting to be sent.")
    else:
        for label, changes in found:
            _print_text(label, changes)
    return EXIT_FAILED if failed else EXIT_OK
