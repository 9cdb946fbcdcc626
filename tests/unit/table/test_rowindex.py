"""RowIndex: sorting, searching, filtering and merging rows into plans, without Qt."""

from __future__ import annotations

import random
import subprocess
import sys
from typing import Any

import pytest

from makini_desktop.api import resources as res
from makini_desktop.table.lookups import Lookups
from makini_desktop.table.plan import Changed, Inserted, Layout, Plan, Removed, Reset, apply_plan
from makini_desktop.table.rowindex import BULK_CHANGE_ROWS, BULK_INSERT_ROWS, RowIndex
from tests.unit.table.support import space

CAPACITY = [c.id for c in res.SPACES_VIEW.columns].index("capacity")
NAME = [c.id for c in res.SPACES_VIEW.columns].index("name")
BUILDING = [c.id for c in res.SPACES_VIEW.columns].index("building")


def keys(index: RowIndex) -> list[str]:
    rows = index.rows
    return [str(rows[i]["key"]) for i in index.visible]  # type: ignore[index]


def random_space(rng: random.Random, key: str) -> dict[str, Any]:
    return space(key, rng.choice(["Room", "Desk", "Booth", "Store room", "Lab"]) + f" {key}",
                 capacity=rng.choice([None, 1, 2, 4, 4, 8, 12]),
                 siteKey=rng.choice(["S1", "S2"]), parentKey=rng.choice(["F1", "F2", None]),
                 updatedAt=f"2026-03-{rng.randint(1, 28):02}T10:00:00Z")


class Mirror:
    """An index and the display list a view keeps by applying each plan to it."""

    def __init__(self, index: RowIndex) -> None:
        self.index = index
        self.shown: list[int] = list(index.visible)

    def apply(self, plan: Plan) -> None:
        for step in plan.steps:  # every step fits the list as the previous one left it
            n = len(self.shown)
            if isinstance(step, Removed):
                assert 0 <= step.first <= step.last < n
            elif isinstance(step, Inserted):
                assert 0 <= step.first <= n and step.ids
            elif isinstance(step, Changed):
                assert 0 <= step.first <= step.last < n
            else:
                assert isinstance(step, Layout | Reset)
            self.shown = apply_plan(self.shown, Plan([step]))
        assert self.shown == self.index.visible


