"""The main window against the real sandbox over loopback."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QApplication,
    QInputDialog,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
)

from makini_desktop.api import resources as res
from makini_desktop.store.profiles import ProfileStore
from makini_desktop.store.secrets import TokenStore
from makini_desktop.sync.session import ConnectionInfo, ConnState
from makini_desktop.ui.controllers import Phase
from makini_desktop.ui.main_window import MainWindow
from makini_desktop.ui.table_model import SortRole
from tests.helpers.qt import run_task, wait_loaded

TOKEN = "sandbox-token"
LOAD_TIMEOUT_MS = 30_000



def expected_rows(srv, view: res.View) -> list[dict[str, Any]]:
    return [r for r in srv.data.visible(view.dataset.name) if view.accepts(r)]


def connect(window: MainWindow, srv, name: str = "Sandbox") -> ConnectionInfo:
    info = ConnectionInfo(name, srv.url, f"it-{name.lower()}")
    window.open_connection(info, TOKEN)
    return info


def table(window: MainWindow, name: str) -> QTableView:
    found = window.findChild(QTableView, f"{name}Table")
    assert found is not None
    return found


def test_every_tab_loads_the_whole_list(qtbot, window, sandbox):
    """Each tab shows every record of its sandbox list, names resolved, and says Up to date."""
    connect(window, sandbox)
    wait_loaded(qtbot, window)
    for name in res.TAB_VIEWS:
        view = res.VIEWS[name]
        assert table(window, name).model().rowCount() == len(expected_rows(sandbox, view)), name
        assert window.workspace.tabs[name].status.phase is Phase.UP_TO_DATE
    status = window.findChild(QLabel, "syncStatus")
    assert status.text() == ConnState.READY.label
    spaces = table(window, "spaces").model()
    building = [c.id for c in res.SPACES_VIEW.columns].index("building")
    site_names = {s["name"] for s in sandbox.data.visible("sites")}
    assert {spaces.index(r, building).data() for r in range(spaces.rowCount())} <= site_names


def test_connecting_asks_the_connection_status_once(qtbot, window, sandbox):
    """One status request per connect: the quick reachability check is the status call."""
    connect(window, sandbox)
    wait_loaded(qtbot, window)
    status_calls = [e for e in sandbox.recent_exchanges() if e[1] == res.INTEGRATION_PATH]
    assert len(status_calls) == 1 and status_calls[0][2] == 200
    assert window.workspace.integration.request_id == status_calls[0][3]


def test_search_filters_and_count_label_follows(qtbot, window, sandbox):
    """Typing in the Spaces search narrows the table and the label reads "N of M spaces"."""
    connect(window, sandbox)
    wait_loaded(qtbot, window)
    model = table(window, "spaces").model()
    total = model.rowCount()
    search = window.findChild(QLineEdit, "spacesSearch")
    count = window.findChild(QLabel, "spacesCount")
    assert count.text() == f"{total:,} spaces"
    qtbot.keyClicks(search, "meeting")
    qtbot.waitUntil(lambda: 0 < model.rowCount() < total, timeout=5000)
    shown = [c for c, col in enumerate(res.SPACES_VIEW.columns) if not col.hidden]
    for row in range(model.rowCount()):
        cells = [str(model.index(row, c).data()).casefold() for c in shown]
        assert any("meeting" in cell for cell in cells)
    assert count.text() == f"{model.rowCount():,} of {total:,} spaces"
    search.clear()
    qtbot.waitUntil(lambda: model.rowCount() == total, timeout=5000)
    assert count.text() == f"{total:,} spaces"


def test_new_refresh_cancels_the_running_one(qtbot, window, sandbox, qasync_loop):
    """Pressing Refresh while a tab loads cancels that load; the new one completes."""
    connect(window, sandbox)
    wait_loaded(qtbot, window)
    sandbox.set_latency(100)
    first = window.workspace.refresh_tab("assets", full=True)
    qtbot.waitUntil(lambda: window.workspace.tabs["assets"].status.phase is Phase.SYNCING)
    window.resource_tabs.setCurrentWidget(window.tabs["assets"])
    window.refresh_action.trigger()
    second = window.workspace.tabs["assets"].task
    assert second is not first
    qtbot.waitUntil(first.done, timeout=5000)
    assert first.cancelled()
    sandbox.set_latency(0)
    qtbot.waitUntil(second.done, timeout=LOAD_TIMEOUT_MS)
    assert not second.cancelled(), "second cancelled"
    assert second.exception() is None
    assert window.workspace.tabs["assets"].status.phase is Phase.UP_TO_DATE
    assert table(window, "assets").model().rowCount() == len(sandbox.data.visible("assets"))


def test_cancel_button_stops_loading_and_keeps_rows(qtbot, window, sandbox):
    """Cancel during a refresh stops it and the rows already shown stay."""
    connect(window, sandbox)
    wait_loaded(qtbot, window)
    sandbox.set_latency(200)
    tab = window.tabs["assets"]
    window.resource_tabs.setCurrentWidget(tab)
    task = window.workspace.refresh_tab("assets", full=True)
    qtbot.waitUntil(tab.cancel.isVisible)
    qtbot.mouseClick(tab.cancel, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(task.done, timeout=5000)
    assert window.workspace.tabs["assets"].status.phase is Phase.CANCELLED
    assert tab.status.text().startswith("Cancelled")
    assert tab.model.rowCount() == len(sandbox.data.visible("assets"))


def test_module_not_offered_shows_inline_message(qtbot, window, sandbox):
    """A system without visitor management shows a message in the tab, never a dialog."""
    sandbox.set_unavailable(["visits"])
    connect(window, sandbox)
    wait_loaded(qtbot, window)
    tab = window.tabs["visitors"]
    assert tab.stack.currentWidget() is tab.unavailable
    assert tab.unavailable.text() == "This connection's system does not offer visitor management."
    assert window.reporter.reported == []
    assert window.reporter.open_dialogs() == []
    assert table(window, "moves").model().rowCount() == len(sandbox.data.visible("moves"))


def test_server_error_after_retries_opens_error_dialog(qtbot, window, sandbox):
    """A 500 that outlasts the retries opens one error dialog with the server's request ID."""
    connect(window, sandbox)
    wait_loaded(qtbot, window)
    sandbox.set_faults(["500:path=/api/eam/assets"])
    task = window.workspace.refresh_tab("assets", full=True)
    qtbot.waitUntil(task.done, timeout=LOAD_TIMEOUT_MS)
    dialogs = window.reporter.open_dialogs()
    assert len(dialogs) == 1
    field = dialogs[0].findChild(QLineEdit, "requestIdField")
    sent_500 = [rid for method, path, status, rid in sandbox.recent_exchanges()
                if status == 500 and path == res.ASSETS.path]
    assert field.text() == sent_500[-1]  # the ID the server sent with its last 500
    QApplication.clipboard().clear()
    button = dialogs[0].findChild(QPushButton, "copyRequestIdButton")
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert QApplication.clipboard().text() == sent_500[-1]
    assert window.workspace.tabs["assets"].status.phase is Phase.FAILED
    assert table(window, "assets").model().rowCount() == len(sandbox.data.visible("assets"))


