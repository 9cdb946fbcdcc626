"""The filters beside the search box, Qt-free: their tests, applied in the row index."""

from __future__ import annotations

from datetime import datetime

from makini_desktop.api import resources as res
from makini_desktop.table import filters
from makini_desktop.table.lookups import Lookups
from makini_desktop.table.rowindex import RowIndex
from tests.unit.table.support import space

FLOORS = [
    {"key": "F1", "name": "Level 1", "type": "floor", "level": 1, "siteKey": "S1"},
    {"key": "F2", "name": "Level 2", "type": "floor", "level": 2, "siteKey": "S1"},
    {"key": "G1", "name": "Level 1", "type": "floor", "level": 1, "siteKey": "S2"},
]
SPACES = [
    space("A", "1.001 Workstation", type="workstation", occupied=False, occupantName=None),
    space("B", "1.002 Workstation", type="workstation", occupied=True, occupantName="Zoë Ng"),
    space("C", "Restroom", type="restroom", occupied=False),
    space("D", "2.001 Office", type="office", parentKey="F2", occupied=False),
    space("E", "Hot Desk 1.01", type="hoteling_desk", siteKey="S2", parentKey="G1"),
]


def keys(index: RowIndex) -> list[str]:
    return [str(index.rows[i]["key"]) for i in index.visible]  # type: ignore[index]


def places() -> Lookups:
    lookups = Lookups()
    lookups.set_rows("sites", [{"key": "S1", "name": "Mill"}, {"key": "S2", "name": "Annex"}])
    lookups.set_rows("locations", FLOORS + SPACES)
    return lookups


def test_vacant_means_a_seat_without_an_occupant() -> None:
    """A restroom is never vacant; an occupied workstation is occupied."""
    lookups = places()
    index = RowIndex(res.SPACES_VIEW, lookups)
    index.replace(SPACES)
    index.set_row_filter(filters.row_filter(res.SPACES_VIEW, {"vacancy": "vacant"}, lookups))
    assert keys(index) == ["A", "D", "E"]
    index.set_row_filter(filters.row_filter(res.SPACES_VIEW, {"vacancy": "occupied"}, lookups))
    assert keys(index) == ["B"]


def test_filters_combine_with_the_building_and_the_search() -> None:
    """Floor, vacancy, building and a search all narrow the same rows."""
    lookups = places()
    index = RowIndex(res.SPACES_VIEW, lookups)
    index.replace(SPACES)
    index.set_building("S1")
    index.search("workstation")
    index.set_row_filter(filters.row_filter(
        res.SPACES_VIEW, {"floor": "F1", "vacancy": "vacant"}, lookups))
    assert keys(index) == ["A"]
    index.search("")
    assert keys(index) == ["A"]
    index.set_building(None)
    index.set_row_filter(filters.row_filter(res.SPACES_VIEW, {"vacancy": "vacant"}, lookups))
    assert keys(index) == ["A", "D", "E"]


def test_a_filter_in_slices_equals_one_in_one_go_even_when_rows_arrive() -> None:
    """row_filter_steps yields between slices and its result counts rows that arrived."""
    lookups = places()
    rows = [space(str(n), f"Desk {n}", type="workstation" if n % 2 else "storage")
            for n in range(40)]
    index = RowIndex(res.SPACES_VIEW, lookups)
    index.replace(rows)
    steps = index.row_filter_steps(
        filters.row_filter(res.SPACES_VIEW, {"type": "storage"}, lookups), slice_rows=7)
    next(steps)
    next(steps)
    assert len(index.visible) == 40  # nothing changes before the last slice
    index.add([space("new", "Cupboard", type="storage")])
    try:
        while True:
            next(steps)
    except StopIteration:
        pass
    assert sorted(keys(index)) == sorted([str(n) for n in range(0, 40, 2)] + ["new"])


def test_an_asset_is_on_the_floor_of_its_space_and_follows_it() -> None:
    """The asset floor filter reads the space's floor; when the space moves, so does it."""
    lookups = places()
    index = RowIndex(res.ASSETS_VIEW, lookups)
    index.replace([{"key": "X", "name": "Monitor", "locationKey": "A", "siteKey": "S1",
                    "categoryName": "Monitor"},
                   {"key": "Y", "name": "Chair", "locationKey": "D", "siteKey": "S1",
                    "categoryName": "Chair"},
                   {"key": "Z", "name": "Lamp", "locationKey": "F2", "siteKey": "S1"}])
    index.set_row_filter(filters.row_filter(res.ASSETS_VIEW, {"floor": "F2"}, lookups))
    assert keys(index) == ["Y", "Z"]  # in a space of F2, or on F2 itself
    lookups.update_rows("locations", [dict(SPACES[0], parentKey="F2")])
    index.lookups_changed("locations")
    assert keys(index) == ["X", "Y", "Z"]
    index.set_row_filter(filters.row_filter(
        res.ASSETS_VIEW, {"floor": "F2", "category": "Monitor"}, lookups))
    assert keys(index) == ["X"]


