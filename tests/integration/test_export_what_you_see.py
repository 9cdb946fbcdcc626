"""File → Export writes the tab as shown; the CLI writes the same human table by default."""

from __future__ import annotations

import csv
import io
import re
from datetime import date, datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook
from PySide6.QtCore import QStandardPaths, Qt

from makini_desktop.api import resources as res
from makini_desktop.cli import main
from makini_desktop.store.views import ViewState, ViewStore
from makini_desktop.sync.session import ConnectionInfo
from makini_desktop.ui.tab_export import LAST_FOLDER_KEY
from tests.helpers.qt import run_task, wait_loaded

TOKEN = "sandbox-token"
KEY = re.compile(r"\b\d{14}\b")
ISO_LOCAL = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d")


def _open(qtbot, window, srv) -> None:
    window.open_connection(ConnectionInfo("Sandbox", srv.url, "it-export"), TOKEN)
    wait_loaded(qtbot, window)


def _assets_tab_as_arranged(qtbot, window, sandbox):
    tab = window.tabs["assets"]
    tab.table.show_columns(["tag", "name", "building", "location", "audited", "criticality"])
    tab.search.setText("laptop")
    tab.apply_search_now()
    tag = [c.id for c in res.ASSETS_VIEW.columns].index("tag")
    tab.table.horizontalHeader().setSortIndicator(tag, Qt.SortOrder.DescendingOrder)
    qtbot.waitUntil(lambda: not tab.search_pending and not tab.table.sort_pending
                    and tab.model.sort_column == tag)
    return tab


def test_xlsx_export_is_the_table_as_shown(qtbot, window, sandbox, tmp_path, qasync_loop):
    """Headings and order are the table's, names not keys, labels not codes, and the
    audit times are spreadsheet date-times."""
    _open(qtbot, window, sandbox)
    tab = _assets_tab_as_arranged(qtbot, window, sandbox)
    target = tmp_path / "assets.xlsx"
    assert run_task(qasync_loop, qtbot, window.export_tab("assets", str(target)))
    ws = load_workbook(target).active
    header = tab.table.horizontalHeader()
    shown = [tab.model.headerData(i, Qt.Orientation.Horizontal) for i in
             (header.logicalIndex(v) for v in range(header.count()))
             if not header.isSectionHidden(i)]
    rows = list(ws.iter_rows(values_only=True))
    assert list(rows[0]) == shown == ["Tag", "Asset", "Building", "Location", "Last audited",
                                      "Criticality"]
    body = rows[1:]
    assert len(body) == tab.model.rowCount() > 0
    laptops = sorted((a for a in sandbox.data.visible("assets")
                      if "laptop" in (a["name"] + a["tag"]).casefold()),
                     key=lambda a: a["tag"].casefold(), reverse=True)
    assert [r[0] for r in body] == [a["tag"] for a in laptops]
    sites = {s["key"]: s["name"] for s in sandbox.data.visible("sites")}
    assert [r[2] for r in body] == [sites[a["siteKey"]] for a in laptops]
    assert {r[5] for r in body} <= {"Low", "Medium", "High", "Critical", None}
    audited = [c for c in ws["E"][1:] if c.value is not None]
    assert audited and all(c.is_date and isinstance(c.value, datetime) for c in audited)
    first = next(a for a in laptops if a.get("lastAuditedAt"))
    when = datetime.fromisoformat(first["lastAuditedAt"].replace("Z", "+00:00")).astimezone()
    assert ws.cell(row=2 + laptops.index(first), column=5).value == when.replace(tzinfo=None)
    assert not any(KEY.fullmatch(str(v)) for r in body for v in r if v is not None)


def test_csv_export_has_local_iso_times_and_no_key(qtbot, window, sandbox, tmp_path,
                                                    qasync_loop):
    """CSV: the same headings, times in ISO 8601 local time with offset, no 14-digit key."""
    _open(qtbot, window, sandbox)
    tab = _assets_tab_as_arranged(qtbot, window, sandbox)
    target = tmp_path / "assets.csv"
    assert run_task(qasync_loop, qtbot, window.export_tab("assets", str(target)))
    text = target.read_text("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert tab.table.column_ids() == ["tag", "name", "building", "location", "audited",
                                      "criticality"]
    assert rows[0] == [
        "Tag", "Asset", "Building", "Location", "Last audited", "Criticality"]
    times = [r[4] for r in rows[1:] if r[4]]
    assert times and all(ISO_LOCAL.fullmatch(t) for t in times)
    assert not KEY.search(text)


def test_the_save_dialog_proposes_a_name_that_says_what_the_file_holds(window, tmp_path):
    """The name is tab — building (or All buildings) — date; the folder is Documents, then
    the one used last."""
    window.building_filter.addItem("Two Riverside Square", "09000686579352")
    window.building_filter.setCurrentIndex(window.building_filter.count() - 1)
    today = date.today().isoformat()
    path = window.exporter.default_path(res.ASSETS_VIEW)
    assert path.name == f"Assets — Two Riverside Square — {today}.xlsx"
    documents = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation)
    home = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.HomeLocation)
    assert str(path.parent) == (documents if Path(documents).is_dir() else home)
    window.building_filter.setCurrentIndex(0)
    window.settings.setValue(LAST_FOLDER_KEY, str(tmp_path))
    path = window.exporter.default_path(res.VISITORS_VIEW, "csv")
    assert path == tmp_path / f"Visitors — All buildings — {today}.csv"


