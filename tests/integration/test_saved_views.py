"""Saved views, the built-in views and the column chooser in the main window, on the sandbox."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QComboBox, QDialogButtonBox, QListWidget, QMessageBox, QToolButton

from makini_desktop.api import resources as res
from makini_desktop.sync.session import ConnectionInfo
from makini_desktop.ui.column_chooser import ColumnChooser
from tests.helpers.qt import wait_loaded

TOKEN = "sandbox-token"


def _open(qtbot, window, srv) -> None:
    window.open_connection(ConnectionInfo("Sandbox", srv.url, "it-views"), TOKEN)
    wait_loaded(qtbot, window)


def _saved(window):
    saved = window.findChild(QObject, "savedViews")
    assert saved is not None
    return saved


def _settled(tab) -> bool:
    return not tab.search_pending and not tab.table.sort_pending


def test_every_tab_has_a_view_selector_and_a_columns_button(window):
    """Each tab has <tab>ViewSelector (default, then its built-in views) and a Columns button;
    the View menu and the toolbar hold the view actions."""
    for name in res.TAB_VIEWS:
        selector = window.findChild(QComboBox, f"{name}ViewSelector")
        assert selector is not None and selector.accessibleName()
        assert selector.itemText(0) == "Default view"
        assert window.findChild(QToolButton, f"{name}ColumnsButton") is not None
    visitors = window.findChild(QComboBox, "visitorsViewSelector")
    assert [visitors.itemText(i) for i in range(1, visitors.count())] == [
        "On site now", "Expected today"]
    view_menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&View")
    names = {a.objectName() for a in view_menu.actions()}
    assert {"saveViewAction", "exportViewAction", "importViewAction",
            "chooseColumnsAction"} <= names
    toolbar = window.findChild(QObject, "mainToolbar")
    assert "chooseColumnsAction" in {a.objectName() for a in toolbar.actions()}


def test_a_saved_view_comes_back_after_a_restart(qtbot, make_window, sandbox):
    """Search, sort and columns saved under a name are listed and shown again by a new
    window on the same profile."""
    window = make_window()
    _open(qtbot, window, sandbox)
    tab = window.tabs["assets"]
    tab.table.show_columns(["name", "tag", "audited"])
    tab.search.setText("laptop")
    tab.apply_search_now()
    ids = [c.id for c in res.ASSETS_VIEW.columns]
    tab.table.horizontalHeader().setSortIndicator(ids.index("audited"),
                                                  Qt.SortOrder.DescendingOrder)
    qtbot.waitUntil(lambda: _settled(tab) and tab.model.sort_column == ids.index("audited"))
    assert _saved(window).save_current("Laptops by audit", "assets") is not None
    window.close()

    again = make_window()
    _open(qtbot, again, sandbox)
    selector = again.findChild(QComboBox, "assetsViewSelector")
    index = selector.findText("Laptops by audit")
    assert index > 0
    tab = again.tabs["assets"]
    assert tab.search.text() == ""  # a search is not kept by itself, only in a view
    _saved(again).select("assets", "Laptops by audit")
    qtbot.waitUntil(lambda: _settled(tab) and tab.model.sort_column == ids.index("audited"))
    assert tab.search.text() == "laptop"
    assert tab.table.column_ids() == ["name", "tag", "audited"]
    assert tab.model.sort_order == Qt.SortOrder.DescendingOrder
    expected = [a for a in sandbox.data.visible("assets") if any(
        w.casefold().startswith("laptop") or "laptop" in w.casefold()
        for w in (a["name"], a["tag"]))]
    assert tab.model.rowCount() == len(expected) > 0
    audited = [r.get("lastAuditedAt") or "" for r in tab.model.visible_rows()]
    dated = [a for a in audited if a]
    assert dated == sorted(dated, reverse=True)


def test_views_exported_import_in_another_profile(qtbot, make_window, sandbox, tmp_path,
                                                  monkeypatch):
    """A tab's saved views written to a file are listed, the same, after importing it into
    an empty profile."""
    window = make_window()
    window.tabs["moves"].search.setText("Level 1")
    saved = _saved(window)
    assert saved.save_current("Level 1 moves", "moves") is not None
    target = tmp_path / "shared views.json"
    assert saved.export_to(str(target), "moves")
    doc = json.loads(target.read_text("utf-8"))
    assert [v["name"] for v in doc["views"]] == ["Level 1 moves"]
    window.close()

    monkeypatch.setenv("MAKINI_DESKTOP_HOME", str(tmp_path / "colleague"))
    other = make_window()
    selector = other.findChild(QComboBox, "movesViewSelector")
    assert selector.findText("Level 1 moves") < 0
    imported = _saved(other).import_from(str(target))
    assert [v.name for v in imported] == ["Level 1 moves"]
    assert selector.findText("Level 1 moves") > 0
    assert (tmp_path / "colleague" / "config" / "views.json").exists()


def test_a_bad_view_file_is_refused_with_a_box_that_says_why(qtbot, window, tmp_path):
    """Importing a file that is not a view file shows importViewsFailedBox naming the file."""
    bad = tmp_path / "holiday.json"
    bad.write_text('{"kind": "photos"}', "utf-8")
    assert _saved(window).import_from(str(bad)) is None
    box = window.findChild(QMessageBox, "importViewsFailedBox")
    qtbot.waitUntil(lambda: box is not None and box.isVisible())
    assert "holiday.json is not a makini-desktop view file." in box.informativeText()
    box.close()


def test_assets_not_audited_in_12_months_shows_the_old_and_the_never_audited(
    qtbot, window, sandbox
):
    """The built-in view shows the assets never audited or audited over a year ago."""
    _open(qtbot, window, sandbox)
    now = datetime.now(UTC)
    day = 28 if (now.month, now.day) == (2, 29) else now.day
    year_ago = now.replace(year=now.year - 1, day=day).strftime("%Y-%m-%dT%H:%M:%SZ")
    expected = [a for a in sandbox.data.visible("assets")
                if not a.get("lastAuditedAt") or a["lastAuditedAt"] < year_ago]
    tab = window.tabs["assets"]
    _saved(window).select("assets", "Assets not audited in 12 months")
    ids = [c.id for c in res.ASSETS_VIEW.columns]
    qtbot.waitUntil(lambda: _settled(tab) and tab.model.sort_column == ids.index("audited"))
    assert 0 < tab.model.rowCount() == len(expected) < len(sandbox.data.visible("assets"))
    assert {r["key"] for r in tab.model.visible_rows()} == {a["key"] for a in expected}
    _saved(window).select("assets", "Default view")  # back: every asset
    qtbot.waitUntil(lambda: tab.model.rowCount() == len(sandbox.data.visible("assets")))


@pytest.mark.parametrize(("tab_name", "preset", "expected"), [
    ("visitors", "On site now",
     lambda srv: [v for v in srv.data.visible("visits") if v["status"] == "checked_in"]),
    ("visitors", "Expected today",
     lambda srv: [v for v in srv.data.visible("visits") if v["status"] == "expected"
                  and datetime.fromisoformat(v["expectedAt"].replace("Z", "+00:00"))
                  .astimezone().date() == datetime.now().astimezone().date()]),
    ("moves", "Pending moves",
     lambda srv: [m for m in srv.data.visible("moves") if m["status"] == "pending"]),
    ("spaces", "Vacant desks",
     lambda srv: [s for s in srv.data.visible("locations")
                  if s["type"] in ("workstation", "hoteling_desk")
                  and not s.get("occupantName") and not s.get("occupied")]),
])
def test_a_built_in_view_shows_the_rows_it_names(qtbot, window, sandbox, tab_name, preset,
                                                 expected):
    """Each filter-based built-in view shows exactly the rows computed from the sandbox."""
    boxes = {"visitors": "visitorsDateFilter" if preset == "Expected today"
             else "visitorsStatusFilter", "moves": "movesStatusFilter",
             "spaces": "spacesVacancyFilter"}
    if window.findChild(QComboBox, boxes[tab_name]) is None:
        pytest.skip("the filter boxes beside the search (another branch) apply this view")
    _open(qtbot, window, sandbox)
    tab = window.tabs[tab_name]
    _saved(window).select(tab_name, preset)
    want = len(expected(sandbox))
    qtbot.waitUntil(lambda: _settled(tab) and tab.model.rowCount() == want)


def test_the_column_chooser_hides_and_reorders_columns(qtbot, window):
    """View → Choose columns: unticking a column and moving another up changes the table."""
    window.resource_tabs.setCurrentWidget(window.tabs["spaces"])
    action = window.findChild(QAction, "chooseColumnsAction")
    action.trigger()
    chooser = window.findChild(ColumnChooser)
    qtbot.waitUntil(lambda: chooser is not None and chooser.isVisible())
    items = chooser.findChild(QListWidget, "columnChooserList")
    headers = [items.item(i).text() for i in range(items.count())]
    shown = [c.header for c in res.SPACES_VIEW.columns if not c.hidden]
    assert headers[:len(shown)] == shown  # shown first, in order, then the hidden ones
    items.item(headers.index("Code")).setCheckState(Qt.CheckState.Unchecked)
    items.setCurrentRow(headers.index("Occupant"))
    chooser.move_current(-1)
    chooser.move_current(-1)
    chooser.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Ok).click()
    table = window.tabs["spaces"].table
    want = [c.id for c in res.SPACES_VIEW.columns if not c.hidden and c.id != "code"]
    occupant = want.pop(want.index("occupant"))
    want.insert(want.index("area"), occupant)
    assert table.column_ids() == want
