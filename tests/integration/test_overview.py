"""The Overview tab against the sandbox over loopback: its figures equal the sandbox's
(all buildings and one), a click opens the matching list, the roster PDF names everyone on
site, the overview exports, and it follows the lists and works offline."""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, datetime
from typing import Any

import pytest
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QComboBox, QFileDialog, QToolButton

from makini_desktop.sync.session import ConnectionInfo
from makini_desktop.ui.main_window import MainWindow
from makini_desktop.ui.resource_tab import ResourceTab
from tests.helpers import overview_expect as expect
from tests.helpers.qt import run_task, wait_loaded

pypdf = pytest.importorskip("pypdf")

TOKEN = "sandbox-token"


def open_loaded(qtbot, window: MainWindow, sandbox) -> Any:
    window.open_connection(ConnectionInfo("Sandbox", sandbox.url, "it-overview"), TOKEN)
    wait_loaded(qtbot, window)
    return window.overview


def current(qtbot, loop, overview) -> Any:
    return run_task(loop, qtbot, overview.ensure_current())


def ints(table) -> list[list[Any]]:
    """The table's cells, counts as ints (whatever the locale's digit grouping)."""
    out = []
    for row in table.cells():
        out.append([int(re.sub(r"\D", "", c)) if re.fullmatch(r"[\d,.\s\u00a0\u202f]+", c)
                    else c for c in row])
    return out


def pdf_text(path) -> str:
    """The PDF's words as a reader finds them (ligatures such as "ﬁ" read as "fi")."""
    reader = pypdf.PdfReader(str(path))
    text = " ".join(page.extract_text() for page in reader.pages)
    return " ".join(unicodedata.normalize("NFKC", text).split())


def choose_building(window: MainWindow, key: str) -> None:
    combo = window.building_filter
    combo.setCurrentIndex(combo.findData(key))


def test_overview_is_the_first_tab(qtbot, window):
    """The Overview is the first tab, named overviewTab, with every chart and table twin."""
    assert window.resource_tabs.widget(0) is window.overview
    assert window.overview.objectName() == "overviewTab"
    assert window.resource_tabs.tabText(0) == "Overview"
    for name in ("occupancy", "stack", "visitorsToday", "movesPipeline", "assetsAudit"):
        assert window.findChild(object, f"{name}Chart") is not None, name
        assert window.findChild(object, f"{name}Table") is not None, name


def test_figures_match_the_sandbox_for_all_buildings(qtbot, qasync_loop, window, sandbox):
    """Every table twin of the overview holds the figures computed from the sandbox's
    records, for all buildings."""
    overview = open_loaded(qtbot, window, sandbox)
    figures = current(qtbot, qasync_loop, overview)
    data, now = sandbox.data, figures.now
    want = expect.buildings(data)
    rows = ints(overview.occupancy_table)
    got = {r[0]: [r[1], r[2], r[5], r[6]] for r in rows if r[0] != "All buildings"}
    assert got == {k: [v[0], v[1], v[2], v[3]] for k, v in want.items()}
    assert [r[3] for r in rows if r[0] != "All buildings"] == [
        want[r[0]][0] - want[r[0]][1] for r in rows if r[0] != "All buildings"]
    assert rows[-1][1] == sum(v[0] for v in want.values())
    visitors = expect.visitors(data, now)
    assert {r[1] + r[2] for r in ints(overview.visitors_table)} >= {0}
    hours = {int(r[0][:2]): (r[1], r[2]) for r in ints(overview.visitors_table)}
    assert hours == {h: v for h, v in visitors["by_hour"].items() if h in hours}
    assert sum(e + a for e, a in visitors["by_hour"].values()) == sum(
        e + a for e, a in hours.values())
    assert [r[1] for r in ints(overview.visitors_status_table)] == [
        visitors["by_status"][k] for k in ("expected", "on_site", "left", "no_show")]
    moves = expect.moves(data, now)
    assert {r[0]: r[1] for r in ints(overview.moves_table) if r[1]} == {
        k.replace("_", " ").capitalize(): v for k, v in moves["by_status"].items()}
    assert [r[1] for r in ints(overview.moves_day_table)] == list(moves["by_day"].values())
    assets = expect.assets(data, now)
    got_assets = {r[0]: (r[1], r[2]) for r in ints(overview.assets_table)}
    assert got_assets.pop("All categories") == (
        sum(n for n, _s in assets.values()), sum(s for _n, s in assets.values()))
    assert got_assets == assets
    # A building's bar shows its floors in the stack beside it.
    last = overview.occupancy_chart.bars[-1]
    overview.occupancy_chart.activate(last.id, "occupied")
    assert overview.stack_building.currentData() == last.id
    assert [(r[0], r[2], r[3]) for r in ints(overview.stack_table)] == expect.stack(
        data, last.id)


