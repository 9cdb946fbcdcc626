"""Offline review against the real sandbox over loopback: cached start, offline banner, Work
offline, a damaged cache, incremental refresh, and cached rows before the first response."""

from __future__ import annotations

import csv
from datetime import UTC, datetime
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QFrame, QLabel

from makini_desktop.api import resources as res
from makini_desktop.sandbox.server import SandboxConfig, SandboxServer
from makini_desktop.store.cache import Cache, cache_path_for, max_updated_at
from makini_desktop.sync import tab as tab_module
from makini_desktop.sync.session import ConnectionInfo, ConnState
from makini_desktop.ui.controllers import Phase
from makini_desktop.ui.main_window import MainWindow
from tests.helpers.qt import quit_window, run_task, wait_loaded

TOKEN = "sandbox-token"
LOAD_TIMEOUT_MS = 30_000
FAST_PROBES = (0.05, 0.2)
"""Seconds before the first background probe and between the last ones (default 2 and 60)."""



@pytest.fixture
def make_window(make_window):
    """Main windows whose offline probes come quickly."""
    return lambda: make_window(probe_delays=FAST_PROBES)


def connect(window: MainWindow, url: str, key: str = "it-offline") -> ConnectionInfo:
    info = ConnectionInfo("Sandbox", url, key)
    window.open_connection(info, TOKEN)
    return info


def banner(window: MainWindow) -> QFrame:
    found = window.findChild(QFrame, "offlineBanner")
    assert found is not None
    return found


def banner_text(window: MainWindow) -> str:
    return window.findChild(QLabel, "offlineBannerText").text()


def sync_status(window: MainWindow) -> str:
    return window.findChild(QLabel, "syncStatus").text()


def all_up_to_date(window: MainWindow) -> bool:
    return all(t.status.phase is Phase.UP_TO_DATE for t in window.workspace.tabs.values())


def fill_cache(info: ConnectionInfo, data: Any) -> None:
    """Every dataset of the sandbox ``data`` stored in ``info``'s cache, as a full sync does."""
    synced = datetime.now(UTC)
    with Cache.open_for(info.cache_key) as cache:
        for name in res.DATASETS:
            rows = data.visible(name)
            with cache.begin_snapshot(name) as writer:
                writer.add(rows)
                writer.commit(server_total=len(rows), watermark=max_updated_at(rows),
                              synced_at=synced)


def visible_counts(srv: SandboxServer) -> dict[str, int]:
    counts = {}
    for name in res.TAB_VIEWS:
        view = res.VIEWS[name]
        counts[name] = sum(1 for r in srv.data.visible(view.dataset.name) if view.accepts(r))
    return counts


def test_starts_offline_on_cached_rows_and_comes_back_by_itself(
    qtbot, make_window, sandbox, qasync_loop
):
    """Server down: cached rows in every tab under one offline banner; server back: online."""
    first = make_window()
    info = connect(first, sandbox.url)
    wait_loaded(qtbot, first)
    counts = {name: m.rowCount() for name, m in first.workspace.models.items()}
    assert counts == visible_counts(sandbox)
    quit_window(qtbot, qasync_loop, first)
    port = sandbox.port
    sandbox.stop()

    window = make_window()  # the app started again, on a train
    window.open_connection(info, TOKEN)
    qtbot.waitUntil(banner(window).isVisible, timeout=LOAD_TIMEOUT_MS)
    wait_loaded(qtbot, window)
    assert {name: m.rowCount() for name, m in window.workspace.models.items()} == counts
    for tab in window.workspace.tabs.values():
        assert tab.status.text().startswith("Offline — cached data, last synced"), tab.view.name
    assert banner_text(window).startswith("Offline — showing data cached at ")
    assert sync_status(window) == ConnState.OFFLINE.label
    assert window.reporter.open_dialogs() == []
    assert window.reporter.reported == []

    again = SandboxServer(SandboxConfig(port=port, scale="small", seed=42, tokens=(TOKEN,)))
    again.start()
    try:
        qtbot.waitUntil(lambda: not banner(window).isVisible(), timeout=LOAD_TIMEOUT_MS)
        qtbot.waitUntil(lambda: all_up_to_date(window), timeout=LOAD_TIMEOUT_MS)
        qtbot.waitUntil(lambda: sync_status(window) == ConnState.READY.label)
        assert again.stats.requests > 0
        assert window.reporter.open_dialogs() == []
    finally:
        again.stop()