# -- the command line ----------------------------------------------------------------------


@pytest.fixture
def token_env(monkeypatch):
    monkeypatch.setenv("MAKINI_API_TOKEN", TOKEN)


def _cli(sandbox, resource, target, *extra) -> int:
    return main(["export", resource, "--base-url", sandbox.url, "-o", str(target), *extra])


def test_cli_csv_is_the_tabs_default_table(sandbox, token_env, tmp_path):
    """Without --raw the CSV has the tab's default headings, names, and the tab's order."""
    target = tmp_path / "spaces.csv"
    assert _cli(sandbox, "spaces", target) == 0
    rows = list(csv.DictReader(io.StringIO(target.read_text("utf-8-sig"))))
    assert list(rows[0]) == [c.header for c in res.SPACES_VIEW.columns if not c.hidden]
    spaces = [r for r in sandbox.data.visible("locations") if r["type"] != "floor"]
    assert len(rows) == len(spaces)
    sites = {s["key"]: s["name"] for s in sandbox.data.visible("sites")}
    floors = {r["key"]: r["name"] for r in sandbox.data.visible("locations")}
    by_key = {(s["name"], sites[s["siteKey"]]): s for s in spaces}
    for row in rows:
        space = by_key[(row["Space"], row["Building"])]
        assert row["Floor"] == floors.get(space.get("parentKey"), "")
    assert [r["Space"].casefold() for r in rows] == sorted(r["Space"].casefold() for r in rows)
    assert not KEY.search(target.read_text("utf-8-sig"))


def test_cli_building_and_search_select_what_the_tab_would(sandbox, token_env, tmp_path):
    """--building NAME keeps that building's rows; --search TEXT the rows that match."""
    site = sandbox.data.visible("sites")[0]
    target = tmp_path / "visitors.csv"
    company = sandbox.data.visible("visits")[0]["company"].split()[0]
    assert _cli(sandbox, "visitors", target, "--building", site["name"].upper(),
                "--search", company) == 0
    rows = list(csv.DictReader(io.StringIO(target.read_text("utf-8-sig"))))
    expected = [v for v in sandbox.data.visible("visits") if v["siteKey"] == site["key"]
                and any(company.casefold() in (v.get(f) or "").casefold()
                        for f in ("visitorName", "company", "hostName"))]
    assert len(rows) == len(expected)
    assert {r["Building"] for r in rows} <= {site["name"]}


def test_cli_view_writes_the_saved_views_columns_and_order(sandbox, token_env, tmp_path):
    """--view NAME writes the saved view's columns, in its sort order, as XLSX date-times."""
    ViewStore().put(ViewState("visitors", "Desk list", columns=("visitor", "expected"),
                              sort_column="visitor", descending=True))
    target = tmp_path / "desk.xlsx"
    assert _cli(sandbox, "visitors", target, "--view", "desk LIST") == 0
    rows = list(load_workbook(target).active.iter_rows(values_only=True))
    assert rows[0] == ("Visitor", "Expected")
    names = [r[0] for r in rows[1:]]
    assert sorted(names) == sorted(v["visitorName"] for v in sandbox.data.visible("visits"))
    plain = [n for n in names if n.isascii()]  # accented names: the collation's to place
    assert plain == sorted(plain, key=str.casefold, reverse=True)
    assert all(isinstance(r[1], datetime) for r in rows[1:] if r[1] is not None)


def test_cli_unknown_view_or_building_is_a_usage_error(sandbox, token_env, tmp_path, capsys):
    """A view or a building that does not exist exits 2 with a line naming what exists."""
    assert _cli(sandbox, "assets", tmp_path / "a.csv", "--view", "Nope") == 2
    assert "no view named 'Nope'; views of assets: Assets not audited in 12 months" in (
        capsys.readouterr().err)
    assert _cli(sandbox, "assets", tmp_path / "a.csv", "--building", "Atlantis") == 2
    err = capsys.readouterr().err
    assert "no building named 'Atlantis'; buildings: " in err
    assert sandbox.data.visible("sites")[0]["name"] in err
    assert list(tmp_path.iterdir()) == []


def test_cli_raw_json_and_raw_csv_keep_the_apis_fields(sandbox, token_env, tmp_path):
    """--raw CSV has the API's field names and keys; JSON is always the API's records."""
    raw = tmp_path / "raw.csv"
    assert _cli(sandbox, "buildings", raw, "--raw") == 0
    header = raw.read_text("utf-8-sig").splitlines()[0].split(",")
    assert header[0] == "key" and "areaUnit" in header
    data = tmp_path / "b.json"
    assert _cli(sandbox, "buildings", data) == 0
    import json

    assert json.loads(data.read_text("utf-8")) == sandbox.data.visible("sites")