def test_figures_match_the_sandbox_for_one_building(qtbot, qasync_loop, window, sandbox):
    """With one building chosen, the occupancy, the stack (top floor first), visitors,
    moves and assets are that building's."""
    overview = open_loaded(qtbot, window, sandbox)
    site = sandbox.data.sites[-1]
    choose_building(window, site["key"])
    figures = current(qtbot, qasync_loop, overview)
    assert figures.building == site["key"]
    data, now = sandbox.data, figures.now
    occ = expect.buildings(data, site["key"])[site["name"]]
    assert [r[:7] for r in ints(overview.occupancy_table)] == [
        [site["name"], occ[0], occ[1], occ[0] - occ[1],
         f"{100 * occ[1] / occ[0]:.1f} %", occ[2], occ[3]]]
    assert [(r[0], r[2], r[3]) for r in ints(overview.stack_table)] == expect.stack(
        data, site["key"])
    visitors = expect.visitors(data, now, site["key"])
    assert [r[1] for r in ints(overview.visitors_status_table)] == [
        visitors["by_status"][k] for k in ("expected", "on_site", "left", "no_show")]
    moves = expect.moves(data, now, site["key"])
    assert sum(r[1] for r in ints(overview.moves_table)) == sum(moves["by_status"].values())
    assert [r[1] for r in ints(overview.moves_day_table)] == list(moves["by_day"].values())
    assets = expect.assets(data, now, site["key"])
    got = {r[0]: (r[1], r[2]) for r in ints(overview.assets_table)}
    got.pop("All categories")
    assert got == assets
    assert "Stack of " + site["name"] in overview.cards["stack"].heading.text()


def test_a_floors_vacant_part_opens_spaces_filtered(qtbot, qasync_loop, window, sandbox,
                                                    monkeypatch):
    """A click on a floor's vacant seats opens the Spaces tab filtered to that floor and
    vacant only; "on site" opens the Visitors tab's "On site now"; a move status opens the
    Moves tab filtered to it."""
    overview = open_loaded(qtbot, window, sandbox)
    site = sandbox.data.sites[0]
    choose_building(window, site["key"])
    current(qtbot, qasync_loop, overview)
    calls: dict[str, list[dict[str, str]]] = {}
    real = hasattr(ResourceTab, "apply_filter_state")
    for name in ("spaces", "visitors", "moves"):
        tab = window.tabs[name]
        if not real:  # the filters are built elsewhere: record what the router asks for
            monkeypatch.setattr(tab, "apply_filter_state",
                                lambda state, n=name: calls.setdefault(n, []).append(state),
                                raising=False)
    chart = overview.stack_chart
    floor = chart.bars[0]  # the top floor
    assert chart.focus_target(floor.id, "vacant")
    chart.activate(*chart.focused())
    assert window.resource_tabs.currentWidget() is window.tabs["spaces"]
    vacant = [r for r in sandbox.data.locations if r.get("parentKey") == floor.id
              and r["type"] in expect.SEATS and not r["occupied"]]
    if real:
        qtbot.waitUntil(lambda: window.tabs["spaces"].model.rowCount() == len(vacant))
    else:
        assert calls["spaces"] == [{"floor": floor.id, "vacancy": "vacant"}]
        assert vacant  # the click-through has rows to show

    overview.visitors_status_chart.activate("on_site", "on_site")
    assert window.resource_tabs.currentWidget() is window.tabs["visitors"]
    on_site = [v for v in sandbox.data.visits if v["status"] == "checked_in"
               and v["siteKey"] == site["key"]]
    if real:
        selector = window.findChild(QComboBox, "visitorsViewSelector")
        assert selector is None or selector.currentText() == "On site now"
        qtbot.waitUntil(lambda: window.tabs["visitors"].model.rowCount() == len(on_site))
    else:
        assert calls["visitors"] == [{"status": "checked_in"}]
    overview.moves_chart.activate("pending", "pending")
    assert window.resource_tabs.currentWidget() is window.tabs["moves"]
    pending = [m for m in sandbox.data.moves if m["status"] == "pending"
               and m["siteKey"] == site["key"]]
    if real:
        qtbot.waitUntil(lambda: window.tabs["moves"].model.rowCount() == len(pending))
    else:
        assert calls["moves"] == [{"status": "pending"}]
    if real:  # a category's bar: the Assets tab, that category (the search's field term)
        category = overview.assets_chart.bars[0].id
        overview.assets_chart.activate(category, "not_audited")
        assert window.resource_tabs.currentWidget() is window.tabs["assets"]
        count = sum(1 for a in sandbox.data.assets if a["categoryName"] == category
                    and a["siteKey"] == site["key"])
        qtbot.waitUntil(lambda: window.tabs["assets"].model.rowCount() == count)


