"""Filters, search and sorting people expect, in the window against the sandbox.

Every expected value is computed here from the sandbox's own records (``sandbox.data``), with
this file's own simple rules, never through the table code under test.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime, timedelta
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QLabel, QLineEdit

from makini_desktop.api import resources as res
from makini_desktop.sync.session import ConnectionInfo
from makini_desktop.ui.main_window import MainWindow
from makini_desktop.ui.resource_tab import ResourceTab
from tests.helpers.qt import wait_loaded

TOKEN = "sandbox-token"
SEATS = {"workstation", "office", "hoteling_desk"}  # the "types that seat people"


@pytest.fixture
def loaded(qtbot, window, sandbox) -> MainWindow:
    window.open_connection(ConnectionInfo("Sandbox", sandbox.url, "it-find"), TOKEN)
    wait_loaded(qtbot, window)
    return window


def records(sandbox, dataset: str) -> list[dict[str, Any]]:
    return list(sandbox.data.visible(dataset))


def spaces_of(sandbox) -> list[dict[str, Any]]:
    return [r for r in records(sandbox, "locations") if r["type"] != "floor"]


def floors_of(sandbox) -> list[dict[str, Any]]:
    return [r for r in records(sandbox, "locations") if r["type"] == "floor"]


def shown_keys(tab: ResourceTab) -> set[str]:
    model = tab.model
    return {model.key_at(r) for r in range(model.rowCount())}


def combo(window: MainWindow, name: str) -> QComboBox:
    found = window.findChild(QComboBox, name)
    assert found is not None, name
    assert found.accessibleName() == name
    return found


def choose(qtbot, tab: ResourceTab, box: QComboBox, value: str | None) -> None:
    """Pick an entry as a user would (the current index changes), and wait until applied."""
    index = box.findData(value)
    assert index >= 0, (box.objectName(), value)
    box.setCurrentIndex(index)
    qtbot.waitUntil(lambda: not tab.filter_pending)


def choose_building(qtbot, window: MainWindow, key: str | None) -> None:
    box = window.building_filter
    box.setCurrentIndex(box.findData(key))
    qtbot.waitUntil(lambda: all(m.building_filter == key for m in window.workspace.models.values()))


def search(qtbot, tab: ResourceTab, text: str) -> None:
    tab.search.setText(text)
    tab.apply_search_now()
    qtbot.waitUntil(lambda: not tab.search_pending)


def count_text(window: MainWindow, name: str) -> str:
    label = window.findChild(QLabel, f"{name}Count")
    assert label is not None
    return label.text()


# -- filters ----------------------------------------------------------------------------------


def test_spaces_floor_filter_lists_the_buildings_floors_in_level_order(qtbot, loaded, sandbox):
    """With a building chosen, the floor list is All floors then its floors by level; a
    floor shows just its spaces, and the count says "N of M spaces"."""
    site = max(records(sandbox, "sites"), key=lambda s: s["floorsCount"])
    choose_building(qtbot, loaded, site["key"])
    box = combo(loaded, "spacesFloorFilter")
    floors = sorted((f for f in floors_of(sandbox) if f["siteKey"] == site["key"]),
                    key=lambda f: f["level"])
    assert [box.itemText(i) for i in range(box.count())] == ["All floors"] + [
        f["name"] for f in floors]
    tab = loaded.tabs["spaces"]
    level_3 = next(f for f in floors if f["level"] == 3)
    choose(qtbot, tab, box, level_3["key"])
    expected = {s["key"] for s in spaces_of(sandbox) if s["parentKey"] == level_3["key"]}
    assert shown_keys(tab) == expected
    total = len(spaces_of(sandbox))
    assert count_text(loaded, "spaces") == f"{len(expected):,} of {total:,} spaces"
    assert tab.filter_state() == {"floor": level_3["key"]}


def test_vacancy_counts_only_seats_without_an_occupant(qtbot, loaded, sandbox):
    """Vacant: a workstation, office or hoteling desk with no occupant (never a restroom);
    Occupied: someone is assigned. Combined with a floor and a search."""
    tab = loaded.tabs["spaces"]
    vacancy = combo(loaded, "spacesVacancyFilter")
    assert [vacancy.itemText(i) for i in range(vacancy.count())] == ["All", "Vacant", "Occupied"]
    choose(qtbot, tab, vacancy, "vacant")
    spaces = spaces_of(sandbox)
    vacant = {s["key"] for s in spaces
              if s["type"] in SEATS and not s["occupied"] and not s["occupantName"]}
    assert shown_keys(tab) == vacant
    assert not any(s["type"] == "restroom" for s in spaces if s["key"] in shown_keys(tab))
    choose(qtbot, tab, vacancy, "occupied")
    assert shown_keys(tab) == {s["key"] for s in spaces if s["occupied"] or s["occupantName"]}

    choose(qtbot, tab, vacancy, "vacant")
    floor = next(f for f in floors_of(sandbox) if f["level"] == 1)
    choose_building(qtbot, loaded, floor["siteKey"])
    choose(qtbot, tab, combo(loaded, "spacesFloorFilter"), floor["key"])
    search(qtbot, tab, "workstation")
    expected = {s["key"] for s in spaces if s["key"] in vacant and s["parentKey"] == floor["key"]
                and s["type"] == "workstation"}
    assert expected and shown_keys(tab) == expected
    assert count_text(loaded, "spaces") == f"{len(expected):,} of {len(spaces):,} spaces"


def test_spaces_type_filter(qtbot, loaded, sandbox):
    """Type shows the spaces of one type; its list names types, not codes."""
    tab = loaded.tabs["spaces"]
    box = combo(loaded, "spacesTypeFilter")
    assert "Meeting room" in [box.itemText(i) for i in range(box.count())]
    choose(qtbot, tab, box, "meeting_room")
    assert shown_keys(tab) == {s["key"] for s in spaces_of(sandbox) if s["type"] == "meeting_room"}


def test_assets_floor_and_category_filters(qtbot, loaded, sandbox):
    """An asset is on the floor of its space; a category shows that category only."""
    tab = loaded.tabs["assets"]
    assets = records(sandbox, "assets")
    parent = {loc["key"]: loc["parentKey"] for loc in records(sandbox, "locations")}
    floor = next(f for f in floors_of(sandbox) if f["level"] == 2)
    choose_building(qtbot, loaded, floor["siteKey"])
    choose(qtbot, tab, combo(loaded, "assetsFloorFilter"), floor["key"])
    on_floor = {a["key"] for a in assets
                if parent.get(a["locationKey"]) == floor["key"] or a["locationKey"] == floor["key"]}
    assert on_floor and shown_keys(tab) == on_floor

    category = combo(loaded, "assetsCategoryFilter")
    assert category.before_popup is not None
    category.before_popup()  # what showPopup does first: categories are read when it opens
    categories = sorted({a["categoryName"] for a in assets if a["categoryName"]})
    assert sorted(category.itemText(i) for i in range(1, category.count())) == categories
    choose(qtbot, tab, category, "Monitor")
    category_of = {a["key"]: a["categoryName"] for a in assets}
    assert shown_keys(tab) == {k for k in on_floor if category_of[k] == "Monitor"}
    choose(qtbot, tab, combo(loaded, "assetsFloorFilter"), None)
    assert shown_keys(tab) == {a["key"] for a in assets if a["categoryName"] == "Monitor"
                               and a["siteKey"] == floor["siteKey"]}


def test_moves_and_visitors_status_filters(qtbot, loaded, sandbox):
    """Status shows moves (visits) of one status."""
    moves, visitors = loaded.tabs["moves"], loaded.tabs["visitors"]
    choose(qtbot, moves, combo(loaded, "movesStatusFilter"), "pending")
    assert shown_keys(moves) == {m["key"] for m in records(sandbox, "moves")
                                 if m["status"] == "pending"}
    choose(qtbot, visitors, combo(loaded, "visitorsStatusFilter"), "expected")
    assert shown_keys(visitors) == {v["key"] for v in records(sandbox, "visits")
                                    if v["status"] == "expected"}


@pytest.mark.parametrize("choice", ["today", "tomorrow", "this_week", "past_7_days"])
def test_visitors_date_filter_in_local_time(qtbot, loaded, sandbox, choice):
    """Each date choice shows the visits expected in that span of local time."""
    box = combo(loaded, "visitorsDateFilter")
    assert [box.itemText(i) for i in range(box.count())] == [
        "All dates", "Today", "Tomorrow", "This week", "Past 7 days"]
    now = datetime.now().astimezone()
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)

    def local_midnight(days: int) -> datetime:
        return (midnight + timedelta(days=days)).replace(tzinfo=None).astimezone()

    start, end = {
        "today": (local_midnight(0), local_midnight(1)),
        "tomorrow": (local_midnight(1), local_midnight(2)),
        "this_week": (local_midnight(-now.weekday()), local_midnight(7 - now.weekday())),
        "past_7_days": (now - timedelta(days=7), now),
    }[choice]
    tab = loaded.tabs["visitors"]
    choose(qtbot, tab, box, choice)
    expected = {
        v["key"] for v in records(sandbox, "visits")
        if v["expectedAt"] and start <= datetime.fromisoformat(
            v["expectedAt"].replace("Z", "+00:00")) < end
    }
    if choice == "past_7_days":  # "now" moved on between the two computations: allow the edge
        assert len(shown_keys(tab) ^ expected) <= 1
    else:
        assert shown_keys(tab) == expected
    if choice == "today":
        assert expected  # the sandbox always has visits today


def test_filter_state_round_trips_and_signals(qtbot, loaded, sandbox):
    """apply_filter_state sets the combos and the table; filter_state reads them back; the
    tab says when they change; an empty state is All again."""
    tab = loaded.tabs["spaces"]
    floor = next(f for f in floors_of(sandbox) if f["level"] == 2)
    state = {"floor": floor["key"], "vacancy": "vacant", "type": "office"}
    with qtbot.waitSignal(tab.filters_changed) as changed:
        tab.apply_filter_state(state)
    assert changed.args == [state]
    qtbot.waitUntil(lambda: not tab.filter_pending)
    assert tab.filter_state() == state
    assert combo(loaded, "spacesFloorFilter").currentData() == floor["key"]
    assert shown_keys(tab) == {
        s["key"] for s in spaces_of(sandbox) if s["parentKey"] == floor["key"]
        and s["type"] == "office" and not s["occupied"] and not s["occupantName"]}
    tab.apply_filter_state({})
    qtbot.waitUntil(lambda: not tab.filter_pending)
    assert tab.filter_state() == {}
    assert tab.model.rowCount() == len(spaces_of(sandbox))


def test_a_floor_of_another_building_is_dropped_when_the_building_changes(qtbot, loaded, sandbox):
    """Choosing another building empties a floor filter that belongs to the last one."""
    sites = records(sandbox, "sites")
    tab = loaded.tabs["spaces"]
    floor = next(f for f in floors_of(sandbox) if f["siteKey"] == sites[0]["key"])
    choose_building(qtbot, loaded, sites[0]["key"])
    choose(qtbot, tab, combo(loaded, "spacesFloorFilter"), floor["key"])
    choose_building(qtbot, loaded, sites[1]["key"])
    qtbot.waitUntil(lambda: tab.filter_state() == {} and not tab.filter_pending)
    assert shown_keys(tab) == {s["key"] for s in spaces_of(sandbox)
                               if s["siteKey"] == sites[1]["key"]}


def test_filtered_models_pass_the_model_tester(qtbot, qtmodeltester, loaded, sandbox):
    """Every tab's model stays consistent with filters, a search and a sort applied."""
    floor = next(f for f in floors_of(sandbox) if f["level"] == 1)
    states = {"spaces": {"floor": floor["key"], "vacancy": "vacant"},
              "assets": {"floor": floor["key"]}, "moves": {"status": "pending"},
              "visitors": {"date": "this_week"}}
    for name, state in states.items():
        tab = loaded.tabs[name]
        tab.apply_filter_state(state)
        qtbot.waitUntil(lambda tab=tab: not tab.filter_pending)
        tab.model.sort(0, Qt.SortOrder.DescendingOrder)
        qtmodeltester.check(tab.model)