def test_refresh_while_offline_tries_once_and_says_so(qtbot, make_window, sandbox):
    """Refresh while offline makes one attempt; the banner says it is still unreachable."""
    window = make_window()
    connect(window, sandbox.url)
    wait_loaded(qtbot, window)
    sandbox.stop()
    window.workspace.session.connectivity.first_delay = 600  # no background probe here
    window.refresh_action.trigger()  # finds the server gone
    qtbot.waitUntil(banner(window).isVisible, timeout=LOAD_TIMEOUT_MS)
    qtbot.waitUntil(lambda: not window.workspace.busy, timeout=LOAD_TIMEOUT_MS)
    assert window.workspace.probe_failed_at is None
    window.refresh_action.trigger()  # offline now: one probe, no refresh
    assert not window.workspace.busy
    qtbot.waitUntil(lambda: "still unreachable" in banner_text(window), timeout=10_000)
    assert banner_text(window).startswith("Offline — showing data cached at ")
    first_try = window.workspace.probe_failed_at
    window.try_now_button.click()
    qtbot.waitUntil(lambda: window.workspace.probe_failed_at != first_try, timeout=10_000)
    assert window.reporter.open_dialogs() == []
    assert window.reporter.reported == []


def test_work_offline_makes_no_request_and_keeps_every_tab_usable(
    qtbot, make_window, sandbox, qasync_loop, tmp_path
):
    """Work offline: no request reaches the server; search, sort and export work; off refreshes."""
    window = make_window()
    connect(window, sandbox.url)
    wait_loaded(qtbot, window)
    window.work_offline_action.trigger()
    assert window.work_offline_action.isChecked()
    assert banner(window).isVisible()
    assert banner_text(window).startswith("Working offline — showing data cached at ")
    assert sync_status(window) == ConnState.OFFLINE.label
    before = sandbox.stats.requests

    window.resource_tabs.setCurrentWidget(window.tabs["assets"])
    window.refresh_action.trigger()
    window.full_refresh_action.trigger()
    task = window.workspace.refresh_tab("assets", full=True)
    qtbot.waitUntil(task.done)
    assert not window.workspace.busy
    assert all(t.status.phase is Phase.OFFLINE for t in window.workspace.tabs.values())

    tab = window.tabs["assets"]
    model = tab.model
    total = model.rowCount()
    tag = str(model.row_at(0)["tag"])
    assert tag.isascii()
    qtbot.keyClicks(tab.search, tag)
    qtbot.waitUntil(lambda: not tab.search_pending and 0 < model.rowCount() < total)
    column = [c.id for c in res.ASSETS_VIEW.columns].index("serial")
    tab.table.horizontalHeader().setSortIndicator(column, Qt.SortOrder.DescendingOrder)
    qtbot.waitUntil(lambda: not tab.table.sort_pending and model.sort_column == column)
    target = tmp_path / "assets.csv"
    assert run_task(qasync_loop, qtbot, window.export_tab("assets", str(target)))
    with target.open(encoding="utf-8-sig", newline="") as fh:
        exported = [r["Tag"] for r in csv.DictReader(fh)]
    assert exported == [r["tag"] for r in model.visible_rows()] and exported
    assert sandbox.stats.requests == before  # not one request while working offline

    window.work_offline_action.trigger()
    assert not window.work_offline_action.isChecked()
    qtbot.waitUntil(lambda: all_up_to_date(window), timeout=LOAD_TIMEOUT_MS)
    assert not banner(window).isVisible()
    assert sandbox.stats.requests > before
    qtbot.waitUntil(lambda: sync_status(window) == ConnState.READY.label)


def test_work_offline_carries_over_to_the_next_connection(qtbot, make_window, sandbox):
    """With Work offline on, opening a connection shows its cache and makes no request."""
    window = make_window()
    info = connect(window, sandbox.url)
    wait_loaded(qtbot, window)
    counts = {name: m.rowCount() for name, m in window.workspace.models.items()}
    window.work_offline_action.trigger()
    before = sandbox.stats.requests
    window.open_connection(info, TOKEN)
    wait_loaded(qtbot, window)
    assert {name: m.rowCount() for name, m in window.workspace.models.items()} == counts
    assert banner_text(window).startswith("Working offline — showing data cached at ")
    assert sandbox.stats.requests == before


