"""ResourceTableModel and Lookups, tested without any widget."""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt

from makini_desktop.api import resources as res
from makini_desktop.ui.table_model import (
    BULK_CHANGE_ROWS,
    KeyRole,
    Lookups,
    ResourceTableModel,
    RowRole,
    SortRole,
    count_label,
)

# The C++ model tester reports problems as Qt warnings: fail on any.

DISPLAY = Qt.ItemDataRole.DisplayRole
ASC = Qt.SortOrder.AscendingOrder
DESC = Qt.SortOrder.DescendingOrder


def col(view: res.View, column_id: str) -> int:
    return [c.id for c in view.columns].index(column_id)


def cell(model: ResourceTableModel, row: int, column_id: str, role: int = DISPLAY) -> Any:
    return model.data(model.index(row, col(model.view, column_id)), role)


def column_texts(model: ResourceTableModel, column_id: str) -> list[str]:
    return [cell(model, r, column_id) for r in range(model.rowCount())]


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


@pytest.fixture
def spaces(qtmodeltester, lookups: Lookups) -> ResourceTableModel:
    model = ResourceTableModel(res.SPACES_VIEW, lookups)
    qtmodeltester.check(model)
    model.set_rows([
        space("K1", "Board room", capacity=12, area=40.5, type="meeting_room"),
        space("K2", "Desk 7", capacity=1, area=6, type="workstation", parentKey="F2"),
        space("K3", "Atrium", capacity=100, area=300, siteKey="S2"),
        space("K4", "Phone booth", capacity=None, area=2),
    ])
    return model


def test_empty_model_passes_the_model_tester(qtmodeltester):
    """An empty model shows no rows and every view column as a header."""
    model = ResourceTableModel(res.ASSETS_VIEW)
    qtmodeltester.check(model)
    assert model.rowCount() == 0
    assert model.columnCount() == len(res.ASSETS_VIEW.columns)
    headers = [model.headerData(i, Qt.Orientation.Horizontal) for i in range(model.columnCount())]
    assert headers == [c.header for c in res.ASSETS_VIEW.columns]


def test_filled_model_shows_human_text(spaces):
    """Enum codes, numbers and references are shown as a person reads them."""
    assert spaces.rowCount() == 4
    row = spaces.row_of_key("K1")
    assert cell(spaces, row, "type") == "Meeting room"
    assert cell(spaces, row, "area") == "40.5"
    assert cell(spaces, row, "floor") == "Level 1"
    assert cell(spaces, row, "building") == "Harbour House"
    assert cell(spaces, spaces.row_of_key("K3"), "building") == "Mill"


def test_areas_show_their_buildings_unit_and_sort_by_real_size(qtmodeltester, lookups):
    """"56 sq ft" and "4.7 m²" read right, and sort by true size across buildings."""
    model = ResourceTableModel(res.SPACES_VIEW, lookups)
    qtmodeltester.check(model)
    model.set_rows([
        space("A", "Desk US", area=56, siteKey="S1"),  # 5.2 m²
        space("B", "Desk EU", area=4.7, siteKey="S2"),
        space("C", "Room EU", area=20, siteKey="S2"),
    ])
    assert cell(model, model.row_of_key("A"), "area") == "56"  # unit not known yet
    lookups.set_rows("sites", [{"key": "S1", "name": "Harbour House", "areaUnit": "sqft"},
                               {"key": "S2", "name": "Mill", "areaUnit": "m2"}])
    assert cell(model, model.row_of_key("A"), "area") == "56 sq ft"
    assert cell(model, model.row_of_key("B"), "area") == "4.7 m²"
    model.sort(col(res.SPACES_VIEW, "area"), ASC)
    assert column_texts(model, "name") == ["Desk EU", "Desk US", "Room EU"]
    qtmodeltester.check(model)


def test_floors_are_not_spaces(lookups):
    """The Spaces view ignores floor rows of the locations dataset it is given."""
    model = ResourceTableModel(res.SPACES_VIEW, lookups)
    model.set_rows([space("K1", "Room"), {"key": "F1", "name": "Level 1", "type": "floor"}])
    model.append_rows([{"key": "F9", "name": "Level 9", "type": "floor"}])
    assert model.rowCount() == 1 and model.total == 1


def test_unresolved_reference_is_blank_never_a_raw_key():
    """A building key whose building is unknown shows blank, not the key."""
    model = ResourceTableModel(res.SPACES_VIEW)
    model.set_rows([space("K1", "Room", siteKey="09000510344864")])
    assert cell(model, 0, "building") == ""


