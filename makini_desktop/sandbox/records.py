"""The sandbox's live records: what the server serves and changes, and their timestamps.

:class:`SandboxData` holds each dataset in key order with an index by key, a cached list of
the visible (not soft-deleted) records and a version counter per dataset; the server reads
it on every request and swaps records in through :meth:`SandboxData.replace`. The
generator (:mod:`makini_desktop.sandbox.data`) fills it; nothing here is random.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, Final

from makini_desktop.api import resources as res

Record = dict[str, Any]
"""One entity as JSON: camelCase field -> value."""

DATASET_NAMES: Final[tuple[str, ...]] = tuple(res.DATASETS)

DAY: Final = 86400
HOUR: Final = 3600


# ---------------------------------------------------------------------------------------
# Timestamps. The generator works in integer Unix seconds and formats once per value; a
# per-day prefix cache makes formatting a few hundred thousand stamps cheap.

_DATE_PREFIX: dict[int, str] = {}


def format_ts(ts: int) -> str:
    """Unix seconds as the contract's ISO-8601 UTC form, ``2026-03-14T09:30:00Z``."""
    day, sec = divmod(int(ts), DAY)
    prefix = _DATE_PREFIX.get(day)
    if prefix is None:
        prefix = time.strftime("%Y-%m-%dT", time.gmtime(day * DAY))
        _DATE_PREFIX[day] = prefix
    hh, rem = divmod(sec, HOUR)
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
        numeric = [int(rec[res.F_KEY]) for records in self._lists.values() for rec in records
                   if str(rec[res.F_KEY]).isdigit()]
        self._last_key = max(numeric, default=9_000_000_000_000)

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

    def add(self, name: str, record: Record) -> None:
        """Append a new record whose key sorts after every existing one (see
        :meth:`new_key`), so the dataset stays in key order.

        Raises:
            KeyError: unknown dataset.
            ValueError: the key is taken or would not sort last.
        """
        with self.lock:
            records = self._lists[name]
            key = record[res.F_KEY]
            if key in self._index[name] or (records and records[-1][res.F_KEY] >= key):
                raise ValueError(f"key {key} is taken or out of order in {name}")
            self._index[name][key] = len(records)
            records.append(record)
            self._versions[name] += 1
            self._visible.pop(name, None)

    def new_key(self) -> str:
        """A fresh 14-digit key after every key handed out so far, in any dataset (keys are
        unique across datasets and follow creation order, like database IDs)."""
        with self.lock:
            self._last_key += 1
            return f"{self._last_key:014d}"

    def next_stamp(self) -> int:
        """A Unix-seconds stamp for a change: the wall clock, but strictly after every stamp
        already handed out, so ``filter[updatedAt:gt]=<newest seen>`` never misses a change
        even when the data's ``now`` is ahead of the clock or two changes share a second."""
        with self.lock:
            ts = max(int(time.time()), self.last_stamp + 1)
            self.last_stamp = ts
            self.integration["sync_updated_at"] = format_ts(ts)
            return ts