def test_work_offline_is_remembered_when_the_app_starts_again(
    qtbot, qasync_loop, make_window, sandbox
):
    """Like a mail client, the app started again stays offline until the user says so."""
    window = make_window()
    info = connect(window, sandbox.url)
    wait_loaded(qtbot, window)
    window.work_offline_action.trigger()
    quit_window(qtbot, qasync_loop, window)
    before = sandbox.stats.requests
    again = make_window()  # same settings file: the app started again
    assert again.work_offline_action.isChecked()
    again.open_connection(info, TOKEN)
    wait_loaded(qtbot, again)
    assert again.workspace.models["assets"].rowCount() > 0
    assert sandbox.stats.requests == before
    again.work_offline_action.trigger()
    qtbot.waitUntil(lambda: sandbox.stats.requests > before, timeout=LOAD_TIMEOUT_MS)


def test_damaged_cache_is_set_aside_and_rebuilt(qtbot, make_window, sandbox):
    """A corrupt cache file: the app opens, says so once, and loads everything from the server."""
    info = ConnectionInfo("Sandbox", sandbox.url, "it-damaged")
    path = cache_path_for(info.cache_key)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"\x00garbage, not SQLite\xff" * 4096)
    window = make_window()
    notices: list[str] = []
    window.workspace.sig_notice.connect(notices.append)
    window.open_connection(info, TOKEN)
    wait_loaded(qtbot, window)
    assert len(notices) == 1
    assert "damaged" in notices[0]
    notice = window.findChild(QFrame, "cacheNotice")
    assert notice.isVisible()
    assert window.findChild(QLabel, "cacheNoticeText").text() == notices[0]
    counts = {name: m.rowCount() for name, m in window.workspace.models.items()}
    assert counts == visible_counts(sandbox)
    assert list(path.parent.glob(path.name + ".corrupt-*"))
    assert window.reporter.open_dialogs() == []
    window.workspace.refresh_tab("assets", full=True)
    qtbot.waitUntil(lambda: not window.workspace.busy and all_up_to_date(window),
                    timeout=LOAD_TIMEOUT_MS)
    assert len(notices) == 1  # told once


def test_incremental_refresh_matches_the_server_and_full_refresh_on_demand(
    qtbot, make_window, sandbox
):
    """Refresh after the server changed shows exactly its rows; Shift+F5 downloads them all."""
    window = make_window()
    connect(window, sandbox.url)
    wait_loaded(qtbot, window)
    changed = sandbox.mutate("assets", 20, delete_share=0.25)
    window.resource_tabs.setCurrentWidget(window.tabs["assets"])
    controller = window.workspace.tabs["assets"]
    model = controller.model
    window.refresh_action.trigger()
    qtbot.waitUntil(lambda: controller.task.done() and not controller.status.busy,
                    timeout=LOAD_TIMEOUT_MS)
    assert controller.last_result is not None and controller.last_result.mode == "incremental"
    server = {r["key"]: r for r in sandbox.data.visible("assets")}
    assert model.rowCount() == len(server)
    assert {r["key"] for r in model.all_rows()} == set(server)
    owner = [c.id for c in res.ASSETS_VIEW.columns].index("owner")
    kept = [key for key in changed if key in server and server[key].get("ownerName")]
    assert kept
    for key in kept:
        assert model.display_text(model.row_of_key(key), owner) == server[key]["ownerName"]

    window.activateWindow()
    window.full_refresh_action.trigger()  # Shift+F5
    qtbot.waitUntil(lambda: controller.task.done() and not controller.status.busy,
                    timeout=LOAD_TIMEOUT_MS)
    assert controller.last_result.mode == "full"
    assert controller.status.text() == "Up to date"
    assert model.rowCount() == len(server)


def test_cached_rows_show_before_the_first_response(qtbot, make_window, qasync_loop):
    """Thousands of cached rows are on screen, marked Cached, while the server has not answered."""
    srv = SandboxServer(SandboxConfig(scale="medium", seed=42, tokens=(TOKEN,))).start()
    try:
        info = ConnectionInfo("Slow", srv.url, "it-slow")
        fill_cache(info, srv.data)
        srv.set_latency(2000)
        window = make_window()
        window.resource_tabs.setCurrentWidget(window.tabs["assets"])
        window.open_connection(info, TOKEN)
        assets = window.workspace.tabs["assets"]
        expected = len(srv.data.visible("assets"))
        qtbot.waitUntil(lambda: assets.model.rowCount() == expected
                        and assets.status.phase is Phase.CACHED, timeout=10_000)
        assert expected > 1000
        # The tab on screen came first, with the building names it shows already known.
        building = [c.id for c in res.ASSETS_VIEW.columns].index("building")
        sites = {r["name"] for r in srv.data.visible("sites")}
        assert assets.model.display_text(0, building) in sites
        assert srv.stats.requests == 0  # nothing answered yet
        assert window.workspace.integration is None
        assert assets.status.text().startswith("Cached — last synced")
        QApplication.processEvents()
        assert window.tabs["assets"].table.isVisible()
        quit_window(qtbot, qasync_loop, window)
    finally:
        srv.set_latency(0)
        srv.stop()