# -- search -----------------------------------------------------------------------------------


def _starts_word(pattern: str, text: str) -> bool:
    return re.search(r"(?<![0-9A-Za-z])" + re.escape(pattern), text) is not None


def test_a_space_code_matches_at_word_starts_only(qtbot, loaded, sandbox):
    """1.001 finds 1.001 and DEN-RIV-1.001, not P1-001 or P1.001 (substring matches)."""
    tab = loaded.tabs["spaces"]
    search(qtbot, tab, "1.001")
    expected = {s["key"] for s in spaces_of(sandbox)
                if _starts_word("1.001", s["name"]) or _starts_word("1.001", s["code"])}
    substring = {s["key"] for s in spaces_of(sandbox) if "1.001" in s["name"] + s["code"]}
    assert expected and expected < substring  # the sandbox has P1.001 parking spaces
    assert shown_keys(tab) == expected


def _fold(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text)
                   if not unicodedata.combining(c)).casefold()


def test_search_ignores_accents_and_case(qtbot, loaded, sandbox):
    """An occupant's name typed without accents (perez for Pérez) finds it."""
    tab = loaded.tabs["spaces"]
    accented = next(s["occupantName"] for s in spaces_of(sandbox)
                    if s["occupantName"] and "é" in s["occupantName"])
    word = next(w for w in accented.split() if "é" in w)
    typed = _fold(word).upper()
    search(qtbot, tab, typed)
    expected = {s["key"] for s in spaces_of(sandbox)
                if any(_fold(w).startswith(_fold(word)) for w in (s["occupantName"] or "").split())
                or any(_fold(w).startswith(_fold(word)) for w in s["name"].split())}
    assert shown_keys(tab) == expected and expected


