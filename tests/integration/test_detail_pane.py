"""The detail pane against the sandbox over loopback: fields, other fields, links, history."""

from __future__ import annotations

from collections import Counter
from typing import Any

from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QTableView

from makini_desktop.api.values import format_utc
from makini_desktop.sync.session import ConnectionInfo
from makini_desktop.ui.detail_pane import PlaceRole
from makini_desktop.ui.main_window import MainWindow
from tests.helpers.qt import wait_loaded

TOKEN = "sandbox-token"


def connect(window: MainWindow, srv) -> None:
    window.open_connection(ConnectionInfo("Sandbox", srv.url, "it-detail"), TOKEN)


def table(window: MainWindow, name: str) -> QTableView:
    found = window.findChild(QTableView, f"{name}Table")
    assert found is not None
    return found


def open_record(qtbot, window: MainWindow, view: str, key: str) -> None:
    """Show a tab, select the record's row and press Enter, as a user would."""
    window.resource_tabs.setCurrentWidget(window.tabs[view])
    view_widget = table(window, view)
    row = window.tabs[view].model.row_of_key(key)
    assert row >= 0, f"{key} is not shown in {view}"
    view_widget.setFocus()
    view_widget.selectRow(row)
    qtbot.keyClick(view_widget, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.detail.history.current is not None
                    and window.detail.history.current.key == key)


def related_groups(window: MainWindow) -> dict[str, int]:
    """Heading (without its count) → links under it."""
    out = {}
    for heading, count in window.detail_pane.related_model.groups():
        out[heading.split(" (")[0]] = count
    return out


def link_index(window: MainWindow, group: str, key: str):
    model = window.detail_pane.related_model
    for row in range(model.rowCount()):
        heading = model.index(row, 0)
        if str(heading.data()).startswith(group):
            for child in range(model.rowCount(heading)):
                index = model.index(child, 0, heading)
                place = index.data(PlaceRole)
                if place is not None and place.key == key:
                    return index
    raise AssertionError(f"no link to {key} under {group}")


def fields(window: MainWindow) -> dict[str, str]:
    return dict(window.detail_pane.detail.fields)


def other(window: MainWindow) -> dict[str, str]:
    return dict(window.detail_pane.detail.other)


def _space_with_assets(srv) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    assets = srv.data.visible("assets")
    per_space = Counter(a["locationKey"] for a in assets if a.get("locationKey"))
    spaces = {r["key"]: r for r in srv.data.visible("locations") if r["type"] != "floor"}
    key = next(k for k, n in per_space.most_common() if k in spaces)
    return spaces[key], [a for a in assets if a.get("locationKey") == key]


def test_pane_shows_a_custom_field_under_other_fields(qtbot, window, sandbox):
    """A space's custom fields (cleaning zone, fire warden) appear under Other fields."""
    connect(window, sandbox)
    wait_loaded(qtbot, window)
    space = next(r for r in sandbox.data.visible("locations") if "customFields" in r)
    open_record(qtbot, window, "spaces", space["key"])
    assert window.detail_pane.isVisible()
    shown = other(window)
    custom = space["customFields"]
    assert shown["Cleaning zone"] == custom["cleaningZone"]
    assert shown["Fire warden"] == custom["fireWarden"]
    assert shown["Has AV"] == ("Yes" if custom["hasAV"] else "No")
    known = fields(window)
    assert window.detail_pane.detail.title == space["name"]
    assert window.detail_pane.title_label.text() == space["name"]
    building = next(s for s in sandbox.data.visible("sites") if s["key"] == space["siteKey"])
    assert known["Building"] == building["name"]  # a name, never the key
    unit = {"sqft": "sq ft", "m2": "m²"}[building["areaUnit"]]
    assert known["Area"].endswith(unit)
    assert known["Type"] == space["type"].replace("_", " ").capitalize()
    assert space["key"] not in " ".join(v for k, v in known.items() if k != "Key")