def _close_when(seen: dict, done: Any) -> Any:
    """Poll until ``done(window)`` holds for the app's main window, note it, close it."""
    from PySide6.QtCore import QTimer

    timer = QTimer()
    timer.setInterval(20)

    def poll() -> None:
        for widget in QApplication.topLevelWidgets():
            if widget.objectName() != "mainWindow" or not widget.isVisible():
                continue
            ws = widget.workspace
            loaded = ws.load_task is not None and ws.load_task.done() and not ws.busy
            if loaded and done(widget):
                seen["rows"] = {n: m.rowCount() for n, m in ws.models.items()}
                seen["status"] = widget.sync_status.text()
                seen["banner"] = banner_text(widget) if banner(widget).isVisible() else None
                seen["dialogs"] = len(widget.reporter.reported)
                timer.stop()
                widget.close()

    timer.timeout.connect(poll)
    timer.start()
    return timer


def test_base_url_with_the_server_down_opens_on_its_cache(qapp, sandbox, monkeypatch):
    """--base-url started while that server is down shows its cached rows and the banner."""
    from makini_desktop import cli

    monkeypatch.setenv("MAKINI_API_TOKEN", TOKEN)
    online: dict = {}
    timer = _close_when(online, lambda w: all_up_to_date(w))
    assert cli.main(["--base-url", sandbox.url]) == 0
    timer.stop()
    assert online["rows"] == visible_counts(sandbox)
    url = sandbox.url
    sandbox.stop()

    offline: dict = {}
    timer = _close_when(offline, lambda w: banner(w).isVisible())
    assert cli.main(["--base-url", url]) == 0
    timer.stop()
    assert offline["rows"] == online["rows"]
    assert offline["banner"].startswith("Offline — showing data cached at ")
    assert offline["status"] == ConnState.OFFLINE.label
    assert offline["dialogs"] == 0

    # Another token on the same URL is another customer: it never sees this cache.
    monkeypatch.setenv("MAKINI_API_TOKEN", "someone-else")
    other: dict = {}
    timer = _close_when(other, lambda w: banner(w).isVisible())
    assert cli.main(["--base-url", url]) == 0
    timer.stop()
    assert sum(other["rows"].values()) == 0
    # Nothing to show: the banner says why it could not connect.
    host = url.removeprefix("http://").rstrip("/")
    assert other["banner"].startswith(
        f"Offline — nothing of this connection is cached yet. Could not connect to {host}: "
        "nothing answers at that address")


def test_connection_dropping_during_a_sync_keeps_the_rows_and_says_offline_once(
    qtbot, make_window, sandbox
):
    """The server going away mid-sync: one banner, no dialog, every tab keeps its rows."""
    window = make_window()
    connect(window, sandbox.url)
    wait_loaded(qtbot, window)
    counts = {name: m.rowCount() for name, m in window.workspace.models.items()}
    port = sandbox.port
    sandbox.set_latency(50)
    for name in res.TAB_VIEWS:
        window.workspace.refresh_tab(name, full=True)
    qtbot.waitUntil(lambda: window.workspace.busy)
    sandbox.stop()
    qtbot.waitUntil(banner(window).isVisible, timeout=LOAD_TIMEOUT_MS)
    qtbot.waitUntil(lambda: not window.workspace.busy, timeout=LOAD_TIMEOUT_MS)
    assert all(t.status.phase is Phase.OFFLINE for t in window.workspace.tabs.values())
    assert {name: m.rowCount() for name, m in window.workspace.models.items()} == counts
    assert window.reporter.reported == []
    assert sync_status(window) == ConnState.OFFLINE.label

    again = SandboxServer(SandboxConfig(port=port, scale="small", seed=42, tokens=(TOKEN,)))
    again.start()
    try:
        qtbot.waitUntil(lambda: all_up_to_date(window), timeout=LOAD_TIMEOUT_MS)
        assert not banner(window).isVisible()
        assert {name: m.rowCount() for name, m in window.workspace.models.items()} == counts
    finally:
        again.stop()