def test_choices_list_floors_by_level_and_name_their_building_when_all_are_shown() -> None:
    """The floor list is the building's floors by level; across buildings each says whose."""
    lookups = places()
    view = res.SPACES_VIEW
    assert [(c.value, c.label) for c in filters.choices(view, "floor", lookups, building="S1")] \
        == [("F1", "Level 1"), ("F2", "Level 2")]
    assert [c.label for c in filters.choices(view, "floor", lookups)] == [
        "Level 1 — Annex", "Level 1 — Mill", "Level 2 — Mill"]
    assert filters.choices(view, "type", lookups)[0] == filters.Choice("office", "Office")
    assets = [{"categoryName": "monitor"}, {"categoryName": "Chair"}, {"categoryName": None}]
    assert [c.value for c in filters.choices(res.ASSETS_VIEW, "category", lookups,
                                             rows=assets)] == ["Chair", "monitor"]


def test_dates_are_days_of_local_time() -> None:
    """Today is local midnight to midnight; this week starts on Monday; unknown is None."""
    now = datetime(2026, 12, 2, 15, 30).astimezone()  # a Wednesday
    start, end = filters.date_bounds("today", now)  # type: ignore[misc]
    assert datetime.fromtimestamp(start) == datetime(2026, 12, 2)
    assert datetime.fromtimestamp(end) == datetime(2026, 12, 3)
    start, end = filters.date_bounds("this_week", now)  # type: ignore[misc]
    assert datetime.fromtimestamp(start) == datetime(2026, 11, 30)
    assert datetime.fromtimestamp(end) == datetime(2026, 12, 7)
    assert filters.date_bounds("someday", now) is None
    visits = [{"key": "V1", "expectedAt": "2026-12-02T12:00:00Z"}, {"key": "V2"},
              {"key": "V3", "expectedAt": "not a time"}]
    test = filters.row_filter(res.VISITORS_VIEW, {"date": "past_7_days"},
                              Lookups(), now=datetime(2026, 12, 3, 12, 0).astimezone())
    assert test is not None
    assert [v["key"] for v in visits if test(v)] == ["V1"]


def test_an_empty_or_foreign_state_filters_nothing() -> None:
    """All (empty), ids the view has no filter for and unknown choices give no filter."""
    lookups = Lookups()
    assert filters.row_filter(res.SPACES_VIEW, {}, lookups) is None
    assert filters.row_filter(res.SPACES_VIEW, {"floor": ""}, lookups) is None
    assert filters.row_filter(res.SPACES_VIEW, {"status": "pending"}, lookups) is None
    assert filters.row_filter(res.SPACES_VIEW, {"vacancy": "maybe"}, lookups) is None
    assert filters.row_filter(res.BUILDINGS_VIEW, {"floor": "F1"}, lookups) is None


def test_a_filter_tests_many_rows_as_it_tests_one() -> None:
    """RowFilter.select lets through exactly the rows the filter lets through one by one,
    odd values included (a key sent as a number, a field missing, None)."""
    lookups = places()
    lookups.update_rows("locations", [{"key": "7", "name": "Room 7", "type": "office",
                                       "parentKey": "F2", "siteKey": "S1"}])
    assets = [
        {"key": "X", "locationKey": "A", "categoryName": "Monitor"},
        {"key": "Y", "locationKey": "D", "categoryName": 7},
        {"key": "Z", "locationKey": "F2"},
        {"key": "N", "locationKey": 7, "categoryName": None},
        {"key": "M", "locationKey": None, "categoryName": "None"},
        {"key": "Q"},
    ]
    spaces = [*SPACES, space("P", "Pod", parentKey=None), space("R", "Room", type=None),
              {"key": "S", "name": "Odd", "parentKey": 2, "type": "office"}]
    states = [
        (res.ASSETS_VIEW, assets, {"floor": "F2"}),
        (res.ASSETS_VIEW, assets, {"floor": "F1", "category": "Monitor"}),
        (res.ASSETS_VIEW, assets, {"category": "7"}),
        (res.ASSETS_VIEW, assets, {"category": "None"}),
        (res.SPACES_VIEW, spaces, {"floor": "F1"}),
        (res.SPACES_VIEW, spaces, {"floor": "2"}),
        (res.SPACES_VIEW, spaces, {"type": "office", "vacancy": "vacant"}),
        (res.SPACES_VIEW, spaces, {"vacancy": "occupied"}),
    ]
    for view, rows, state in states:
        row_filter = filters.row_filter(view, state, lookups)
        assert row_filter is not None
        ids = list(range(len(rows)))
        one_by_one = [i for i in ids if row_filter(rows[i])]
        assert row_filter.select(ids, rows) == one_by_one, state
        assert one_by_one, state  # each state lets some rows through