def test_revoked_token_of_an_unsaved_connection_asks_for_a_new_one(
    qtbot, window, sandbox, qasync_loop
):
    """A --base-url connection has no profile: Reconnect asks for a token and reloads."""
    window.open_connection(ConnectionInfo.adhoc(sandbox.url, TOKEN), TOKEN)
    wait_loaded(qtbot, window)
    window.tabs["assets"].search.setText("laptop")  # a search under way
    window.tabs["assets"].apply_search_now()
    sandbox.revoke(TOKEN)
    window.workspace.refresh_tab("spaces")
    qtbot.waitUntil(lambda: bool(window.reporter.open_dialogs()), timeout=LOAD_TIMEOUT_MS)
    error = window.reporter.open_dialogs()[0]
    qtbot.mouseClick(error.reconnect_button, Qt.MouseButton.LeftButton)
    ask = window.findChild(QInputDialog, "newTokenDialog")
    assert ask is not None and ask.isVisible()
    assert ask.textEchoMode() == QLineEdit.EchoMode.Password
    sandbox.add_token("fresh-token")
    ask.setTextValue("fresh-token")
    ask.accept()
    qtbot.waitUntil(lambda: window.workspace.state is not ConnState.CONNECTING, timeout=10_000)
    wait_loaded(qtbot, window)
    assert window.findChild(QLabel, "syncStatus").text() == ConnState.READY.label
    assert window.profiles.list() == []  # nothing was saved
    assert table(window, "spaces").model().rowCount() == len(
        expected_rows(sandbox, res.SPACES_VIEW))
    assert window.tabs["assets"].search.text() == "laptop"  # the same connection: kept