def test_references_follow_lookup_changes(qtbot, spaces, lookups):
    """When a building is renamed, cells showing it repaint with the new name."""
    with qtbot.waitSignal(spaces.dataChanged):
        lookups.update_rows("sites", [{"key": "S1", "name": "Harbour Tower"}])
    assert cell(spaces, spaces.row_of_key("K1"), "building") == "Harbour Tower"


def test_numbers_sort_as_numbers(spaces):
    """Capacity 12 sorts after 1 and before 100, and empty cells go last."""
    spaces.sort(col(res.SPACES_VIEW, "capacity"), ASC)
    assert [spaces.key_at(r) for r in range(4)] == ["K2", "K1", "K3", "K4"]
    spaces.sort(col(res.SPACES_VIEW, "capacity"), DESC)
    assert [spaces.key_at(r) for r in range(4)] == ["K3", "K1", "K2", "K4"]


def test_dates_sort_by_time_not_text(qtmodeltester):
    """Timestamps sort chronologically, whatever their text."""
    model = ResourceTableModel(res.VISITORS_VIEW)
    qtmodeltester.check(model)
    model.set_rows([
        {"key": "V1", "visitorName": "A", "expectedAt": "2026-03-10T09:00:00Z"},
        {"key": "V2", "visitorName": "B", "expectedAt": "2026-03-09T23:00:00+00:00"},
        {"key": "V3", "visitorName": "C", "expectedAt": "2026-03-10T08:00:00-05:00"},
    ])
    model.sort(col(res.VISITORS_VIEW, "expected"), ASC)
    assert [model.key_at(r) for r in range(3)] == ["V2", "V1", "V3"]


def test_sort_role_gives_native_values(spaces):
    """SortRole is a comparable (rank, value) pair with numbers as numbers."""
    key = cell(spaces, spaces.row_of_key("K1"), "capacity", SortRole)
    assert key == (0, 12.0)


def test_row_and_key_roles(spaces):
    """RowRole gives the whole record and KeyRole its key."""
    row = spaces.row_of_key("K2")
    assert cell(spaces, row, "name", RowRole)["name"] == "Desk 7"
    assert cell(spaces, row, "name", KeyRole) == "K2"


def test_numbers_are_right_aligned(spaces):
    """Numeric columns align right, text left."""
    align = cell(spaces, 0, "capacity", Qt.ItemDataRole.TextAlignmentRole)
    assert align & Qt.AlignmentFlag.AlignRight
    align = cell(spaces, 0, "name", Qt.ItemDataRole.TextAlignmentRole)
    assert align & Qt.AlignmentFlag.AlignLeft


def test_long_text_has_a_tooltip(lookups):
    """A cell too long to read in its column has its full text as a tooltip."""
    model = ResourceTableModel(res.SPACES_VIEW, lookups)
    long_name = "A very long space name that will not fit any sensible column width"
    model.set_rows([space("K1", long_name), space("K2", "Short")])
    assert cell(model, model.row_of_key("K1"), "name", Qt.ItemDataRole.ToolTipRole) == long_name
    assert cell(model, model.row_of_key("K2"), "name", Qt.ItemDataRole.ToolTipRole) is None


def test_sort_by_reference_uses_names(spaces):
    """Sorting by Building orders by building name, not by key."""
    spaces.sort(col(res.SPACES_VIEW, "building"), DESC)
    assert spaces.key_at(0) == "K3"  # "Mill" after "Harbour House"


def test_search_filters_on_visible_columns(spaces):
    """A search matches text in any visible column, including resolved names."""
    spaces.set_search("meeting")
    assert [spaces.key_at(r) for r in range(spaces.rowCount())] == ["K1"]
    spaces.set_search("mezz")
    assert [spaces.key_at(r) for r in range(spaces.rowCount())] == ["K2"]
    spaces.set_search("MILL")
    assert [spaces.key_at(r) for r in range(spaces.rowCount())] == ["K3"]
    spaces.set_search("")
    assert spaces.rowCount() == 4


def test_search_ignores_hidden_columns(lookups):
    """Text only in a hidden column (the key) does not match."""
    model = ResourceTableModel(res.SPACES_VIEW, lookups)
    model.set_rows([space("ZZ-HIDDEN", "Room")])
    model.set_search("zz-hidden")
    assert model.rowCount() == 0
    model.set_searchable_columns(range(model.columnCount()))
    assert model.rowCount() == 1