def test_phrases_fields_and_exclusions(qtbot, loaded, sandbox):
    """"Level 3" as a phrase, floor:3, type:meeting, status:pending, host:<name>, -word."""
    spaces = spaces_of(sandbox)
    floor_name = {f["key"]: f["name"] for f in floors_of(sandbox)}
    tab = loaded.tabs["spaces"]
    search(qtbot, tab, '"Level 3"')
    assert shown_keys(tab) == {s["key"] for s in spaces if floor_name[s["parentKey"]] == "Level 3"}
    search(qtbot, tab, "floor:3")
    assert shown_keys(tab) == {s["key"] for s in spaces
                               if re.search(r"\b3", floor_name[s["parentKey"]])}
    search(qtbot, tab, "type:meeting")
    assert shown_keys(tab) == {s["key"] for s in spaces if s["type"] == "meeting_room"}
    search(qtbot, tab, "type:meeting -board")
    assert shown_keys(tab) == {s["key"] for s in spaces if s["type"] == "meeting_room"
                               and not re.search(r"(?i)\bboard", s["name"] + " " + s["code"])}

    moves = loaded.tabs["moves"]
    search(qtbot, moves, "status:pending")
    assert shown_keys(moves) == {m["key"] for m in records(sandbox, "moves")
                                 if m["status"] == "pending"}
    visits = records(sandbox, "visits")
    host = visits[0]["hostName"].split()[-1]
    visitors = loaded.tabs["visitors"]
    search(qtbot, visitors, f"host:{host.lower()}")
    assert shown_keys(visitors) == {
        v["key"] for v in visits
        if any(_fold(w).startswith(_fold(host)) for w in re.split(r"[\s-]+", v["hostName"] or ""))}