def test_revoked_token_reconnects_with_a_new_token(qtbot, window, sandbox, qasync_loop):
    """After a 401, Reconnect opens the manager on the token; a new token reloads the tabs."""
    profile = window.profiles.add("Office", sandbox.url)
    window.tokens.set(profile.id, TOKEN)
    window.activate_profile(profile.id)
    wait_loaded(qtbot, window)
    window.tabs["assets"].search.setText("laptop")  # a search under way
    window.tabs["assets"].apply_search_now()
    sandbox.revoke(TOKEN)
    window.workspace.refresh_tab("spaces")
    qtbot.waitUntil(lambda: bool(window.reporter.open_dialogs()), timeout=LOAD_TIMEOUT_MS)
    assert window.findChild(QLabel, "syncStatus").text() == ConnState.NEEDS_RECONNECT.label
    error = window.reporter.open_dialogs()[0]
    assert error.reconnect_button.isVisible()
    qtbot.mouseClick(error.reconnect_button, Qt.MouseButton.LeftButton)
    dialog = window.connection_dialog
    qtbot.waitUntil(lambda: dialog.isVisible() and dialog.token_field.hasFocus())
    sandbox.add_token("fresh-token")
    dialog.token_field.setText("fresh-token")
    dialog.token_field.textEdited.emit("fresh-token")
    qtbot.mouseClick(dialog.connect_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.workspace.state is not ConnState.CONNECTING, timeout=10_000)
    wait_loaded(qtbot, window)
    assert window.tokens.get(profile.id) == "fresh-token"
    assert window.findChild(QLabel, "syncStatus").text() == ConnState.READY.label
    assert table(window, "spaces").model().rowCount() == len(
        expected_rows(sandbox, res.SPACES_VIEW))
    assert window.tabs["assets"].search.text() == "laptop"  # the same connection: kept
    assets = table(window, "assets").model()
    qtbot.waitUntil(lambda: 0 < assets.rowCount() < len(sandbox.data.visible("assets")))


def test_rate_limit_counts_down_without_a_dialog(qtbot, window, sandbox):
    """While the client waits out a 429 the status bar counts down and no dialog opens."""
    connect(window, sandbox)
    wait_loaded(qtbot, window)
    sandbox.set_faults(["429:count=1,retry_after=2,path=/api/eam/sites"])
    status = window.findChild(QLabel, "syncStatus")
    task = window.workspace.refresh_tab("buildings", full=True)
    qtbot.waitUntil(lambda: status.text().startswith("Rate limited — retrying in"), timeout=5000)
    assert window.reporter.open_dialogs() == []
    qtbot.waitUntil(task.done, timeout=10_000)
    assert window.reporter.reported == []
    qtbot.waitUntil(lambda: status.text() == ConnState.READY.label, timeout=5000)


def test_copy_puts_selected_rows_as_tsv(qtbot, window, sandbox):
    """Ctrl+C on selected rows copies them as tab-separated text, columns as shown."""
    connect(window, sandbox)
    wait_loaded(qtbot, window)
    view = table(window, "buildings")
    window.resource_tabs.setCurrentWidget(window.tabs["buildings"])
    view.selectRow(0)
    view.setFocus()
    qtbot.keyClick(view, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
    text = QGuiApplication.clipboard().text()
    first_name = view.model().index(0, 0).data()
    assert text.split("\t")[0] == first_name
    assert "\n" not in text


def test_export_writes_the_rows_shown(qtbot, window, sandbox, tmp_path, qasync_loop):
    """Export writes the tab's visible rows (after search) to the chosen file, by name."""
    import csv

    connect(window, sandbox)
    wait_loaded(qtbot, window)
    model = table(window, "buildings").model()
    model.set_search(sandbox.data.visible("sites")[0]["name"])
    target = tmp_path / "buildings.csv"
    assert run_task(qasync_loop, qtbot, window.export_tab("buildings", str(target)))
    with target.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["Building"] for r in rows] == [r["name"] for r in model.visible_rows()]
    assert rows


