"""Rows for the Qt-free table tests."""

from __future__ import annotations

from typing import Any


def space(key: str, name: str, **extra: Any) -> dict[str, Any]:
    """A space row of building S1, floor F1, with ``extra`` fields."""
    row: dict[str, Any] = {
        "key": key, "name": name, "type": "office", "siteKey": "S1", "parentKey": "F1",
        "updatedAt": "2026-03-01T10:00:00Z",
    }
    row.update(extra)
    return row
