"""Records and a snapshot helper shared by the offline cache's tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from makini_desktop.store.cache import Cache

T0 = datetime(2026, 3, 14, 9, 30, tzinfo=UTC)
T1 = T0 + timedelta(hours=1)
T2 = T0 + timedelta(hours=2)


def rec(key: str, name: str | None = None, **extra: Any) -> dict[str, Any]:
    """A minimal record in the contract's shape."""
    row: dict[str, Any] = {
        "key": key,
        "name": name or f"Asset {key}",
        "createdAt": "2026-01-01T00:00:00Z",
        "updatedAt": "2026-03-01T00:00:00Z",
        "deletedAt": None,
    }
    row.update(extra)
    return row


def keys(rows: list[dict[str, Any]]) -> list[str]:
    return [r["key"] for r in rows]


def snapshot(c: Cache, dataset: str, rows: list[dict[str, Any]], at: datetime = T0) -> int:
    w = c.begin_snapshot(dataset)
    w.add(rows)
    return w.commit(server_total=len(rows), watermark=w.max_updated_at, synced_at=at)