def test_escape_clears_and_the_tooltip_explains(qtbot, loaded):
    """Escape in the search box clears it (and the table shows every row again); the
    tooltip explains the syntax."""
    tab = loaded.tabs["spaces"]
    box = loaded.findChild(QLineEdit, "spacesSearch")
    assert "floor:3" in box.toolTip() and "-" in box.toolTip() and "&quot;" not in box.toolTip()
    total = tab.model.rowCount()
    search(qtbot, tab, "workstation")
    assert tab.model.rowCount() < total
    box.setFocus()
    qtbot.keyClick(box, Qt.Key.Key_Escape)
    assert box.text() == ""
    qtbot.waitUntil(lambda: not tab.search_pending and tab.model.rowCount() == total)


def test_ctrl_e_reaches_the_window_from_the_search_box(qtbot, loaded, monkeypatch):
    """Ctrl+E, the window's shortcut, works while the search box has the focus."""
    asked: list[str] = []
    monkeypatch.setattr(loaded.exporter, "ask_path", lambda view: asked.append(view.name))
    loaded.activateWindow()
    loaded.resource_tabs.setCurrentWidget(loaded.tabs["spaces"])  # its box is only seen there
    box = loaded.findChild(QLineEdit, "spacesSearch")
    box.setFocus()
    qtbot.waitUntil(box.hasFocus)
    qtbot.keyClick(box, Qt.Key.Key_E, Qt.KeyboardModifier.ControlModifier)
    assert asked == ["spaces"]