def test_space_related_counts_match_the_sandbox(qtbot, window, sandbox):
    """A space lists its floor, building, the assets in it, its moves and its visits."""
    connect(window, sandbox)
    wait_loaded(qtbot, window)
    space, in_space = _space_with_assets(sandbox)
    key = space["key"]
    moves = [m for m in sandbox.data.visible("moves")
             if any(key in (i.get("fromLocationKey"), i.get("toLocationKey"))
                    for i in m["items"])]
    visits = [v for v in sandbox.data.visible("visits") if v.get("locationKey") == key]
    open_record(qtbot, window, "spaces", key)
    groups = related_groups(window)
    assert groups["Floor"] == 1
    assert groups["Building"] == 1
    assert groups["Assets in this space"] == len(in_space)
    assert groups["Moves involving this space"] == len(moves)
    assert groups["Visits to this space"] == len(visits)
    floor = next(r for r in sandbox.data.visible("locations") if r["key"] == space["parentKey"])
    assert link_index(window, "Floor", floor["key"]).data() == floor["name"]


def test_building_lists_its_floors_and_spaces(qtbot, window, sandbox):
    """A building's related records are its floors (by level) and its spaces."""
    connect(window, sandbox)
    wait_loaded(qtbot, window)
    site = sandbox.data.visible("sites")[0]
    locations = [r for r in sandbox.data.visible("locations") if r["siteKey"] == site["key"]]
    floors = sorted((r for r in locations if r["type"] == "floor"), key=lambda r: r["level"])
    open_record(qtbot, window, "buildings", site["key"])
    groups = related_groups(window)
    assert groups["Floors"] == len(floors)
    assert groups["Spaces"] == len(locations) - len(floors)
    model = window.detail_pane.related_model
    heading = model.index(0, 0)
    shown = [model.index(i, 0, heading).data() for i in range(model.rowCount(heading))]
    assert shown == [f["name"] for f in floors]
    # Spaces come floor by floor, from the lowest level that has any.
    spaces = model.index(1, 0)
    first = model.index(0, 0, spaces).data(PlaceRole)
    levels = {f["key"]: f["level"] for f in floors}
    lowest = min(levels[r["parentKey"]] for r in locations if r["type"] != "floor")
    first_row = next(r for r in locations if r["key"] == first.key)
    assert levels[first_row["parentKey"]] == lowest


def test_move_lists_its_items_with_spaces_and_assets(qtbot, window, sandbox):
    """A move shows each item with its from and to spaces (and asset) as links."""
    connect(window, sandbox)
    wait_loaded(qtbot, window)
    move = next(m for m in sandbox.data.visible("moves")
                if any(i.get("assetKey") for i in m["items"]))
    open_record(qtbot, window, "moves", move["key"])
    assert related_groups(window)["Items"] == len(move["items"])
    item = next(i for i in move["items"] if i.get("assetKey"))
    asset = next(a for a in sandbox.data.visible("assets") if a["key"] == item["assetKey"])
    index = link_index_deep(window, asset["key"])
    assert asset["tag"] in index.data()


def link_index_deep(window: MainWindow, key: str):
    model = window.detail_pane.related_model

    def walk(parent):
        for row in range(model.rowCount(parent)):
            index = model.index(row, 0, parent)
            place = index.data(PlaceRole)
            if place is not None and place.key == key:
                return index
            found = walk(index)
            if found is not None:
                return found
        return None

    found = walk(model.index(-1, -1))
    assert found is not None, f"no link to {key}"
    return found