def test_switching_connection_reloads_every_tab(qtbot, window, sandbox):
    """Choosing another saved connection empties the tabs and loads the new one."""
    from makini_desktop.sandbox.server import SandboxConfig, SandboxServer

    other = SandboxServer(SandboxConfig(scale="small", seed=7, tokens=(TOKEN,))).start()
    try:
        first = window.profiles.add("First", sandbox.url)
        second = window.profiles.add("Second", other.url)
        window.tokens.set(first.id, TOKEN)
        window.tokens.set(second.id, TOKEN)
        window.activate_profile(first.id)
        wait_loaded(qtbot, window)
        switcher = window.connection_switcher
        index = switcher.findData(second.id)
        switcher.setCurrentIndex(index)
        switcher.activated.emit(index)
        qtbot.waitUntil(lambda: window.workspace.info.name == "Second")
        wait_loaded(qtbot, window)
        assert table(window, "assets").model().rowCount() == len(other.data.visible("assets"))
        assert window.profiles.active_id == second.id
        assert "Second" in window.windowTitle()
    finally:
        other.stop()


def test_building_filter_narrows_every_tab(qtbot, window, sandbox):
    """Choosing a building shows only its rows in every tab."""
    connect(window, sandbox)
    wait_loaded(qtbot, window)
    combo = window.building_filter
    assert combo.count() == len(sandbox.data.visible("sites")) + 1
    combo.setCurrentIndex(1)
    key = combo.currentData()
    assets = table(window, "assets").model()
    expected = [r for r in sandbox.data.visible("assets") if r.get("siteKey") == key]
    assert assets.rowCount() == len(expected)
    combo.setCurrentIndex(0)
    assert assets.rowCount() == len(sandbox.data.visible("assets"))


def test_cached_rows_show_before_the_network(qtbot, window, sandbox, qasync_loop):
    """With the server down, a restart shows the cached rows, marked Offline, and no dialog."""
    info = connect(window, sandbox)
    wait_loaded(qtbot, window)
    count = table(window, "assets").model().rowCount()
    run_task(qasync_loop, qtbot, window.workspace.close())
    sandbox.stop()
    window.open_connection(info, TOKEN)
    wait_loaded(qtbot, window)
    assert table(window, "assets").model().rowCount() == count
    assert window.workspace.tabs["assets"].status.text().startswith(("Cached", "Offline"))
    assert window.findChild(QLabel, "syncStatus").text() == ConnState.OFFLINE.label
    assert window.workspace.tabs["assets"].status.text().startswith("Offline — cached data")
    assert window.reporter.open_dialogs() == []  # cached rows shown: the status bar says it


def test_clicking_a_header_sorts_by_native_values(qtbot, window, sandbox):
    """Clicking Capacity sorts spaces by number, and again sorts them the other way."""
    connect(window, sandbox)
    wait_loaded(qtbot, window)
    window.resource_tabs.setCurrentWidget(window.tabs["spaces"])
    view = table(window, "spaces")
    model = view.model()
    column = [c.id for c in res.SPACES_VIEW.columns].index("capacity")
    header = view.horizontalHeader()
    x = header.sectionViewportPosition(column) + header.sectionSize(column) // 2
    pos = header.rect().center()
    pos.setX(x)

    def capacities() -> list[float]:
        keys = [model.index(r, column).data(SortRole) for r in range(model.rowCount())]
        return [k[1] for k in keys if k[0] == 0]

    qtbot.mouseClick(header.viewport(), Qt.MouseButton.LeftButton, pos=pos)
    qtbot.waitUntil(lambda: model.sort_column == column and not view.sort_pending)
    assert capacities() == sorted(capacities()) and len(set(capacities())) > 1
    qtbot.mouseClick(header.viewport(), Qt.MouseButton.LeftButton, pos=pos)
    qtbot.waitUntil(lambda: model.sort_order == Qt.SortOrder.DescendingOrder)
    assert capacities() == sorted(capacities(), reverse=True)


