"""The offline cache keeps records whose text has no UTF-8 form, and deeply nested records."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from makini_desktop import jsontext
from makini_desktop.store.cache import Cache

T0 = datetime(2026, 3, 14, 9, 30, tzinfo=UTC)

# What json.loads makes of the legal JSON text "\ud800" and "\udfff": lone surrogates.
LONE = json.loads('"a\\ud800b\\udfffc"')


def rec(key: str, **extra: Any) -> dict[str, Any]:
    row: dict[str, Any] = {"key": key, "name": f"Asset {key}",
                           "updatedAt": "2026-03-01T00:00:00Z", "deletedAt": None}
    row.update(extra)
    return row


def _nested(depth: int) -> Any:
    value: Any = "bottom"
    for level in range(depth):
        value = {"level": level, "inner": [value]} if level % 2 else [value]
    return value


@pytest.fixture
def cache(tmp_path: Path) -> Iterator[Cache]:
    c = Cache.open(tmp_path / "conn.sqlite3")
    yield c
    c.close()


def _snapshot(c: Cache, rows: list[dict[str, Any]]) -> int:
    w = c.begin_snapshot("assets")
    w.add(rows)
    return w.commit(server_total=len(rows), watermark=None, synced_at=T0)


def test_lone_surrogates_are_kept_exactly_through_a_snapshot(cache: Cache) -> None:
    """A record with lone surrogates in a value, a field name and its key is saved and comes
    back exactly as received, beside ordinary records."""
    rows = [rec("1"), rec("2", description=LONE, **{LONE: "odd field"}), rec("3" + LONE),
            rec("4", name="Büro Zürich")]
    assert _snapshot(cache, rows) == 4
    assert cache.load("assets").rows == rows
    assert [r for chunk in cache.iter_load("assets", 2) for r in chunk] == rows


def test_lone_surrogates_are_kept_through_incremental_changes(cache: Cache) -> None:
    """Changes carrying lone surrogates are applied, and a tombstone for such a key deletes
    that record only."""
    _snapshot(cache, [rec("1"), rec("2")])
    count = cache.apply_changes(
        "assets", [rec("2", notes=LONE), rec("k" + LONE), rec("k\udfff")],
        watermark=None, synced_at=T0, server_total=None,
    )
    assert count == 4
    gone = rec("k" + LONE, deletedAt="2026-03-02T00:00:00Z")
    assert cache.apply_changes("assets", [gone], watermark=None, synced_at=T0,
                               server_total=None) == 3
    assert cache.load("assets").rows == [rec("1"), rec("2", notes=LONE), rec("k\udfff")]


def test_a_record_nested_a_thousand_deep_is_kept(cache: Cache) -> None:
    """A record nested 1,000 deep is saved and read back whole, without a RecursionError."""
    deep = rec("deep", layout=_nested(1000))
    rows = [rec("1"), deep]
    assert _snapshot(cache, rows) == 2
    back = cache.load("assets").rows
    # == on 1,000 levels would itself recurse too deep: compare the JSON texts.
    assert [jsontext.dumps(r) for r in back] == [jsontext.dumps(r) for r in rows]
    assert cache.apply_changes("assets", [rec("d2", layout=_nested(1200))], watermark=None,
                               synced_at=T0, server_total=None) == 3