def test_following_a_link_opens_the_asset_and_back_returns(qtbot, window, sandbox):
    """Space → one of its assets opens the Assets tab on it; Alt+Left goes back, Alt+Right
    forward again, and the mouse's back button goes back too."""
    connect(window, sandbox)
    wait_loaded(qtbot, window)
    space, in_space = _space_with_assets(sandbox)
    asset = in_space[0]
    open_record(qtbot, window, "spaces", space["key"])
    related = window.detail_pane.related
    index = link_index(window, "Assets in this space", asset["key"])
    related.scrollTo(index)
    qtbot.mouseClick(related.viewport(), Qt.MouseButton.LeftButton,
                     pos=related.visualRect(index).center())
    assets_table = table(window, "assets")
    qtbot.waitUntil(lambda: window.current_tab() is window.tabs["assets"])
    assert fields(window)["Tag"] == asset["tag"]
    assert window.tabs["assets"].model.key_at(assets_table.currentIndex().row()) == asset["key"]
    assert window.back_action.isEnabled()

    qtbot.keyClick(assets_table, Qt.Key.Key_Left, Qt.KeyboardModifier.AltModifier)
    qtbot.waitUntil(lambda: window.current_tab() is window.tabs["spaces"])
    assert window.detail_pane.detail.title == space["name"]
    spaces_table = table(window, "spaces")
    assert window.tabs["spaces"].model.key_at(spaces_table.currentIndex().row()) == space["key"]
    assert window.forward_action.isEnabled()

    qtbot.keyClick(spaces_table, Qt.Key.Key_Right, Qt.KeyboardModifier.AltModifier)
    qtbot.waitUntil(lambda: window.current_tab() is window.tabs["assets"])
    assert fields(window)["Tag"] == asset["tag"]

    qtbot.mouseClick(assets_table.viewport(), Qt.MouseButton.BackButton, pos=QPoint(5, 5))
    qtbot.waitUntil(lambda: window.current_tab() is window.tabs["spaces"])
    assert window.detail_pane.detail.title == space["name"]