def test_the_overview_follows_a_list_change(qtbot, qasync_loop, window, sandbox):
    """A visitor checked in (a change to the Visitors list) is counted on site at once."""
    overview = open_loaded(qtbot, window, sandbox)
    window.resource_tabs.setCurrentWidget(overview)
    figures = current(qtbot, qasync_loop, overview)
    before = figures.visitors.by_status["on_site"]
    model = window.workspace.models["visitors"]
    row = next(r for r in model.all_rows() if r["status"] == "expected")
    changed = dict(row, status="checked_in", checkedInAt=datetime.now(UTC).strftime(
        "%Y-%m-%dT%H:%M:%SZ"), updatedAt="2099-01-01T00:00:00Z")
    model.apply_changes([changed], [])
    qtbot.waitUntil(lambda: ints(overview.visitors_status_table)[1][1] == before + 1)


def test_freshness_uses_the_tabs_words(qtbot, qasync_loop, window, sandbox):
    """The overview says how fresh its data is, in the words the tabs use."""
    overview = open_loaded(qtbot, window, sandbox)
    texts = {window.workspace.tabs[n].status.text() for n in ("spaces", "visitors")}
    assert overview.freshness.text() in texts
    assert "Visitors:" in overview.freshness.toolTip()


def test_roster_pdf_names_everyone_on_site(qtbot, qasync_loop, window, sandbox, tmp_path):
    """Save on-site roster as PDF (its file dialog) writes a PDF whose text names every
    visitor checked in, with their companies; offline too."""
    open_loaded(qtbot, window, sandbox)
    button = window.tabs["visitors"].findChild(QToolButton, "visitorsSaveRosterPdfButton")
    assert button is not None and button.defaultAction().objectName() == "saveRosterPdfAction"
    names = expect.on_site_names(sandbox.data)
    assert names
    for offline, path in ((False, tmp_path / "roster.pdf"), (True, tmp_path / "offline.pdf")):
        window.work_offline_action.setChecked(offline)
        action = window.findChild(object, "saveRosterPdfAction")
        action.trigger()
        dialog = window.findChild(QFileDialog, "rosterPdfDialog")
        qtbot.waitUntil(dialog.isVisible)
        dialog.selectFile(str(path))
        dialog.accept()
        qtbot.waitUntil(path.exists)
        text = pdf_text(path)
        missing = [n for n in names if n not in text]
        assert missing == []
        companies = {v["company"] for v in sandbox.data.visits
                     if v["status"] == "checked_in" and v["company"]}
        assert [c for c in companies if c not in text] == []
        assert "Data last confirmed by the server" in text
        qtbot.waitUntil(lambda: window.findChild(QFileDialog, "rosterPdfDialog") is None)


def test_overview_exports_png_and_pdf(qtbot, qasync_loop, window, sandbox, tmp_path):
    """The overview saves as a PNG picture and as a PDF whose text has its figures."""
    overview = open_loaded(qtbot, window, sandbox)
    actions = overview.overview_actions
    assert window.findChild(object, "exportOverviewAction") is actions.export_action
    png, pdf = tmp_path / "overview.png", tmp_path / "overview.pdf"
    assert run_task(qasync_loop, qtbot, actions.export_overview(str(png)))
    image = QImage(str(png))
    assert not image.isNull() and image.width() > 400
    assert run_task(qasync_loop, qtbot, actions.export_overview(str(pdf)))
    text = pdf_text(pdf)
    assert "Occupancy" in text and "Stack of" in text
    assert not run_task(qasync_loop, qtbot,
                        actions.export_overview(str(tmp_path / "no" / "such" / "x.png")))


def test_the_overview_works_offline_from_the_cache(qtbot, qasync_loop, make_window, sandbox):
    """Started again with the server gone, the overview counts the cached rows: the same
    figures, and it says the data is cached."""
    first = make_window()
    open_loaded(qtbot, first, sandbox)
    url = sandbox.url
    sandbox.stop()
    again = make_window()
    again.open_connection(ConnectionInfo("Sandbox", url, "it-overview"), TOKEN)
    wait_loaded(qtbot, again)
    overview = again.overview
    qtbot.waitUntil(lambda: again.workspace.models["assets"].total == len(sandbox.data.assets))
    figures = current(qtbot, qasync_loop, overview)
    data, now = sandbox.data, figures.now
    assert [r[1] for r in ints(overview.visitors_status_table)] == [
        expect.visitors(data, now)["by_status"][k]
        for k in ("expected", "on_site", "left", "no_show")]
    assert figures.occupancy.seats == sum(v[0] for v in expect.buildings(data).values())
    assert "cached" in overview.freshness.text().lower() or "offline" in \
        overview.freshness.text().lower()


