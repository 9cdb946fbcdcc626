"""How a cached record is read: the watermark compares instants."""

from __future__ import annotations

from makini_desktop.store.cache import (
    max_updated_at,
)


def test_max_updated_at_compares_instants() -> None:
    """The watermark helper compares timestamps as instants, not as text."""
    rows = [
        {"updatedAt": "2026-03-14T09:30:00Z"},
        {"updatedAt": "2026-03-14T09:30:00.500Z"},
        {"updatedAt": "not a date"},
        {},
    ]
    assert max_updated_at(rows) == "2026-03-14T09:30:00.500Z"
    assert max_updated_at(rows, "2027-01-01T00:00:00Z") == "2027-01-01T00:00:00Z"
    assert max_updated_at([]) is None