def test_export_says_how_many_cells_it_had_to_change(qtbot, window, sandbox, tmp_path,
                                                     qasync_loop):
    """Exporting rows with lone surrogates tells the user how many cells were replaced."""
    import csv

    sandbox.set_faults(["surrogate"])
    connect(window, sandbox)
    wait_loaded(qtbot, window)
    target = tmp_path / "buildings.csv"
    assert run_task(qasync_loop, qtbot, window.export_tab("buildings", str(target)))
    with target.open(encoding="utf-8-sig", newline="") as fh:
        changed = sum(1 for row in csv.reader(fh) for cell in row
                      if "\N{REPLACEMENT CHARACTER}" in cell)
    assert changed > 0
    message = window.statusBar().currentMessage()
    assert message.startswith("Exported ")
    assert f"{changed:,} cells had characters CSV cannot hold" in message


def _half_filled_manager(qtbot, window, name: str, url: str = "", token: str = ""):
    from PySide6.QtWidgets import QLineEdit

    dialog = window.show_connections()
    qtbot.waitUntil(dialog.isVisible)
    for field_name, text in (("nameField", name), ("baseUrlField", url), ("tokenField", token)):
        field = dialog.findChild(QLineEdit, field_name)
        field.clear()
        if text:
            qtbot.keyClicks(field, text)
    return dialog


def _quit_question(qtbot, window):
    from PySide6.QtWidgets import QMessageBox

    window.quit_action.trigger()
    box = window.connection_dialog.findChild(QMessageBox, "unsavedChangesBox")
    assert box is not None
    qtbot.waitUntil(box.isVisible)
    return box


def test_quitting_with_a_half_filled_connection_cancel_keeps_the_app(qtbot, window):
    """Quit while the manager holds typed text asks first; Cancel keeps the app and the text."""
    from PySide6.QtWidgets import QLineEdit, QMessageBox

    dialog = _half_filled_manager(qtbot, window, "Head office")
    box = _quit_question(qtbot, window)
    assert window.isVisible()
    box.button(QMessageBox.StandardButton.Cancel).click()
    qtbot.waitUntil(lambda: not box.isVisible())
    assert window.isVisible() and dialog.isVisible()
    assert dialog.findChild(QLineEdit, "nameField").text() == "Head office"


def test_quitting_with_a_half_filled_connection_discard_quits(qtbot, window):
    """Discard in the quit question closes the app and saves nothing."""
    from PySide6.QtWidgets import QMessageBox

    _half_filled_manager(qtbot, window, "Head office")
    box = _quit_question(qtbot, window)
    with qtbot.waitSignal(window.sig_closed, timeout=5000):
        box.button(QMessageBox.StandardButton.Discard).click()
    assert not window.isVisible()
    assert window.profiles.list() == []


def test_quitting_with_a_new_connection_save_saves_then_quits(qtbot, window, sandbox):
    """Save in the quit question stores the connection and then closes the app."""
    from PySide6.QtWidgets import QMessageBox

    _half_filled_manager(qtbot, window, "Head office", sandbox.url, TOKEN)
    box = _quit_question(qtbot, window)
    with qtbot.waitSignal(window.sig_closed, timeout=5000):
        box.button(QMessageBox.StandardButton.Save).click()
    assert not window.isVisible()
    assert [p.name for p in window.profiles.list()] == ["Head office"]


def test_quitting_when_save_fails_keeps_the_app(qtbot, window):
    """Save in the quit question with an unusable form keeps the app open with the text."""
    from PySide6.QtWidgets import QMessageBox

    dialog = _half_filled_manager(qtbot, window, "Head office", "http://remote.example.com")
    box = _quit_question(qtbot, window)
    box.button(QMessageBox.StandardButton.Save).click()
    qtbot.waitUntil(lambda: not box.isVisible())
    assert window.isVisible() and dialog.isVisible()
    assert window.profiles.list() == []


def test_first_connection_saved_in_the_manager_is_opened(qtbot, window, sandbox):
    """First start: a connection added with its token, saved and the manager closed is the
    one the window opens: its rows load, Refresh works, the box names it."""
    assert window.connection_switcher.currentData() is None
    dialog = _half_filled_manager(qtbot, window, "Head office", sandbox.url, TOKEN)
    qtbot.mouseClick(dialog.findChild(QPushButton, "saveButton"), Qt.MouseButton.LeftButton)
    qtbot.mouseClick(dialog.findChild(QPushButton, "closeButton"), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not dialog.isVisible())
    wait_loaded(qtbot, window)
    profile = window.profiles.find_by_name("Head office")
    assert window.workspace.info is not None
    assert window.workspace.info.profile_id == profile.id
    assert window.profiles.active_id == profile.id
    assert window.connection_label.text() == "Head office"
    assert window.connection_switcher.currentText() == "Head office"
    assert window.connection_switcher.currentData() == profile.id
    assert window.refresh_action.isEnabled()
    assets = expected_rows(sandbox, res.ASSETS_VIEW)
    assert table(window, "assets").model().rowCount() == len(assets)


