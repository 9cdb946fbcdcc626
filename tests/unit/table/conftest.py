"""Shared data for the Qt-free table tests."""

from __future__ import annotations

import pytest

from makini_desktop.table.lookups import Lookups


@pytest.fixture
def lookups() -> Lookups:
    lk = Lookups()
    lk.set_rows("sites", [{"key": "S1", "name": "Harbour House"}, {"key": "S2", "name": "Mill"}])
    lk.set_rows("locations", [
        {"key": "F1", "name": "Level 1", "type": "floor"},
        {"key": "F2", "name": "Mezzanine", "type": "floor"},
    ])
    return lk