def test_search_words_must_all_match(spaces):
    """Every word of the search must appear somewhere in the row."""
    spaces.set_search("board harbour")
    assert spaces.rowCount() == 1
    spaces.set_search("board mill")
    assert spaces.rowCount() == 0


def test_narrowing_search_matches_fresh_search(spaces):
    """Typing more letters gives the same result as typing the whole word at once."""
    spaces.set_search("b")
    spaces.set_search("bo")
    narrowed = [spaces.key_at(r) for r in range(spaces.rowCount())]
    spaces.set_search("")
    spaces.set_search("bo")
    assert narrowed == [spaces.key_at(r) for r in range(spaces.rowCount())]
    assert set(narrowed) == {"K1", "K4"}  # Board room, Phone booth


def test_filtered_and_sorted_model_passes_tester(qtmodeltester, spaces):
    """A model that is sorted and filtered stays consistent under the model tester."""
    spaces.sort(col(res.SPACES_VIEW, "name"), ASC)
    spaces.set_search("room")
    qtmodeltester.check(spaces)
    spaces.append_rows([
        space("K5", "Store room", type="lab"),
        space("K6", "Kitchen", type="lab"),
        space("K7", "Archive room", type="lab"),
    ])
    assert [spaces.key_at(r) for r in range(spaces.rowCount())] == ["K7", "K1", "K5"]
    assert spaces.total == 7


def test_building_filter(spaces):
    """The building filter shows only that building's rows, combined with search."""
    spaces.set_building_filter("S2")
    assert [spaces.key_at(r) for r in range(spaces.rowCount())] == ["K3"]
    spaces.set_search("desk")
    assert spaces.rowCount() == 0
    spaces.set_building_filter(None)
    assert spaces.rowCount() == 1


def test_counts_signal_and_label(qtbot, spaces):
    """The count label reads "1 of 4 spaces" while filtered and "4 spaces" otherwise."""
    with qtbot.waitSignal(spaces.sig_counts_changed) as blocker:
        spaces.set_search("atrium")
    assert blocker.args == [1, 4]
    assert count_label(res.SPACES_VIEW, 1, 4) == "1 of 4 spaces"
    assert count_label(res.SPACES_VIEW, 5530, 5530) == "5,530 spaces"
    assert count_label(res.SPACES_VIEW, 1204, 5530) == "1,204 of 5,530 spaces"
    assert count_label(res.ASSETS_VIEW, 1, 1) == "1 asset"


def test_append_rows_inserts_rows_as_pages_arrive(qtbot, qtmodeltester, lookups):
    """Each page adds rows with rowsInserted, and a repeated key updates in place."""
    model = ResourceTableModel(res.SPACES_VIEW, lookups)
    qtmodeltester.check(model)
    with qtbot.waitSignal(model.rowsInserted):
        model.append_rows([space("K1", "One"), space("K2", "Two")])
    model.append_rows([space("K3", "Three"), space("K1", "One again")])
    assert model.rowCount() == 3
    assert cell(model, model.row_of_key("K1"), "name") == "One again"


def test_append_rows_into_a_sorted_model_keeps_order(qtmodeltester, lookups):
    """Rows arriving while sorted descending land in their sorted place (rows that tie on
    capacity in reverse name order, as the whole list is reversed)."""
    model = ResourceTableModel(res.SPACES_VIEW, lookups)
    qtmodeltester.check(model)
    model.sort(col(res.SPACES_VIEW, "capacity"), DESC)
    model.append_rows([space("A", "a", capacity=5), space("B", "b", capacity=None)])
    model.append_rows([space("C", "c", capacity=50), space("D", "d", capacity=7)])
    model.append_rows([space("E", "e", capacity=5)])
    assert [model.key_at(r) for r in range(5)] == ["C", "D", "E", "A", "B"]


def test_apply_changes_updates_inserts_and_deletes(qtmodeltester, spaces):
    """An incremental change set changes, adds and removes exactly those rows."""
    spaces.sort(col(res.SPACES_VIEW, "name"), ASC)
    spaces.apply_changes(
        [space("K2", "Zen desk"), space("K9", "Bike store")],
        ["K3"],
    )
    assert [spaces.key_at(r) for r in range(spaces.rowCount())] == ["K9", "K1", "K4", "K2"]
    assert spaces.total == 4
    assert spaces.row_of_key("K3") == -1


