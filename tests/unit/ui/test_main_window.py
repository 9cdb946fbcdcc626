"""The main window's widgets, names, shortcuts and saved layout (no network)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QLabel, QLineEdit, QTableView, QTabWidget, QWidget

from makini_desktop.api import resources as res
from makini_desktop.api.values import relative_age as relative_time
from makini_desktop.store.profiles import ProfileStore
from makini_desktop.store.secrets import TokenStore
from makini_desktop.sync.repository import Progress
from makini_desktop.ui.controllers import Phase, TabStatus
from makini_desktop.ui.main_window import MainWindow


@pytest.fixture
def settings_file(tmp_path):
    return str(tmp_path / "settings.ini")


def make_window(qtbot, settings_file: str) -> MainWindow:
    settings = QSettings(settings_file, QSettings.Format.IniFormat)
    window = MainWindow(ProfileStore(), TokenStore(), settings=settings)
    qtbot.addWidget(window)
    return window


def test_object_and_accessible_names(qtbot, settings_file):
    """Automation finds every named widget of issue 3, each with an accessible name."""
    window = make_window(qtbot, settings_file)
    assert window.objectName() == "mainWindow"
    assert window.findChild(QTabWidget, "resourceTabs") is not None
    for name in res.TAB_VIEWS:
        assert window.findChild(QTableView, f"{name}Table") is not None, name
        assert window.findChild(QLineEdit, f"{name}Search") is not None, name
    assert window.findChild(QLabel, "syncStatus") is not None
    unnamed = [w.objectName() or type(w).__name__ for w in window.findChildren(QWidget)
               if w.objectName() and not w.accessibleName()
               and not w.objectName().startswith("qt_")]
    assert unnamed == []


def test_tabs_follow_the_resource_table(qtbot, settings_file):
    """The Overview comes first, then the resource table's tab views, in order, with their
    titles."""
    window = make_window(qtbot, settings_file)
    titles = [window.resource_tabs.tabText(i) for i in range(window.resource_tabs.count())]
    assert titles == ["Overview", *[res.VIEWS[n].title for n in res.TAB_VIEWS]]
    spaces = window.findChild(QTableView, "spacesTable")
    headers = [spaces.model().headerData(i, Qt.Orientation.Horizontal)
               for i in range(spaces.model().columnCount()) if not spaces.isColumnHidden(i)]
    assert headers == [c.header for c in res.SPACES_VIEW.columns if not c.hidden]


def test_refresh_shortcuts(qtbot, settings_file):
    """Refresh answers F5 and Ctrl+R (Cmd+R on macOS); full refresh Shift+F5."""
    window = make_window(qtbot, settings_file)
    keys = {k.toString() for k in window.refresh_action.shortcuts()}
    assert QKeySequence("Ctrl+R").toString() in keys
    assert QKeySequence(QKeySequence.StandardKey.Refresh).toString() in keys
    assert "Shift+F5" in {k.toString() for k in window.full_refresh_action.shortcuts()}
    assert [a.shortcut().toString() for a in window.tab_actions] == [
        f"Ctrl+{i}" for i in range(1, len(res.TAB_VIEWS) + 1)]


def test_table_view_settings(qtbot, settings_file):
    """Tables have fixed row heights, no word wrap, alternating rows and movable columns."""
    window = make_window(qtbot, settings_file)
    table = window.findChild(QTableView, "assetsTable")
    assert not table.wordWrap()
    assert table.alternatingRowColors()
    assert table.horizontalHeader().sectionsMovable()
    assert table.horizontalHeader().isSortIndicatorShown()
    assert table.horizontalHeader().sectionsClickable()
    assert table.selectionBehavior() == QTableView.SelectionBehavior.SelectRows
    assert table.verticalHeader().sectionResizeMode(0) == table.verticalHeader().ResizeMode.Fixed


def test_layout_is_saved_and_restored(qtbot, settings_file):
    """Active tab, column order, widths and sort come back in the next session."""
    window = make_window(qtbot, settings_file)
    window.resource_tabs.setCurrentIndex(2)
    table = window.findChild(QTableView, "assetsTable")
    header = table.horizontalHeader()
    header.moveSection(0, 3)
    table.setColumnWidth(2, 321)
    table.sortByColumn(4, Qt.SortOrder.DescendingOrder)
    window.close()

    again = make_window(qtbot, settings_file)
    assert again.resource_tabs.currentIndex() == 2
    table = again.findChild(QTableView, "assetsTable")
    header = table.horizontalHeader()
    assert header.visualIndex(0) == 3
    assert table.columnWidth(2) == 321
    assert header.sortIndicatorSection() == 4
    assert header.sortIndicatorOrder() == Qt.SortOrder.DescendingOrder
    assert table.model().sort_column == 4


def test_hiding_a_column_removes_it_from_search(qtbot, settings_file):
    """A column the user hides is no longer searched; a shown hidden one is."""
    window = make_window(qtbot, settings_file)
    table = window.tabs["buildings"].table
    model = table.resource_model
    model.set_rows([{"key": "SITE-1", "name": "Mill", "code": "MIL"}])
    key_col = [c.id for c in res.BUILDINGS_VIEW.columns].index("key")
    model.set_search("site-1")
    assert model.rowCount() == 0
    table.set_column_shown(key_col, True)
    assert model.rowCount() == 1
    table.set_column_shown(key_col, False)
    assert model.rowCount() == 0


def test_status_texts():
    """The tab status reads "Syncing — page 3 of 9", "Cached — last synced 5 min ago"..."""
    now = datetime(2026, 3, 14, 12, 0, tzinfo=UTC)
    five = now - timedelta(minutes=5)
    assert TabStatus(Phase.SYNCING, progress=Progress(3, 9, 300, 900)).text() == (
        "Syncing — page 3 of 9")
    assert TabStatus(Phase.CACHED, synced_at=five).text(now) == "Cached — last synced 5 min ago"
    assert TabStatus(Phase.UP_TO_DATE, synced_at=now).text(now) == "Up to date"
    assert TabStatus(Phase.CACHED).text(now) == "Not synced yet"
    assert "Last synced" in TabStatus(Phase.CACHED, synced_at=five).tooltip()
    assert relative_time(now - timedelta(seconds=20), now) == "just now"
    assert relative_time(now - timedelta(hours=3), now) == "3 h ago"
    assert relative_time(now - timedelta(days=1, hours=2), now) == "yesterday"


def test_the_window_fits_a_1280_pixel_screen_with_the_details_pane_open(qtbot, settings_file):
    """On every tab, the window with the details pane open needs at most 1280 pixels: the
    search box and the filter boxes give up room before the window grows past a laptop's
    screen (it was 1,351 px on the Spaces tab, wider than the screen)."""
    window = make_window(qtbot, settings_file)
    window.show()
    window.detail_pane.show()
    for index in range(window.resource_tabs.count()):
        window.resource_tabs.setCurrentIndex(index)
        window.resize(1280, 800)
        assert window.minimumSizeHint().width() <= 1280, window.resource_tabs.tabText(index)
        qtbot.waitUntil(lambda: window.width() <= 1280)
    search = window.tabs["assets"].search
    assert search.width() >= search.fontMetrics().horizontalAdvance("laptop dell latitude")


def test_help_lists_every_keyboard_shortcut_and_about_names_the_logs(qtbot, settings_file):
    """Help → Keyboard shortcuts (F1) lists the window's shortcuts by name, as this
    platform writes them; About says where the log files are, for support."""
    from PySide6.QtGui import QAction
    from PySide6.QtWidgets import QMessageBox

    from makini_desktop.store.paths import log_dir

    window = make_window(qtbot, settings_file)
    window.show()
    help_menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&Help")
    action = window.findChild(QAction, "shortcutsAction")
    assert action in help_menu.actions()
    native = QKeySequence.SequenceFormat.NativeText
    assert action.shortcut() == QKeySequence(QKeySequence.StandardKey.HelpContents)
    action.trigger()
    box = window.findChild(QMessageBox, "shortcutsBox")
    assert box is not None and box.isVisible()
    text = box.informativeText()
    for name, keys in (("Find", QKeySequence(QKeySequence.StandardKey.Find)),
                       ("Check in", QKeySequence("Ctrl+I")),
                       ("Assets", QKeySequence(f"Ctrl+{list(res.TAB_VIEWS).index('assets') + 1}"))):
        assert f"<td>{name}</td><td>&nbsp;&nbsp;<b>{keys.toString(native)}" in text, name
    box.close()

    window.findChild(QAction, "aboutAction").trigger()
    about = window.findChild(QMessageBox, "aboutBox")
    assert about is not None and str(log_dir()) in about.informativeText()


def test_the_count_of_rows_held_follows_a_start_from_the_cache_and_ends_exact(
    qtbot, settings_file
):
    """While a start from the cache holds rows unshown, the count beside the search box says
    how many are held (a few times a second, not once per chunk) and ends on the last
    chunk's figure; once they are placed it counts them all at once."""
    window = make_window(qtbot, settings_file)
    model = window.workspace.models["assets"]
    label = window.findChild(QLabel, "assetsCount")
    rows = [{"key": f"A{i:04}", "tag": f"T-{i:04}", "name": f"Asset {i}"} for i in range(3000)]
    model.set_rows(rows[:3])
    assert label.text() == "3 assets"
    for at in range(3, 3000, 100):
        model.stage_rows(rows[at:at + 100])
    qtbot.waitUntil(lambda: label.text() == "3 of 3,000 assets", timeout=5000)
    for _ in model.place_staged_steps():
        pass
    assert label.text() == "3,000 assets"