def test_print_actions_open_the_print_dialog(qtbot, window):
    """Print on-site roster… and Print overview… open Qt's print dialog (without blocking)."""
    from PySide6.QtPrintSupport import QPrintDialog

    for action_name, dialog_name in (("printRosterAction", "rosterPrintDialog"),
                                     ("printOverviewAction", "overviewPrintDialog")):
        window.findChild(object, action_name).trigger()
        dialog = window.findChild(QPrintDialog, dialog_name)
        qtbot.waitUntil(dialog.isVisible)
        dialog.reject()
        qtbot.waitUntil(lambda n=dialog_name: window.findChild(QPrintDialog, n) is None)


def test_on_the_overview_refresh_fetches_every_list_and_export_saves_the_overview(
        qtbot, window, sandbox):
    """With the Overview shown, F5 asks the server for every list it counts, Export opens
    the overview's own export, and Find and the saved-view actions (one list's) are off."""
    open_loaded(qtbot, window, sandbox)
    window.resource_tabs.setCurrentWidget(window.overview)
    sandbox.reset_stats()
    window.refresh_action.trigger()
    paths = [window.tabs[name].view.dataset.path
             for name in ("spaces", "assets", "moves", "visitors")]

    def asked(path: str) -> bool:
        return any(p.startswith(path) for _, p, *_ in sandbox.recent_exchanges())

    qtbot.waitUntil(lambda: all(asked(p) for p in paths), timeout=30_000)
    qtbot.waitUntil(lambda: not window.workspace.busy, timeout=30_000)
    assert not window.find_action.isEnabled()
    assert not window.findChild(object, "chooseColumnsAction").isEnabled()
    window.export_action.trigger()
    dialog = window.findChild(QFileDialog, "overviewExportDialog")
    qtbot.waitUntil(dialog.isVisible)
    dialog.reject()
    window.resource_tabs.setCurrentWidget(window.tabs["assets"])  # a list again: all back on
    assert window.find_action.isEnabled()
    assert window.findChild(object, "chooseColumnsAction").isEnabled()


def test_a_change_while_the_overview_is_hidden_is_counted_when_it_shows_again(
        qtbot, qasync_loop, window, sandbox, monkeypatch):
    """Switched away before its recount started, the Overview does not count behind the
    list the user works in (that slowed the list's repaints); shown again, it counts."""
    from makini_desktop.table import overview as ov

    overview = open_loaded(qtbot, window, sandbox)
    window.resource_tabs.setCurrentWidget(overview)
    before = current(qtbot, qasync_loop, overview).visitors.by_status["on_site"]
    counted: list[int] = []
    real = ov.compute
    monkeypatch.setattr(ov, "compute", lambda *a, **k: counted.append(1) or real(*a, **k))
    model = window.workspace.models["visitors"]
    row = next(r for r in model.all_rows() if r["status"] == "expected")
    model.apply_changes([dict(row, status="checked_in", checkedInAt=datetime.now(UTC).strftime(
        "%Y-%m-%dT%H:%M:%SZ"), updatedAt="2099-01-01T00:00:00Z")], [])
    window.resource_tabs.setCurrentWidget(window.tabs["visitors"])  # before the recount
    qtbot.waitUntil(lambda: not overview._debounce.isActive())
    assert overview._dirty and counted == []  # left to count when shown
    window.resource_tabs.setCurrentWidget(overview)
    qtbot.waitUntil(lambda: ints(overview.visitors_status_table)[1][1] == before + 1)
    assert counted


def test_overlapping_figures_of_an_overview_never_shown(qtbot, qasync_loop, tmp_path):
    """Two requests for the figures (an export and a print, say) on a window whose Overview
    was never shown both get figures: the second's compute replaces the first's."""
    import asyncio

    from PySide6.QtCore import QSettings

    from makini_desktop.store.profiles import ProfileStore
    from makini_desktop.store.secrets import TokenStore
    from tests.helpers.qt import quit_window

    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    window = MainWindow(ProfileStore(), TokenStore(), settings=settings)  # not shown
    try:
        assert window.overview.figures is None
        async def twice() -> list:
            return list(await asyncio.gather(window.overview.ensure_current(),
                                             window.overview.ensure_current()))

        both = run_task(qasync_loop, qtbot, twice())
        assert all(f is not None for f in both)
        assert window.overview.figures is both[-1]
    finally:
        quit_window(qtbot, qasync_loop, window)
