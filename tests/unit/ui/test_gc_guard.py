"""The GUI-thread garbage collector."""

from __future__ import annotations

import gc

from makini_desktop.ui.gc_guard import GuiThreadCollector, freeze_survivors


def test_collector_turns_automatic_gc_off_and_back_on(qtbot):
    """While it runs, only the GUI thread collects; stopping restores automatic collection."""
    collector = GuiThreadCollector()
    assert gc.isenabled()
    collector.start()
    try:
        assert not gc.isenabled()
    finally:
        collector.stop()
    assert gc.isenabled()


def test_collects_when_a_threshold_is_crossed(qtbot):
    """A collection runs once allocations pass generation 0's threshold, not before."""
    collector = GuiThreadCollector()
    collector.start()
    try:
        gc.collect()
        assert collector.collect_if_due() is None
        junk = [[] for _ in range(gc.get_threshold()[0] + 10)]
        assert collector.collect_if_due() == 0
        del junk
    finally:
        collector.stop()


def test_freeze_survivors_puts_what_lives_now_out_of_every_collection():
    """After freeze_survivors, an object alive before it is in no generation a collection
    walks (the permanent one); one made afterwards is young again."""
    before = [object()]
    try:
        freeze_survivors()
        assert gc.get_freeze_count() > 0
        tracked = {id(o) for o in gc.get_objects()}
        assert id(before) not in tracked
        after = [object()]
        assert any(o is after for o in gc.get_objects(generation=0))
    finally:
        gc.unfreeze()  # the test process collects as before