def test_unusable_cache_is_said_once_and_the_app_works_online(qtbot, make_window, sandbox):
    """A cache that cannot be opened at all: one notice, and every tab loads online."""
    info = ConnectionInfo("Sandbox", sandbox.url, "it-unusable")
    cache_path_for(info.cache_key).mkdir(parents=True)  # a folder where the file should be
    window = make_window()
    notices: list[str] = []
    window.workspace.sig_notice.connect(notices.append)
    window.open_connection(info, TOKEN)
    wait_loaded(qtbot, window)
    assert len(notices) == 1
    assert "is a folder" in notices[0]
    assert notices[0].endswith("this connection works online only: nothing is kept for "
                               "offline use.")
    assert window.findChild(QFrame, "cacheNotice").isVisible()
    counts = {name: m.rowCount() for name, m in window.workspace.models.items()}
    assert counts == visible_counts(sandbox)
    assert all_up_to_date(window)
    assert window.reporter.open_dialogs() == []


def test_a_start_from_the_cache_knows_every_floor(qtbot, make_window, qasync_loop,
                                                 monkeypatch):
    """Server not answering, Assets on screen (the names read from the cache): every
    location's floor, building and level are known, as after an online load."""
    # The Spaces tab's first chunk (which also feeds the lookups) holds a few locations only.
    monkeypatch.setattr(tab_module, "CACHE_FIRST_CHUNK", 3)
    srv = SandboxServer(SandboxConfig(scale="small", seed=42, tokens=(TOKEN,))).start()
    try:
        info = ConnectionInfo("Slow", srv.url, "it-slow-floors")
        fill_cache(info, srv.data)
        srv.set_latency(5000)
        window = make_window()
        window.resource_tabs.setCurrentWidget(window.tabs["assets"])
        window.open_connection(info, TOKEN)
        tabs = window.workspace.tabs.values()
        qtbot.waitUntil(lambda: all(t.status.phase is Phase.CACHED for t in tabs),
                        timeout=LOAD_TIMEOUT_MS)
        assert srv.stats.requests == 0  # all of it from the cache
        locations = srv.data.visible("locations")
        floors = [r for r in locations if r["type"] == res.LOCATION_TYPE_FLOOR]
        lookups = window.workspace.lookups
        assert len(floors) > 5
        assert sorted(lookups.floors()) == sorted(r["key"] for r in floors)
        for row in locations:
            floor = row["key"] if row["type"] == res.LOCATION_TYPE_FLOOR else row["parentKey"]
            assert lookups.floor_of(row["key"]) == floor
            assert lookups.site_of(row["key"]) == row["siteKey"]
        assert all(lookups.level(r["key"]) == r["level"] for r in floors)
        # The Spaces rows hold the very strings of the names read (no second copy).
        spaces = window.workspace.models["spaces"].row_index.all_rows()
        assert len(spaces) > 100
        assert all(lookups.name("locations", r["key"]) is r["name"] for r in spaces)
        quit_window(qtbot, qasync_loop, window)
    finally:
        srv.set_latency(0)
        srv.stop()


def test_a_start_from_the_cache_indexes_every_cached_row_for_the_detail_pane(
    qtbot, make_window, qasync_loop
):
    """Offline on a cache of thousands of rows, the related index (what the detail pane
    lists: a space's assets, visits and moves) holds every cached row, not only the first
    chunk each tab painted at once; indexed in the background once the tabs are filled."""
    from makini_desktop.sandbox.data import generate
    from makini_desktop.table.related import BY_LOCATION, RELATIONS

    data = generate("medium", 42)
    info = ConnectionInfo("Down", "http://127.0.0.1:1/", "it-related")  # nothing listens
    fill_cache(info, data)
    window = make_window()
    window.open_connection(info, TOKEN)
    qtbot.waitUntil(banner(window).isVisible, timeout=LOAD_TIMEOUT_MS)
    wait_loaded(qtbot, window)
    related = window.workspace.related
    # Once every tab shows its rows, the workspace indexes them in the background: no
    # read is needed for the index to be whole.
    qtbot.waitUntil(lambda: related.waiting == 0, timeout=LOAD_TIMEOUT_MS)
    for name in RELATIONS:
        if name == res.SITES.name:
            continue
        assert related.count(name) == len(data.visible(name)), name
    assets = data.visible("assets")
    assert len(assets) > 1000
    last = assets[-1]  # far past the first chunk a tab paints at once
    referring = related.referring("assets", BY_LOCATION, last[res.F_LOCATION_KEY])
    assert last[res.F_KEY] in {r[res.F_KEY] for r in referring}
    quit_window(qtbot, qasync_loop, window)
