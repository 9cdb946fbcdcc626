"""The filter bar's lists follow the names of the places, without work nobody sees."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QWidget

from makini_desktop.api import resources as res
from makini_desktop.ui.filter_bar import FilterBar
from makini_desktop.ui.table_model import Lookups, ResourceTableModel


def floor(key: str, name: str, level: int) -> dict[str, Any]:
    return {"key": key, "name": name, "type": "floor", "siteKey": "S1", "level": level}


def listed(bar: FilterBar) -> list[str]:
    box = bar.combos["floor"]
    return [box.itemText(i) for i in range(box.count())]


def test_a_hidden_bar_lists_the_new_floors_when_it_is_shown(qtbot):
    """While pages of places arrive, the bar on screen lists the new floors within a
    moment; a bar on a tab not shown keeps its lists until the tab is shown, and lists
    every floor then, before it is painted."""
    lookups = Lookups()
    lookups.set_rows("sites", [{"key": "S1", "name": "Harbour House"}])
    lookups.set_rows("locations", [floor("F1", "Level 1", 1)])
    shown_parent, hidden_parent = QWidget(), QWidget()
    for parent in (shown_parent, hidden_parent):
        qtbot.addWidget(parent)
    shown = FilterBar(ResourceTableModel(res.SPACES_VIEW, lookups), shown_parent)
    hidden = FilterBar(ResourceTableModel(res.ASSETS_VIEW, lookups), hidden_parent)
    shown_parent.show()
    qtbot.waitExposed(shown_parent)
    before = listed(hidden)
    assert before == listed(shown) == ["All floors", "Level 1 — Harbour House"]

    # More places arrive, a page at a time.
    lookups.update_rows("locations", [floor("F2", "Level 2", 2)])
    lookups.update_rows("locations", [floor("F0", "Ground", 0)])
    expected = ["All floors", "Ground — Harbour House", "Level 1 — Harbour House",
                "Level 2 — Harbour House"]
    qtbot.waitUntil(lambda: listed(shown) == expected)
    assert listed(hidden) == before  # the time to refill has passed: nobody saw it

    hidden_parent.show()
    assert listed(hidden) == expected  # filled as it is shown, before its first paint