def test_apply_changes_keeps_persistent_indexes(spaces):
    """A selected row stays selected (its persistent index follows it) across a change."""
    spaces.sort(col(res.SPACES_VIEW, "name"), ASC)
    pidx = QPersistentModelIndex(spaces.index(spaces.row_of_key("K4"), 0))
    spaces.apply_changes([space("K0", "Aardvark room")], ["K1"])
    assert pidx.isValid()
    assert spaces.data(QModelIndex(pidx), KeyRole) == "K4"
    spaces.sort(col(res.SPACES_VIEW, "name"), DESC)
    assert spaces.data(QModelIndex(pidx), KeyRole) == "K4"


def test_change_that_leaves_the_filter_hides_row(spaces):
    """A row edited so it no longer matches the search disappears from view."""
    spaces.set_search("booth")
    assert spaces.rowCount() == 1
    spaces.apply_changes([space("K4", "Quiet pod", updatedAt="2026-04-01T00:00:00Z")], [])
    assert spaces.rowCount() == 0
    spaces.apply_changes([space("K1", "Booth B", updatedAt="2026-04-01T00:00:00Z")], [])
    assert [spaces.key_at(r) for r in range(spaces.rowCount())] == ["K1"]


def test_large_change_set_resets(qtbot, qtmodeltester, lookups):
    """More than BULK_CHANGE_ROWS changes reset the model instead of row by row."""
    model = ResourceTableModel(res.SPACES_VIEW, lookups)
    qtmodeltester.check(model)
    model.set_rows([space(f"K{i}", f"Room {i}") for i in range(10)])
    with qtbot.waitSignal(model.modelReset):
        model.apply_changes([space(f"N{i}", f"New {i}") for i in range(BULK_CHANGE_ROWS + 1)], [])
    assert model.total == BULK_CHANGE_ROWS + 11


def test_replace_rows_touches_only_changed_rows(qtbot, spaces):
    """Replacing with a list where one row changed emits no reset."""
    rows = [dict(spaces.row_at(r)) for r in range(spaces.rowCount())]
    for row in rows:
        if row["key"] == "K2":
            row.update(name="Desk 8", updatedAt="2026-05-01T00:00:00Z")
    resets: list[bool] = []
    spaces.modelReset.connect(lambda: resets.append(True))
    with qtbot.waitSignal(spaces.dataChanged):
        spaces.replace_rows(rows)
    assert not resets
    assert cell(spaces, spaces.row_of_key("K2"), "name") == "Desk 8"


def test_replace_rows_drops_vanished_rows(spaces):
    """A row missing from the new list is removed."""
    rows = [dict(spaces.row_at(r)) for r in range(spaces.rowCount()) if spaces.key_at(r) != "K1"]
    spaces.replace_rows(rows)
    assert spaces.total == 3 and spaces.row_of_key("K1") == -1


def test_visible_rows_follow_display_order(spaces):
    """visible_rows() is what the table shows, in order (what an export writes)."""
    spaces.sort(col(res.SPACES_VIEW, "name"), DESC)
    spaces.set_search("o")
    assert [r["key"] for r in spaces.visible_rows()] == [
        spaces.key_at(r) for r in range(spaces.rowCount())]


def test_wrong_json_types_show_as_text(lookups):
    """A field with the wrong type is shown as text and sorts without error."""
    model = ResourceTableModel(res.SPACES_VIEW, lookups)
    model.set_rows([space("K1", "R", capacity="twelve", area={"v": 1}),
                    space("K2", "S", capacity=3)])
    model.sort(col(res.SPACES_VIEW, "capacity"), ASC)
    assert cell(model, 1, "capacity") == "twelve"


def test_lookups_match_names_case_insensitively(lookups):
    """matching_keys finds keys by a part of the name, ignoring case."""
    assert lookups.matching_keys("sites", "harb") == {"S1"}
    assert lookups.matching_keys("locations", "LEVEL") == {"F1"}
    assert lookups.matching_keys("sites", "nothing") == set()


def test_sorting_again_by_a_column_reuses_its_keys(spaces):
    """Switching back to an earlier sort column gives the same order as the first time."""
    spaces.sort(col(res.SPACES_VIEW, "capacity"), ASC)
    first = [spaces.key_at(r) for r in range(spaces.rowCount())]
    spaces.sort(col(res.SPACES_VIEW, "name"), ASC)
    spaces.append_rows([space("K8", "Huddle", capacity=4)])
    spaces.sort(col(res.SPACES_VIEW, "capacity"), ASC)
    again = [spaces.key_at(r) for r in range(spaces.rowCount())]
    assert again == ["K2", "K8", "K1", "K3", "K4"]
    assert [k for k in again if k != "K8"] == first


