"""Shared data for the Qt-free table tests."""

from __future__ import annotations

from typing import Any

import pytest

from makini_desktop.table.lookups import Lookups


def space(key: str, name: str, **extra: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "key": key, "name": name, "type": "office", "siteKey": "S1", "parentKey": "F1",
        "updatedAt": "2026-03-01T10:00:00Z",
    }
    row.update(extra)
    return row


@pytest.fixture
def lookups() -> Lookups:
    lk = Lookups()
    lk.set_rows("sites", [{"key": "S1", "name": "Harbour House"}, {"key": "S2", "name": "Mill"}])
    lk.set_rows("locations", [
        {"key": "F1", "name": "Level 1", "type": "floor"},
        {"key": "F2", "name": "Mezzanine", "type": "floor"},
    ])
    return lk
