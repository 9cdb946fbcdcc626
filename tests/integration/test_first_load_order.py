"""A first load streams rows in arrival order, then shows them in the order the header says."""

from __future__ import annotations

from makini_desktop.api import resources as res
from makini_desktop.ui.controllers import Phase
from tests.helpers.qt import wait_loaded
from tests.integration.test_main_window import connect, expected_rows, table


def test_a_first_load_ends_sorted_as_the_header_says(qtbot, window, sandbox):
    """Into an empty cache, every tab ends Up to date with all the server's rows, in the
    same order a fresh sort by the header's column gives."""
    connect(window, sandbox)
    wait_loaded(qtbot, window)
    for name in res.TAB_VIEWS:
        model = table(window, name).model()
        assert window.workspace.tabs[name].status.phase is Phase.UP_TO_DATE
        assert not model.row_index.arriving
        shown = [model.key_at(r) for r in range(model.rowCount())]
        assert sorted(shown) == sorted(r["key"] for r in expected_rows(sandbox, res.VIEWS[name]))
        column, order = model.sort_column, model.sort_order
        assert column == 0
        model.sort(-1)
        model.sort(column, order)  # computed afresh from every row held
        assert [model.key_at(r) for r in range(model.rowCount())] == shown
