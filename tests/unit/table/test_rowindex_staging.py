"""RowIndex.stage / place_staged_steps: a long list held unplaced, then placed with one sort."""

from __future__ import annotations

import random

import pytest

from makini_desktop.api import resources as res
from makini_desktop.table.rowindex import RowIndex
from tests.unit.table.support import space
from tests.unit.table.test_rowindex import CAPACITY, NAME, Mirror, keys, random_space


def _run(steps):
    turns = 0
    while True:
        try:
            next(steps)
            turns += 1
        except StopIteration as done:
            return done.value, turns


@pytest.mark.parametrize("descending", [False, True])
@pytest.mark.parametrize("column", [CAPACITY, NAME, -1])
def test_staged_rows_end_in_a_full_sorts_order(lookups, column, descending):
    """A first screenful shown, the rest staged in chunks, then placed: exactly the order
    and rows of the whole list given at once; the view is told with one reset."""
    rng = random.Random(column)
    rows = [random_space(rng, f"K{i:04}") for i in range(2500)]
    staged = RowIndex(res.SPACES_VIEW, lookups)
    mirror = Mirror(staged)
    mirror.apply(staged.sort(column, descending))
    mirror.apply(staged.replace(rows[:100]))
    for start in range(100, len(rows), 700):
        plan = staged.stage(rows[start:start + 700])
        mirror.apply(plan)
        assert plan.counts_changed
    assert staged.total == 2500
    assert len(staged.visible) == 100  # staged rows are not shown yet
    plan, turns = _run(staged.place_staged_steps(slice_rows=300))
    mirror.apply(plan)
    full = RowIndex(res.SPACES_VIEW, lookups)
    full.sort(column, descending)
    full.replace(rows)
    assert keys(staged) == keys(full)
    assert len(keys(staged)) == 2500
    if column >= 0:
        assert turns > 1  # the sort ran in slices


def test_staging_a_known_key_updates_it_and_a_user_sort_meanwhile_is_kept(lookups):
    """A row staged again replaces the one held; a sort chosen while rows are staged is
    the order they are placed in, search included."""
    index = RowIndex(res.SPACES_VIEW, lookups)
    index.replace([space("A", "Zeta", capacity=1), space("B", "Alpha", capacity=2)])
    index.stage([space("C", "Mid", capacity=3), space("A", "Omega", capacity=9)])
    index.sort(CAPACITY, True)
    index.search("omega")  # the staged new name of A (words match at their start)
    plan, _ = _run(index.place_staged_steps())
    assert [step.__class__.__name__ for step in plan.steps] == ["Reset"]
    assert keys(index) == ["A"]
    assert index.total == 3
    index.search("")
    assert keys(index) == ["A", "C", "B"]


@pytest.mark.parametrize("descending", [False, True])
@pytest.mark.parametrize("step", [1, 3, 64, 1000])
def test_ordering_in_pieces_is_one_stable_sort(descending, step):
    """Keys with many ties and empty cells: the same order as Python's stable sort, with
    empty cells last in both directions; never more than ``step`` ids sorted per step."""
    from makini_desktop.table.cells import EMPTY_KEY
    from makini_desktop.table.staging import display_order_in_pieces

    rng = random.Random(step)
    keys = [EMPTY_KEY if rng.random() < 0.2 else (0, rng.randint(0, 9)) for _ in range(700)]
    ids = list(range(700))
    rng.shuffle(ids)
    order, turns = _run(display_order_in_pieces(ids, keys, descending, step))
    filled = [i for i in ids if keys[i] != EMPTY_KEY]
    empty = [i for i in ids if keys[i] == EMPTY_KEY]
    expected = sorted(filled, key=lambda i: keys[i][1], reverse=descending) + empty
    assert order == expected
    assert turns >= len(ids) // step


def test_a_key_twice_in_one_staged_chunk_is_one_row_the_later_copy(lookups):
    """Staged rows of one chunk that share a key are one row, the later copy (as a
    replace of the same rows gives), sorted by its own key; an unaccepted copy removes it."""
    index = RowIndex(res.SPACES_VIEW, lookups)
    index.sort(NAME)
    index.replace([space("A", "Zeta")])
    index.stage([space("B", "Mid"), space("C", "Beta"), space("B", "Alpha"), space(7, "Num"),
                 {"key": "F", "name": "Floor", "type": res.LOCATION_TYPE_FLOOR}])
    _run(index.place_staged_steps())
    assert keys(index) == ["B", "C", "7", "A"]
    assert index.rows[index.id_of("B")]["name"] == "Alpha"  # type: ignore[index]
    index.stage([space("D", "Delta"), {**space("D", "Dup"), "type": res.LOCATION_TYPE_FLOOR}])
    _run(index.place_staged_steps())
    assert keys(index) == ["B", "C", "7", "A"]
    assert index.total == 4
