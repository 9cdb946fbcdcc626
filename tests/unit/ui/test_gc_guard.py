"""The GUI-thread garbage collector."""

from __future__ import annotations

import gc

from makini_desktop.ui.gc_guard import GuiThreadCollector


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
