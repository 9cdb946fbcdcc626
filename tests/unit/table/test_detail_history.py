"""History: Back and Forward over the records the detail pane showed."""

from __future__ import annotations

from makini_desktop.table.detail_history import History, Place


def test_back_and_forward_retrace_the_path():
    """Back returns to the previous record, Forward goes there again."""
    h = History()
    a, b, c = Place("spaces", "S1"), Place("assets", "A1"), Place("moves", "M1")
    for place in (a, b, c):
        h.visit(place)
    assert h.back() == b
    assert h.back() == a
    assert h.back() is None and h.current == a
    assert h.forward() == b
    assert h.can_forward and h.can_back


def test_a_new_visit_drops_what_was_ahead():
    """Going somewhere new after Back forgets the forward path, as a browser does."""
    h = History()
    h.visit(Place("spaces", "S1"))
    h.visit(Place("assets", "A1"))
    h.back()
    h.visit(Place("visitors", "V1"))
    assert not h.can_forward
    assert h.back() == Place("spaces", "S1")


def test_moving_the_selection_replaces_a_casual_place():
    """Arrow keys through a table leave one entry behind, not one per row."""
    h = History()
    h.visit(Place("spaces", "S1"))
    for key in ("A1", "A2", "A3"):
        h.visit(Place("assets", key, casual=True))
    assert h.current == Place("assets", "A3")
    assert h.back() == Place("spaces", "S1")


def test_visiting_the_current_place_again_changes_nothing():
    """Opening the record already shown adds no entry."""
    h = History()
    h.visit(Place("spaces", "S1"))
    h.visit(Place("spaces", "S1"))
    assert not h.can_back


def test_the_history_is_bounded():
    """Only the latest places are kept behind the current one."""
    h = History(limit=3)
    for i in range(10):
        h.visit(Place("spaces", f"S{i}"))
    steps = 0
    while h.back() is not None:
        steps += 1
    assert steps == 3