def test_connection_box_never_names_a_connection_that_is_not_open(qtbot, tmp_path, sandbox):
    """Saved connections but none open: the box asks to choose one instead of naming one."""
    profiles = ProfileStore()
    profiles.add("Head office", sandbox.url)
    settings = QSettings(str(tmp_path / "other.ini"), QSettings.Format.IniFormat)
    win = MainWindow(profiles, TokenStore(), settings=settings)
    qtbot.addWidget(win)
    switcher = win.connection_switcher
    assert win.workspace.info is None
    assert switcher.currentText() == "Choose a connection…"
    assert switcher.currentData() is None
    assert [switcher.itemText(i) for i in range(switcher.count())] == [
        "Choose a connection…", "Head office"]


def test_a_demo_start_replaces_what_the_last_demo_left_in_the_cache(
    qtbot, qasync_loop, make_window, sandbox
):
    """Each demo start is a new sandbox with fresh sample data; the cache still holds the
    last one's lists (a move approved there). They are shown first, then replaced whole:
    a refresh of what changed since would keep the approval, which the new server never
    had, under "Up to date"."""
    from makini_desktop.store.cache import Cache
    from tests.helpers.qt import quit_window

    info = ConnectionInfo("Demo", sandbox.url, "it-demo-restart", demo=True)
    first = make_window()
    first.open_connection(info, TOKEN)
    wait_loaded(qtbot, first)
    quit_window(qtbot, qasync_loop, first)
    move = next(m for m in sandbox.data.visible("moves") if m["status"] == "pending")
    with Cache.open_for(info.cache_key) as cache:  # what the last demo's session left
        kept = cache.dataset_info("moves")
        assert kept is not None and kept.watermark and kept.last_sync
        cache.apply_changes("moves", [dict(move, status="approved")], watermark=kept.watermark,
                            synced_at=kept.last_sync, server_total=kept.server_total)

    again = make_window()
    again.open_connection(info, TOKEN)
    model = again.tabs["moves"].model
    qtbot.waitUntil(lambda: model.row_by_key(str(move["key"])) is not None)
    wait_loaded(qtbot, again)
    row = model.row_by_key(str(move["key"]))
    assert row is not None and row["status"] == "pending"
    assert model.total == len(sandbox.data.visible("moves"))


def test_the_box_goes_back_to_the_demo_after_another_connection(qtbot, window, sandbox):
    """The demo is not a saved connection; once another is opened, the box still lists it
    (first) and choosing it opens it again, its token kept in memory only."""
    from makini_desktop.sandbox.server import SandboxConfig, SandboxServer

    other = SandboxServer(SandboxConfig(scale="small", seed=7, tokens=(TOKEN,))).start()
    try:
        demo = ConnectionInfo("Demo (sandbox)", sandbox.url, "it-demo-back", demo=True)
        window.open_connection(demo, TOKEN)
        wait_loaded(qtbot, window)
        saved = window.profiles.add("Head office", other.url)
        window.tokens.set(saved.id, TOKEN)
        window.activate_profile(saved.id)
        qtbot.waitUntil(lambda: window.workspace.info.name == "Head office")
        wait_loaded(qtbot, window)
        switcher = window.connection_switcher
        assert [switcher.itemText(i) for i in range(switcher.count())] == [
            "Demo (sandbox)", "Head office"]
        assert switcher.currentText() == "Head office"
        switcher.setCurrentIndex(0)
        switcher.activated.emit(0)
        qtbot.waitUntil(lambda: window.workspace.info.name == "Demo (sandbox)")
        wait_loaded(qtbot, window)
        assert table(window, "assets").model().rowCount() == len(
            sandbox.data.visible("assets"))
        assert switcher.currentText() == "Demo (sandbox)" and switcher.count() == 2
        assert not window.demo_badge.isHidden()  # the window says it is the demo again
    finally:
        other.stop()
