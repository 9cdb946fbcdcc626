"""A sort kept from one start from the cache, taken by the next: the same rows in the same
order as a sort computed afresh, and never taken when it does not fit the rows."""

from __future__ import annotations

import random
from typing import Any

import pytest

from makini_desktop.api import resources as res
from makini_desktop.table.rowindex import RowIndex
from tests.unit.table.test_rowindex import BUILDING, CAPACITY, NAME, keys, random_space
from tests.unit.table.test_rowindex_staging import _run

FIRST = 100  # the first screenful, shown before the rest is staged


def rows_of(seed: int, n: int = 2500) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    return [random_space(rng, f"K{i:04}") for i in range(n)]


def start(lookups, rows, column, descending, *, sort=None, keyed=True, before_place=None):
    """A start from the cache as a tab makes it: a first screenful, the rest staged in
    chunks (their keys left to the placing when a kept sort is expected), then placed."""
    index = RowIndex(res.SPACES_VIEW, lookups)
    index.sort(column, descending)
    index.replace(rows[:FIRST])
    for at in range(FIRST, len(rows), 700):
        index.stage(rows[at:at + 700], keyed=keyed)
    if before_place is not None:
        before_place(index)
    _run(index.place_staged_steps(slice_rows=300, sort=sort))
    return index


def computed(lookups, rows, column, descending):
    """The order of the same rows given at once, sorted afresh."""
    full = RowIndex(res.SPACES_VIEW, lookups)
    full.sort(column, descending)
    full.replace(rows)
    return keys(full)


@pytest.mark.parametrize("descending", [False, True])
@pytest.mark.parametrize("column", [NAME, CAPACITY])
def test_a_kept_sort_places_the_rows_as_a_fresh_sort_does(lookups, column, descending):
    rows = rows_of(column)
    first = start(lookups, rows, column, descending)
    kept = first.kept_sort()
    assert kept is not None
    again = start(lookups, rows, column, descending, sort=kept, keyed=False)
    assert keys(again) == computed(lookups, rows, column, descending)
    assert again.kept_sort() is None  # it was taken: nothing new to keep
    # And the index goes on as one sorted afresh: a renamed row moves to its new place.
    again.apply([{**rows[5], "name": "Aaaa first"}], ())
    reference = RowIndex(res.SPACES_VIEW, lookups)
    reference.sort(column, descending)
    reference.replace([*rows[:5], {**rows[5], "name": "Aaaa first"}, *rows[6:]])
    assert keys(again) == keys(reference)


def test_keys_of_another_form_are_not_taken(lookups):
    """Keys a changed keyer would no longer give (a key format bumped without its version)
    are noticed on a sample of rows: the rows are sorted afresh, and a new sort kept."""
    rows = rows_of(1)
    order, stored = start(lookups, rows, NAME, False).kept_sort()[1]
    stale = [(rank, text.upper(), *rest) for rank, text, *rest in stored]
    spec = start(lookups, rows, NAME, False).kept_sort()[0]
    again = start(lookups, rows, NAME, False, sort=(spec, (order, stale)), keyed=False)
    assert keys(again) == computed(lookups, rows, NAME, False)
    assert again.kept_sort() is not None


@pytest.mark.parametrize("damage", ["shuffled", "short", "repeated", "other rows", "spec"])
def test_a_kept_sort_that_does_not_fit_gives_a_fresh_sort(lookups, damage):
    rows = rows_of(2)
    spec, (order, stored) = start(lookups, rows, NAME, True).kept_sort()
    given = rows
    if damage == "shuffled":  # keys right, order wrong: sorted anyway
        random.Random(3).shuffle(order)
    elif damage == "short":
        order, stored = order[:-1], stored[:-1]
    elif damage == "repeated":
        order = [order[0], *order[:-1]]
    elif damage == "other rows":  # a row more than the sort was made for
        given = [*rows, random_space(random.Random(4), "K9999")]
    else:
        spec = spec.replace("|1|", "|0|")  # kept for the other direction
    again = start(lookups, given, NAME, True, sort=(spec, (order, stored)), keyed=False)
    assert keys(again) == computed(lookups, given, NAME, True)


def test_a_sort_through_the_lookups_is_never_kept(lookups):
    """A building's name can change without the rows: keys made of it are not kept."""
    assert start(lookups, rows_of(5), BUILDING, False).kept_sort() is None


def test_rows_staged_unkeyed_are_sorted_right_whatever_happens_before_placing(lookups):
    """Rows staged for a kept sort that never comes, a sort by another column and back
    meanwhile, and a large change set: every order is the one computed afresh."""
    rows = rows_of(6)

    def sort_elsewhere_and_back(index: RowIndex) -> None:
        index.sort(CAPACITY, False)
        index.sort(NAME, False)

    placed = start(lookups, rows, NAME, False, keyed=False, before_place=sort_elsewhere_and_back)
    assert keys(placed) == computed(lookups, rows, NAME, False)

    def change_many(index: RowIndex) -> None:  # past BULK_CHANGE_ROWS: one sort of all
        index.apply([{**row, "name": f"Z{row['name']}"} for row in rows[:2100]], ())

    changed = [{**row, "name": f"Z{row['name']}"} for row in rows[:2100]] + rows[2100:]
    placed = start(lookups, rows, NAME, False, keyed=False, before_place=change_many)
    assert keys(placed) == computed(lookups, changed, NAME, False)
    assert placed.kept_sort() is not None
