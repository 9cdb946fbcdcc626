"""Cells: what a cell shows and how it sorts, without Qt."""

from __future__ import annotations

from makini_desktop.api import resources as res
from makini_desktop.table.cells import Cells, count_label
from tests.unit.table.support import space


def test_fast_sort_keys_equal_values_sort_key(lookups):
    """The fast sort keys are exactly values.sort_key of what each cell holds."""
    cells = Cells(res.ASSETS_VIEW.columns, lookups)
    odd = [None, "", "x", "Ünïcode", 3, 2.5, True, float("nan"), [1], {"a": 1},
           "2026-03-14T09:30:00Z", "not a date", "in_progress"]
    rows = [{"key": f"K{i}", "siteKey": "S1" if i % 2 else "S9", "locationKey": "F1",
             **{name: value for c in res.ASSETS_VIEW.columns for name in c.fields}}
            for i, value in enumerate(odd)]
    for column in range(len(cells.columns)):
        keyer = cells.keyer(column)
        for row in rows:
            assert keyer(row) == cells.sort_key(row, column), (column, row)


def test_references_show_names_and_unknown_keys_blank(lookups):
    """A reference shows its record's name; an unknown key shows blank, with a tooltip."""
    cells = Cells(res.SPACES_VIEW.columns, lookups)
    building = [c.id for c in cells.columns].index("building")
    assert cells.text(space("K1", "Room"), building) == "Harbour House"
    unknown = space("K2", "Room", siteKey="S404")
    assert cells.text(unknown, building) == ""
    assert cells.tooltip(unknown, building) == "Unknown building (key S404)"


def test_numeric_columns_are_marked_for_right_alignment(lookups):
    """Capacity and area are numeric; the name is not."""
    cells = Cells(res.SPACES_VIEW.columns, lookups)
    ids = [c.id for c in cells.columns]
    assert cells.is_numeric(ids.index("capacity")) and cells.is_numeric(ids.index("area"))
    assert not cells.is_numeric(ids.index("name"))


def test_count_label_reads_shown_of_total():
    """"1 of 4 spaces" while filtered, "4 spaces" otherwise."""
    assert count_label(res.SPACES_VIEW, 1, 4) == "1 of 4 spaces"
    assert count_label(res.ASSETS_VIEW, 1, 1) == "1 asset"


def test_tied_keys_of_a_text_column_are_the_layered_ones() -> None:
    """A plain text column's one-function keys equal tiebroken(keyer) for every kind of
    cell (text, empty, None, a number, a missing field), with and without a name tie."""
    from makini_desktop.table.collate import tiebroken
    from makini_desktop.table.lookups import Lookups

    cells = Cells(res.ASSETS_VIEW.columns, Lookups())
    rows = [{"key": "k1", "tag": "AST-007", "name": "Chair 2"},
            {"key": 5, "tag": "", "name": None},
            {"key": "k3", "tag": None, "name": "É"},
            {"key": "k4", "tag": 42, "name": 7},
            {"key": "k5", "name": "Desk"},
            {"key": "k6", "tag": "Zoë 10", "name": "zoë"}]
    for column, tie in ((0, None), (1, "tag"), (4, "name")):
        layered = tiebroken(cells.keyer(column), tie)
        fast = cells.tied_keyer(column, tie)
        assert [fast(r) for r in rows] == [layered(r) for r in rows], column
