"""RowIndex while a first load streams in: rows in arrival order, one sort at the end."""

from __future__ import annotations

import random
from typing import Any

import pytest

from makini_desktop.api import resources as res
from makini_desktop.table.plan import Inserted, Layout
from makini_desktop.table.rowindex import RowIndex
from tests.unit.table.support import space
from tests.unit.table.test_rowindex import CAPACITY, NAME, Mirror, keys, random_space


def _run(steps: Any) -> Any:
    count = 0
    while True:
        try:
            next(steps)
            count += 1
        except StopIteration as done:
            return done.value, count


@pytest.mark.parametrize("descending", [False, True])
def test_rows_streamed_in_arrival_order_end_in_a_full_sorts_order(lookups, descending):
    """While rows arrive they are appended as they come; at the end the index shows the same
    order as rows added to a sorted index in one go, and says it was sorted all along."""
    rng = random.Random(3)
    rows = [random_space(rng, f"K{i:03}") for i in range(250)]
    streamed = RowIndex(res.SPACES_VIEW, lookups)
    mirror = Mirror(streamed)
    mirror.apply(streamed.sort(CAPACITY, descending))
    streamed.begin_arrival()
    assert streamed.arriving
    assert (streamed.sort_column, streamed.descending) == (CAPACITY, descending)
    for start in range(0, len(rows), 40):
        plan = streamed.add(rows[start:start + 40])
        assert [type(s) for s in plan.steps] == [Inserted]  # at the end, no reorder
        mirror.apply(plan)
    assert keys(streamed) == [r["key"] for r in rows]  # arrival order meanwhile
    plan, count = _run(streamed.arrival_done_steps(slice_rows=30))
    assert count > 2 and isinstance(plan.steps[-1], Layout)
    mirror.apply(plan)
    assert not streamed.arriving
    full = RowIndex(res.SPACES_VIEW, lookups)
    full.replace(rows)
    full.sort(CAPACITY, descending)
    assert keys(streamed) == keys(full)
    assert (streamed.sort_column, streamed.descending) == (CAPACITY, descending)
    # Later pages are merged in place, as into any sorted index.
    mirror.apply(streamed.add([space("Z1", "Late", capacity=3)]))
    full.add([space("Z1", "Late", capacity=3)])
    assert keys(streamed) == keys(full)


def test_a_sort_asked_for_while_rows_arrive_wins(lookups):
    """A header click on another column mid-load sorts at once; the end sorts nothing more
    and later rows merge into the user's order."""
    rng = random.Random(4)
    rows = [random_space(rng, f"K{i:03}") for i in range(120)]
    index = RowIndex(res.SPACES_VIEW, lookups)
    index.sort(NAME)
    index.begin_arrival()
    index.add(rows[:60])
    assert index.sort(NAME).steps == []  # the order already wanted: nothing to do now
    index.sort(CAPACITY, descending=True)
    assert not index.arriving
    index.add(rows[60:])
    plan, _ = _run(index.arrival_done_steps())
    assert plan.steps == []
    full = RowIndex(res.SPACES_VIEW, lookups)
    full.replace(rows)
    full.sort(CAPACITY, descending=True)
    assert keys(index) == keys(full) and index.sort_column == CAPACITY


def test_replacing_the_rows_while_they_arrive_sorts_them_as_wanted(lookups):
    """set_rows (a reset) mid-stream gives the sorted table the header promises."""
    index = RowIndex(res.SPACES_VIEW, lookups)
    index.sort(NAME)
    index.begin_arrival()
    index.add([space("K1", "Zeta"), space("K2", "Alpha")])
    index.replace([space("K3", "Mid"), space("K4", "Beta"), space("K5", "Alpha")])
    assert not index.arriving and index.sort_column == NAME
    assert keys(index) == ["K5", "K4", "K3"]


def test_the_end_of_an_arrival_forgets_the_collation_keys_it_remembered(lookups):
    """The names of a list sorted at the end of its first load are not kept in the
    collation memo (100k of them in a large list, seldom asked for again); the order is
    the same."""
    from makini_desktop.table import collate

    rows = [space(f"K{i:03}", f"Room {i % 7} Ä{i}") for i in range(120)]
    index = RowIndex(res.SPACES_VIEW, lookups)
    index.sort(NAME)
    index.begin_arrival()
    index.add(rows)
    collate.forget_keys()
    steps = index.arrival_done_steps(slice_rows=50)
    next(steps)
    assert collate.remembered_key("Room 0 Ä0") is not None  # keys remembered meanwhile
    _run(steps)
    assert collate.remembered_key("Room 0 Ä0") is None
    full = RowIndex(res.SPACES_VIEW, lookups)
    full.replace(rows)
    full.sort(NAME)
    assert keys(index) == keys(full)
