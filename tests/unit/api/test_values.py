"""Entity parsing and cell values: wrong types are shown as text, never a crash."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from makini_desktop.api.pagination import parse_rows
from makini_desktop.api.resources import ASSETS_VIEW, VIEWS, Kind
from makini_desktop.api.values import display, sort_key


def test_wrong_types_are_shown_as_text_and_sort_without_error():
    """A capacity of "12 seats" shows as text and sorts after real numbers."""
    assert display(Kind.INT, "12 seats") == "12 seats"
    assert display(Kind.INT, 1204) == "1,204"
    assert display(Kind.DATETIME, 17) == "17"
    values = [5, "12 seats", None, 3.5, True, {"a": 1}]
    ordered = sorted(values, key=lambda v: sort_key(Kind.INT, v))
    assert ordered[:2] == [3.5, 5] and ordered[-1] is None


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                max_size=4),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(st.one_of(json_values, st.lists(st.dictionaries(
    st.sampled_from(["key", "name", "capacity", "siteKey", "updatedAt", "items", "address"]),
    json_values, max_size=7), max_size=5)))
def test_entity_parser_and_cell_formatting_never_raise_on_arbitrary_json(payload):
    """Any JSON payload parses to rows, and every cell of every view formats and sorts."""
    rows, skipped = parse_rows(json.loads(json.dumps(payload, allow_nan=True)))
    assert all(isinstance(r["key"], str) for r in rows)
    for view in VIEWS.values():
        for row in rows:
            for col in view.columns:
                value = col.raw(row)
                assert isinstance(display(col.kind, value), str)
                sort_key(col.kind, value)


def test_asset_make_reads_the_older_manufacturer_name():
    """Older payloads' manufacturerName fills the Make column."""
    make = ASSETS_VIEW.column("make")
    assert make.raw({"manufacturerName": "Dell"}) == "Dell"
    assert make.raw({"makeName": "HP", "manufacturerName": "Dell"}) == "HP"


@pytest.mark.parametrize("tz", ["America/Chicago", "Asia/Tokyo", "UTC"])
@pytest.mark.parametrize("value", ["0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z",
                                   "0001-01-01T00:00:00+01:00"])
def test_extreme_dates_are_shown_not_crashed_on_in_any_time_zone(monkeypatch, tz, value):
    """"No date" placeholders such as year 1 or 9999 display and sort in every time zone."""
    import time

    monkeypatch.setenv("TZ", tz)
    time.tzset()
    try:
        assert display(Kind.DATETIME, value)
        sort_key(Kind.DATETIME, value)
    finally:
        monkeypatch.undo()
        time.tzset()