# -- sorting ----------------------------------------------------------------------------------


def test_floors_sort_by_level_and_names_with_accents_sort_with_their_letters(
    qtbot, loaded, sandbox
):
    """Spaces by Floor: parking, ground, Level 1 … in level order both ways; by occupant:
    Pérez with the P's, not after Z."""
    spaces = loaded.tabs["spaces"]
    view = spaces.table
    floor_col = [c.id for c in res.SPACES_VIEW.columns].index("floor")
    view.horizontalHeader().setSortIndicator(floor_col, Qt.SortOrder.AscendingOrder)
    qtbot.waitUntil(lambda: not view.sort_pending)
    level = {f["key"]: f["level"] for f in floors_of(sandbox)}
    by_row = {s["key"]: s for s in spaces_of(sandbox)}
    shown = [level[by_row[spaces.model.key_at(r)]["parentKey"]]
             for r in range(spaces.model.rowCount())]
    assert shown == sorted(shown)
    view.horizontalHeader().setSortIndicator(floor_col, Qt.SortOrder.DescendingOrder)
    qtbot.waitUntil(lambda: not view.sort_pending)
    shown = [level[by_row[spaces.model.key_at(r)]["parentKey"]]
             for r in range(spaces.model.rowCount())]
    assert shown == sorted(shown, reverse=True)  # parking last, not first

    occupant_col = [c.id for c in res.SPACES_VIEW.columns].index("occupant")
    view.horizontalHeader().setSortIndicator(occupant_col, Qt.SortOrder.AscendingOrder)
    qtbot.waitUntil(lambda: not view.sort_pending)
    names = [by_row[spaces.model.key_at(r)]["occupantName"] for r in range(spaces.model.rowCount())]
    named = [n for n in names if n]
    assert any(not n.isascii() for n in named)
    assert [_fold(n) for n in named] == sorted(_fold(n) for n in named)
    assert names[len(named):] == [None] * (len(names) - len(named))  # empty cells last


def test_the_selected_row_stays_in_view_after_a_sort(qtbot, loaded):
    """A selected row is scrolled into view after sorting; with nothing selected the
    table shows its top."""
    tab = loaded.tabs["spaces"]
    loaded.resource_tabs.setCurrentWidget(tab)  # the Overview is the first tab
    view = tab.table
    loaded.resize(1000, 500)
    qtbot.waitUntil(lambda: view.viewport().height() > 100)
    model = tab.model
    view.selectRow(model.rowCount() // 2)
    key = model.key_at(model.rowCount() // 2)
    view.scrollToTop()
    code_col = [c.id for c in res.SPACES_VIEW.columns].index("code")
    view.horizontalHeader().setSortIndicator(code_col, Qt.SortOrder.DescendingOrder)
    qtbot.waitUntil(lambda: not view.sort_pending)
    row = model.row_of_key(key)
    assert view.selected_rows() == [row]
    rect = view.visualRect(model.index(row, 0))
    assert view.viewport().rect().intersects(rect)

    view.clearSelection()
    view.scrollTo(model.index(model.rowCount() - 1, 0))
    assert view.verticalScrollBar().value() > 0
    view.horizontalHeader().setSortIndicator(code_col, Qt.SortOrder.AscendingOrder)
    qtbot.waitUntil(lambda: not view.sort_pending)
    assert view.verticalScrollBar().value() == 0


def test_filters_are_cleared_when_another_connection_opens(qtbot, loaded, sandbox):
    """Opening a connection starts with every filter on All, as the search is cleared."""
    tab = loaded.tabs["spaces"]
    floor = floors_of(sandbox)[0]
    tab.apply_filter_state({"floor": floor["key"], "type": "office"})
    qtbot.waitUntil(lambda: not tab.filter_pending)
    loaded.open_connection(ConnectionInfo("Again", sandbox.url, "it-find-2"), TOKEN)
    wait_loaded(qtbot, loaded)
    qtbot.waitUntil(lambda: not tab.filter_pending)
    assert tab.filter_state() == {}
    assert tab.model.rowCount() == len(spaces_of(sandbox))
