"""The detail pane's models and widget, without a window."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QGuiApplication

from makini_desktop.api import resources as res
from makini_desktop.table.detail import Detail, Group, Link
from makini_desktop.table.detail_history import Place
from makini_desktop.table.related import BY_PARENT, RelatedIndex
from makini_desktop.ui.controllers import IndexedTableModel
from makini_desktop.ui.detail_pane import DetailPane, PlaceRole, RelatedModel
from makini_desktop.ui.table_model import Lookups


def _detail() -> Detail:
    item = Link("Ada · Employee move", None, [
        Link("From: 1.001", Place("spaces", "S1")), Link("To: 2.002", Place("spaces", "S2")),
    ])
    return Detail(
        Place("moves", "M1"), "Move", "Team move", [("Status", "Pending")],
        [("Cost center", "CC-1")],
        [Group("Building", [Link("HQ", Place("buildings", "B1"))], count=False),
         Group("Items", [item]), Group("Visits", [], "not loaded yet")],
    )


def test_related_model_passes_the_model_tester(qtmodeltester):
    """The related records' tree is a well-behaved Qt model."""
    model = RelatedModel()
    model.set_groups(_detail().related)
    qtmodeltester.check(model)
    heading = model.index(1, 0)
    item = model.index(0, 0, heading)
    assert model.index(1, 0, item).data(PlaceRole) == Place("spaces", "S2")
    assert model.groups() == [("Building", 1), ("Items (1)", 1), ("Visits (not loaded yet)", 0)]


def test_indexed_model_passes_the_model_tester_and_feeds_the_index(qtmodeltester):
    """The Spaces model shows spaces only, while the index also holds the floors."""
    related = RelatedIndex()
    model = IndexedTableModel(res.SPACES_VIEW, Lookups(), related)
    model.set_rows([
        {"key": "F1", "type": "floor", "name": "Level 1"},
        {"key": "S1", "type": "office", "parentKey": "F1", "name": "1.001"},
    ])
    model.append_rows([{"key": "S2", "type": "office", "parentKey": "F1", "name": "1.002"}])
    qtmodeltester.check(model)
    assert model.rowCount() == 2
    assert related.get("locations", "F1")["name"] == "Level 1"
    assert len(related.referring("locations", BY_PARENT, "F1")) == 2
    # A full list over the rows held: the changed floor is kept, the deleted space goes.
    seen: set[str] = set()
    upserts = model.changed_rows([{"key": "F1", "type": "floor", "name": "Level one",
                                   "updatedAt": "2026-01-01T00:00:00Z"},
                                  {"key": "S1", "type": "office", "parentKey": "F1",
                                   "name": "1.001"}], seen)
    model.apply_changes(upserts, model.keys_not_in(seen))
    assert related.get("locations", "F1")["name"] == "Level one"
    assert related.get("locations", "S2") is None
    assert model.rowCount() == 1


def test_pane_shows_fields_actions_and_copies_as_text(qtbot):
    """The pane lists fields and other fields, hosts record actions, and copies its text."""
    pane = DetailPane()
    qtbot.addWidget(pane)
    pane.show()
    pane.show_detail(_detail())
    assert pane.title_label.text() == "Team move"
    assert not pane.actions_bar.isVisible()
    approve = QAction("Approve", pane)
    pane.set_actions([approve])
    assert pane.actions_bar.isVisible()
    assert approve in pane.actions_bar.actions()
    QGuiApplication.clipboard().clear()
    pane.copy_button.click()
    text = QGuiApplication.clipboard().text()
    assert text.startswith("Move: Team move\n")
    assert "Status: Pending" in text and "Cost center: CC-1" in text
    assert "    From: 1.001" in text
    pane.show_message("Nothing selected.")
    assert not pane.copy_button.isEnabled()
    assert pane.text() == ""


def test_indexed_model_feeds_the_index_through_every_way_rows_arrive():
    """Every RowSink call that hands rows to a tab is one the index hears too: a new way
    for rows to arrive must be added to IndexedTableModel (or the pane misses them)."""
    from makini_desktop.sync.tab import RowSink

    queries = {"total", "changed_rows", "keys_not_in", "clear"}  # clear() is set_rows([])
    members = {n for n in vars(RowSink) if not n.startswith("_")} - queries
    assert members == {"set_rows", "append_rows", "apply_changes"}
    assert members <= set(vars(IndexedTableModel))


def test_show_all_line_asks_for_the_whole_group(qtbot, qtmodeltester):
    """A group cut short ends in "Show all N…"; choosing it asks for the whole group."""
    pane = DetailPane()
    qtbot.addWidget(pane)
    pane.show()
    detail = _detail()
    detail.related.append(Group("Spaces", [Link("1.001", Place("spaces", "S1"))], more=4))
    pane.show_detail(detail)
    model = pane.related_model
    qtmodeltester.check(model)
    heading = model.index(3, 0)
    assert heading.data() == "Spaces (5)"
    more = model.index(1, 0, heading)
    assert more.data() == "Show all 5…"
    pane.resize(500, 700)
    pane.related.expand(heading)
    pane.related.scrollTo(more)
    qtbot.waitUntil(lambda: pane.related.visualRect(more).isValid()
                    and pane.related.viewport().rect().contains(
                        pane.related.visualRect(more).center()))
    with qtbot.waitSignal(pane.sig_show_all) as blocker:
        qtbot.mouseClick(pane.related.viewport(), Qt.MouseButton.LeftButton,
                         pos=pane.related.visualRect(more).center())
    assert blocker.args == ["Spaces"]


def test_the_same_record_redrawn_keeps_the_groups_the_user_opened(qtbot):
    """Rows arriving for the record shown redraw it without folding what the user opened."""
    pane = DetailPane()
    qtbot.addWidget(pane)
    detail = _detail()
    pane.show_detail(detail)
    items = pane.related_model.index(1, 0)
    pane.related.setExpanded(items, False)
    pane.show_detail(_detail())
    assert not pane.related.isExpanded(pane.related_model.index(1, 0))
    assert pane.related.isExpanded(pane.related_model.index(0, 0))