def test_the_table_package_never_imports_qt():
    """Importing every module of makini_desktop.table loads no PySide6."""
    code = ("import sys, makini_desktop.table.rowindex, makini_desktop.table.cells, "
            "makini_desktop.table.lookups, makini_desktop.table.plan, "
            "makini_desktop.table.search, makini_desktop.table.ordering; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('PySide6', 'shiboken6')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize("descending", [False, True])
@pytest.mark.parametrize("page", [1, 7, BULK_INSERT_ROWS + 5])
def test_pages_merged_into_a_sorted_index_match_a_full_sort(lookups, descending, page):
    """Rows arriving page by page into a sorted index end in exactly a full sort's order."""
    rng = random.Random(page)
    rows = [random_space(rng, f"K{i:03}") for i in range(300)]
    merged = RowIndex(res.SPACES_VIEW, lookups)
    mirror = Mirror(merged)
    mirror.apply(merged.sort(CAPACITY, descending))
    for start in range(0, len(rows), page):
        mirror.apply(merged.add(rows[start:start + page]))
    full = RowIndex(res.SPACES_VIEW, lookups)
    full.replace(rows)
    full.sort(CAPACITY, descending)
    assert keys(merged) == keys(full)
    capacities = [merged.rows[i]["capacity"] for i in merged.visible]  # type: ignore[index]
    assert capacities[-capacities.count(None):] == [None] * capacities.count(None)


@pytest.mark.parametrize("descending", [False, True])
def test_changes_and_deletes_keep_the_sort(lookups, descending):
    """Upserts and deletes into a sorted, searched index give a full sort's result."""
    rng = random.Random(8)
    rows = {f"K{i:03}": random_space(rng, f"K{i:03}") for i in range(200)}
    index = RowIndex(res.SPACES_VIEW, lookups)
    index.replace(rows.values())
    index.sort(NAME, descending)  # names are unique: a full sort has one answer
    index.search("room")
    mirror = Mirror(index)
    for n in range(10):
        upserts = [random_space(rng, k) for k in rng.sample(sorted(rows), 12)]
        upserts += [random_space(rng, f"N{n}-{i}") for i in range(3)]
        deleted = rng.sample(sorted(rows), 5)
        rows.update({r["key"]: r for r in upserts})
        for key in deleted:
            del rows[key]
        mirror.apply(index.apply(upserts, deleted))
    full = RowIndex(res.SPACES_VIEW, lookups)
    full.replace(rows.values())
    full.sort(NAME, descending)
    full.search("room")
    assert keys(index) == keys(full)
    assert index.total == len(rows)


def test_deleted_rows_leave_and_the_rest_keep_their_order(lookups):
    """Deleting keys removes exactly those rows, one Removed step each, bottom up."""
    index = RowIndex(res.SPACES_VIEW, lookups)
    index.replace([space(f"K{i}", f"Room {i}") for i in range(6)])
    plan = index.apply([], ["K1", "K4", "missing"])
    assert plan.steps == [Removed(4, 4), Removed(1, 1)]
    assert keys(index) == ["K0", "K2", "K3", "K5"] and index.total == 4


def test_an_edit_in_place_is_a_changed_range(lookups):
    """An edited row that keeps its place and filter is one Changed step, nothing moves."""
    index = RowIndex(res.SPACES_VIEW, lookups)
    index.replace([space("K1", "A"), space("K2", "B")])
    index.sort(NAME)
    plan = index.apply([space("K2", "B", capacity=9, updatedAt="2026-04-01T00:00:00Z")], [])
    assert plan.steps == [Changed(1, 1)] and plan.counts_changed


def test_a_large_change_set_is_a_reset(lookups):
    """More than BULK_CHANGE_ROWS changes come back as one Reset."""
    index = RowIndex(res.SPACES_VIEW, lookups)
    plan = index.apply([space(f"K{i}", "R") for i in range(BULK_CHANGE_ROWS + 1)], [])
    assert [type(s) for s in plan.steps] == [Reset] and index.total == BULK_CHANGE_ROWS + 1


def test_narrowing_search_matches_a_fresh_search(lookups):
    """Typing more letters narrows to exactly what the whole word finds at once."""
    rng = random.Random(3)
    index = RowIndex(res.SPACES_VIEW, lookups)
    index.replace(random_space(rng, f"K{i}") for i in range(100))
    index.search("s")
    index.search("st")
    index.search("sto")
    narrowed = keys(index)
    index.search("")
    assert len(index.visible) == 100
    index.search("sto")
    assert keys(index) == narrowed and narrowed


def test_search_matches_referenced_names_and_follows_renames(lookups):
    """A search finds rows by their building's name, and again after a rename."""
    index = RowIndex(res.SPACES_VIEW, lookups)
    index.replace([space("K1", "Room", siteKey="S1"), space("K2", "Room", siteKey="S2")])
    index.search("mill")
    assert keys(index) == ["K2"]
    lookups.update_rows("sites", [{"key": "S1", "name": "Old Mill Yard"}])
    mirror = Mirror(index)
    mirror.apply(index.lookups_changed("sites"))
    assert keys(index) == ["K1", "K2"]


def test_a_rename_resorts_by_the_new_name(lookups):
    """Sorted by building, a building's rename gives a layout in the new order."""
    index = RowIndex(res.SPACES_VIEW, lookups)
    index.replace([space("K1", "A", siteKey="S1"), space("K2", "B", siteKey="S2")])
    index.sort(BUILDING)
    assert keys(index) == ["K1", "K2"]  # Harbour House, Mill
    lookups.update_rows("sites", [{"key": "S1", "name": "Zeal"}])
    plan = index.lookups_changed("sites")
    assert isinstance(plan.steps[0], Layout) and keys(index) == ["K2", "K1"]


def test_building_filter_combines_with_search(lookups):
    """The building filter and the search both narrow the rows shown."""
    index = RowIndex(res.SPACES_VIEW, lookups)
    index.replace([space("K1", "Desk", siteKey="S1"), space("K2", "Desk", siteKey="S2"),
                   space("K3", "Lab", siteKey="S2")])
    index.set_building("S2")
    index.search("desk")
    assert keys(index) == ["K2"]
    index.set_building(None)
    assert keys(index) == ["K1", "K2"]


@pytest.mark.parametrize("descending", [False, True])
def test_sort_in_steps_matches_sort_in_one_go(lookups, descending):
    """Sorting a slice per step gives exactly sort()'s order; dropped early, nothing."""
    rng = random.Random(5)
    rows = [random_space(rng, f"K{i:03}") for i in range(120)]
    stepped, at_once = RowIndex(res.SPACES_VIEW, lookups), RowIndex(res.SPACES_VIEW, lookups)
    stepped.replace(rows)
    at_once.replace(rows)
    abandoned = stepped.sort_steps(CAPACITY, descending, slice_rows=10)
    next(abandoned)
    abandoned.close()
    assert stepped.sort_column == -1 and keys(stepped) == keys(at_once)
    steps = stepped.sort_steps(CAPACITY, descending, slice_rows=10)
    count = 0
    while True:
        try:
            next(steps)
            count += 1
        except StopIteration as done:
            plan = done.value
            break
    assert count > 3 and isinstance(plan.steps[0], Layout)
    at_once.sort(CAPACITY, descending)
    assert keys(stepped) == keys(at_once)


def test_rows_arriving_during_a_sliced_search_are_filtered_too(lookups):
    """A search whose slices straddle a page's arrival ends with that page filtered."""
    index = RowIndex(res.SPACES_VIEW, lookups)
    index.replace([space(f"K{i}", "Room" if i % 2 else "Desk") for i in range(50)])
    mirror = Mirror(index)
    steps = index.search_steps("room", slice_rows=10)
    next(steps)
    mirror.apply(index.add([space("N1", "Store room"), space("N2", "Desk")]))
    with pytest.raises(StopIteration) as done:
        while True:
            next(steps)
    mirror.apply(done.value.value)
    assert "N1" in keys(index) and "N2" not in keys(index) and len(index.visible) == 26


@pytest.mark.parametrize("seed", range(6))
def test_every_plan_takes_the_view_to_the_index_rows(lookups, seed):
    """Applied step by step to a plain list, each plan gives exactly the rows shown."""
    rng = random.Random(seed)
    index = RowIndex(res.SPACES_VIEW, lookups)
    mirror = Mirror(index)
    held: list[str] = []
    query, building = "", None
    for n in range(60):
        op = rng.randrange(8)
        if op == 0:
            mirror.apply(index.sort(rng.choice([-1, NAME, CAPACITY, BUILDING]), rng.random() < .5))
        elif op == 1:
            query = rng.choice(["", "room", "r", "ro", "mill", "desk 1"])
            mirror.apply(index.search(query))
        elif op == 2:
            building = rng.choice([None, "S1", "S2"])
            mirror.apply(index.set_building(building))
        elif op == 3 and held:
            gone = rng.sample(held, min(len(held), rng.randint(1, 4)))
            held = [k for k in held if k not in gone]
            mirror.apply(index.apply([], gone))
        elif op == 4:
            lookups.update_rows("sites", [{"key": "S1", "name": rng.choice(["Mill", "Harbour"])}])
            mirror.apply(index.lookups_changed("sites"))
        else:
            size = rng.choice([1, 3, 20, BULK_INSERT_ROWS + 10])
            page = [random_space(rng, rng.choice(held) if held and rng.random() < .3
                                 else f"K{n}-{i}") for i in range(size)]
            held += [r["key"] for r in page if r["key"] not in held]
            mirror.apply(index.add(page))
        assert index.total == len(held)
        fresh = RowIndex(res.SPACES_VIEW, lookups)  # the same rows, searched and filtered
        fresh.replace(index.all_rows())
        fresh.set_building(building)
        fresh.search(query)
        assert sorted(keys(index)) == sorted(keys(fresh))


def test_a_key_twice_in_one_change_set_is_one_row(lookups):
    """Two versions of a row in one change set: the last one is held, shown once."""
    index = RowIndex(res.SPACES_VIEW, lookups)
    index.replace([space("K1", "A"), space("K2", "B")])
    index.sort(NAME)
    index.apply([space("K1", "Y", updatedAt="2026-04-01T00:00:00Z"),
                 space("K1", "Z", updatedAt="2026-04-02T00:00:00Z"),
                 space("K9", "C"), space("K9", "D")], [])
    assert keys(index) == ["K2", "K9", "K1"] and index.total == 3
    assert index.rows[index.visible[2]]["name"] == "Z"  # type: ignore[index]


def test_floors_are_not_spaces(lookups):
    """The Spaces index ignores floors, and a space that turns into a floor leaves."""
    index = RowIndex(res.SPACES_VIEW, lookups)
    index.replace([space("K1", "Room"), {"key": "F1", "name": "Level 1", "type": "floor"}])
    assert keys(index) == ["K1"]
    index.add([{"key": "K1", "name": "Level 1", "type": "floor"}])
    assert keys(index) == [] and index.total == 0


def test_changed_rows_finds_new_and_changed_by_updated_at():
    """changed_rows returns new rows and rows with another updatedAt; keys_not_in the rest."""
    index = RowIndex(res.SPACES_VIEW, Lookups())
    index.replace([space("K1", "A"), space("K2", "B"), space("K3", "C")])
    seen: set[str] = set()
    new = [space("K1", "A"), space("K2", "B2", updatedAt="2026-04-01T00:00:00Z"), space("K4", "D")]
    assert [r["key"] for r in index.changed_rows(new, seen)] == ["K2", "K4"]
    assert index.keys_not_in(seen) == ["K3"]