@pytest.mark.parametrize("order", [ASC, DESC])
def test_sort_in_steps_matches_sort_in_one_go(qtmodeltester, lookups, order):
    """Sorting a slice per step (keys, sorted runs, merge) gives exactly sort()'s order."""
    rows = [space(f"K{i:02}", f"Room {i % 7}", capacity=[3, None, 1, 3, 12][i % 5])
            for i in range(23)]
    stepped = ResourceTableModel(res.SPACES_VIEW, lookups)
    qtmodeltester.check(stepped)
    stepped.set_rows(rows)
    steps = list(stepped.search_steps("room", slice_rows=4))
    steps = list(stepped.sort_steps(col(res.SPACES_VIEW, "capacity"), order, slice_rows=2))
    assert len(steps) > 3  # it did yield between slices
    at_once = ResourceTableModel(res.SPACES_VIEW, lookups)
    at_once.set_rows(rows)
    at_once.set_search("room")
    at_once.sort(col(res.SPACES_VIEW, "capacity"), order)
    keys = [stepped.key_at(r) for r in range(stepped.rowCount())]
    assert keys == [at_once.key_at(r) for r in range(at_once.rowCount())]
    assert sorted(keys[-5:]) == ["K01", "K06", "K11", "K16", "K21"]  # empty capacity last
    # ... and among them by name (Room 0, 1, 2, 4, 6), reversed when descending
    by_name = ["K21", "K01", "K16", "K11", "K06"]
    assert keys[-5:] == (by_name if order == ASC else by_name[::-1])


def test_abandoned_sort_changes_nothing(lookups):
    """A sort dropped half-way (the user clicked another header) leaves the order alone."""
    model = ResourceTableModel(res.SPACES_VIEW, lookups)
    model.set_rows([space(f"K{i}", f"R{i}", capacity=30 - i) for i in range(30)])
    before = [model.key_at(r) for r in range(model.rowCount())]
    steps = model.sort_steps(col(res.SPACES_VIEW, "capacity"), ASC, slice_rows=5)
    next(steps)
    steps.close()
    assert [model.key_at(r) for r in range(model.rowCount())] == before
    assert model.sort_column == -1


def test_a_big_page_into_a_sorted_table_lands_in_order_and_keeps_the_selection(
    qtmodeltester, lookups
):
    """Thousands of rows arriving into a sorted table are merged in place; a selected
    row stays selected."""
    from PySide6.QtCore import QPersistentModelIndex

    model = ResourceTableModel(res.SPACES_VIEW, lookups)
    qtmodeltester.check(model)
    model.set_rows([space(f"A{i}", f"Room {i:04d}") for i in range(0, 3000, 2)])
    model.sort(col(res.SPACES_VIEW, "name"), DESC)
    selected = QPersistentModelIndex(model.index(model.row_of_key("A1000"), 0))
    model.append_rows([space(f"A{i}", f"Room {i:04d}") for i in range(1, 3000, 2)])
    names = column_texts(model, "name")
    assert names == sorted(names, reverse=True) and len(names) == 3000
    assert selected.isValid() and cell(model, selected.row(), "name") == "Room 1000"
    qtmodeltester.check(model)


def test_a_building_column_fits_the_longest_building_name(qtbot, lookups: Lookups) -> None:
    """Column widths are measured on the first rows; a column naming a building also fits
    the longest building name known, so a building first seen further down the list is
    not cut short beside empty room."""
    from makini_desktop.ui.table_view import WIDTH_SAMPLE_ROWS, ResourceTableView

    long_name = "Two Highgate Centre, North Wing Annexe"
    lookups.set_rows("sites", [{"key": "S1", "name": "Mill"}, {"key": "S2", "name": long_name}])
    model = ResourceTableModel(res.SPACES_VIEW, lookups)
    rows = [space(f"K{i}", f"Desk {i}", siteKey="S1") for i in range(WIDTH_SAMPLE_ROWS)]
    model.set_rows([*rows, space("K-last", "Desk last", siteKey="S2")])
    view = ResourceTableView(model)
    qtbot.addWidget(view)
    view.resize(1400, 600)
    view.choose_widths()
    building = col(res.SPACES_VIEW, "building")
    assert model.display_text(model.row_of_key("K-last"), building) == long_name
    assert view.columnWidth(building) > view.fontMetrics().horizontalAdvance(long_name)