def test_double_click_opens_the_pane_and_copy_as_text(qtbot, window, sandbox):
    """Double-clicking a row opens the pane; Copy as text puts its fields on the clipboard."""
    connect(window, sandbox)
    wait_loaded(qtbot, window)
    window.resource_tabs.setCurrentWidget(window.tabs["visitors"])
    view = table(window, "visitors")
    model = window.tabs["visitors"].model
    qtbot.waitUntil(lambda: model.rowCount() > 0)
    rect = view.visualRect(model.index(0, 0))
    # A double-click is a press, then a double-click event on the same row.
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.mouseDClick(view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.waitUntil(window.detail_pane.isVisible)
    record = model.row_at(0)
    QGuiApplication.clipboard().clear()
    qtbot.mouseClick(window.detail_pane.copy_button, Qt.MouseButton.LeftButton)
    text = QGuiApplication.clipboard().text()
    assert f"Visitor: {record['visitorName']}" in text
    assert f"Host: {record['hostName']}" in text
    site = next(s for s in sandbox.data.visible("sites") if s["key"] == record["siteKey"])
    assert f"Building: {site['name']}" in text
    assert record["siteKey"] not in text.replace(f"Key: {record['key']}", "")
    # Ctrl+C with the pane focused copies the same text.
    QGuiApplication.clipboard().clear()
    window.detail_pane.related.setFocus()
    qtbot.keyClick(window.detail_pane.related, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
    assert QGuiApplication.clipboard().text() == text


def test_pane_follows_a_change_after_refresh(qtbot, window, sandbox):
    """An asset moved to another space in the source system leaves the first space's list
    and joins the other's once the tab refreshes (the index follows each change)."""
    connect(window, sandbox)
    wait_loaded(qtbot, window)
    space, in_space = _space_with_assets(sandbox)
    asset = dict(in_space[0])
    target = next(r for r in sandbox.data.visible("locations")
                  if r["type"] != "floor" and r["key"] != space["key"])
    asset["locationKey"] = target["key"]
    asset["updatedAt"] = format_utc_stamp(sandbox.data.next_stamp())
    sandbox.data.replace("assets", asset)
    open_record(qtbot, window, "spaces", space["key"])
    assert related_groups(window)["Assets in this space"] == len(in_space)
    task = window.workspace.refresh_tab("assets")
    qtbot.waitUntil(task.done, timeout=20_000)
    qtbot.waitUntil(lambda: related_groups(window)["Assets in this space"] == len(in_space) - 1)
    related = window.workspace.related
    assert asset["key"] in {a["key"] for a in related.referring("assets", "location",
                                                                 target["key"])}


def format_utc_stamp(ts: int) -> str:
    from datetime import UTC, datetime

    return format_utc(datetime.fromtimestamp(ts, UTC))


def test_offline_the_pane_says_it_shows_the_offline_copy(qtbot, make_window, sandbox):
    """Working offline, the pane still shows records and relations from the cache, and
    says where they come from."""
    window = make_window()
    connect(window, sandbox)
    wait_loaded(qtbot, window)
    window.work_offline_action.setChecked(True)
    space, in_space = _space_with_assets(sandbox)
    open_record(qtbot, window, "spaces", space["key"])
    assert window.detail_pane.note_label.text().startswith("Working offline")
    assert related_groups(window)["Assets in this space"] == len(in_space)


def test_a_list_not_loaded_yet_says_so(qtbot, window, sandbox):
    """A space opened while the assets list has not arrived says so instead of "0"."""
    sandbox.set_latency(0)
    connect(window, sandbox)
    wait_loaded(qtbot, window)
    space, _in_space = _space_with_assets(sandbox)
    window.workspace.tabs["assets"].reset()  # as before the first load of the list
    open_record(qtbot, window, "spaces", space["key"])
    headings = [h for h, _n in window.detail_pane.related_model.groups()]
    assert "Assets in this space (not loaded yet)" in headings


def test_view_menu_toggles_the_pane_on_the_selected_row(qtbot, window, sandbox):
    """View → Details pane shows the row selected; it then follows the selection."""
    from PySide6.QtGui import QAction

    connect(window, sandbox)
    wait_loaded(qtbot, window)
    window.resource_tabs.setCurrentWidget(window.tabs["moves"])
    view = table(window, "moves")
    model = window.tabs["moves"].model
    view.selectRow(0)
    action = window.findChild(QAction, "detailPaneAction")
    assert action is not None and action.isCheckable() and not action.isChecked()
    view_menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&View")
    assert action in view_menu.actions()
    assert window.back_action in view_menu.actions()
    action.trigger()
    qtbot.waitUntil(window.detail_pane.isVisible)
    assert window.detail_pane.detail.title == model.row_at(0)["title"]
    view.selectRow(1)
    qtbot.waitUntil(lambda: window.detail_pane.detail.title == model.row_at(1)["title"])
    action.trigger()
    qtbot.waitUntil(lambda: not window.detail_pane.isVisible())


def test_clicking_rows_with_the_pane_open_selects_the_row_clicked(qtbot, window, sandbox):
    """With the pane open, a click on a row low in the table selects that row and the
    table stays where it is: the pane, the toolbar's actions and the highlight agree.
    (The pane used to centre the row it was shown, mid-click, so the release landed on
    another row: Approve greyed out for the pending move the user had clicked.)"""
    connect(window, sandbox)
    wait_loaded(qtbot, window)
    window.resource_tabs.setCurrentWidget(window.tabs["moves"])
    view = table(window, "moves")
    model = window.tabs["moves"].model
    window.detail_pane.show()
    qtbot.waitUntil(window.detail_pane.isVisible)
    view.scrollTo(model.index(40, 0), view.ScrollHint.PositionAtTop)
    for fraction in (0.9, 0.1, 0.75):  # near the bottom, the top, then low again
        y = int(view.viewport().height() * fraction)
        row = view.rowAt(y)
        assert row >= 0
        scrolled = view.verticalScrollBar().value()
        qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(30, y))
        qtbot.waitUntil(lambda r=row: window.detail_pane.detail is not None
                        and window.detail_pane.detail.title == model.row_at(r)["title"])
        assert view.currentIndex().row() == row
        assert [i.row() for i in view.selectionModel().selectedRows()] == [row]
        assert view.verticalScrollBar().value() == scrolled
