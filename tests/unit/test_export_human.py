"""The human export: the table's headings, names, labels, units and local date-times."""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime

import pytest
from openpyxl import load_workbook

from makini_desktop.api import resources as res
from makini_desktop.export_human import (
    ExportCancelledError,
    HumanTable,
    write_human_csv,
    write_human_export,
    write_human_xlsx,
)
from makini_desktop.table.cells import Cells
from makini_desktop.table.lookups import Lookups

SITES = [
    {"key": "09000686579352", "name": "Two Riverside Square", "areaUnit": "sqft"},
    {"key": "09000686579415", "name": "Mill Lane", "areaUnit": "m2"},
]
FLOORS = [{"key": "09000686579431", "name": "Level 3", "type": "floor",
           "siteKey": "09000686579352"}]
SPACES = [
    {"key": "09000686580001", "name": "3.001", "code": "DEN-3.001", "type": "meeting_room",
     "parentKey": "09000686579431", "siteKey": "09000686579352", "capacity": 8,
     "area": 1250, "occupied": False, "reservable": True,
     "updatedAt": "2026-07-01T09:30:00Z"},
    {"key": "09000686580002", "name": "=HYPERLINK(1)", "type": "hoteling_desk",
     "siteKey": "09000686579415", "area": 4.5, "occupied": True, "occupantName": "Zoë"},
]


@pytest.fixture
def denver(monkeypatch):
    """Local time is Denver's (UTC-6 in July): a local time differs from UTC."""
    import time

    monkeypatch.setenv("TZ", "America/Denver")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def _cells() -> Cells:
    lookups = Lookups()
    lookups.set_rows("sites", SITES)
    lookups.set_rows("locations", FLOORS + SPACES)
    return Cells(res.SPACES_VIEW.columns, lookups)


def _ids(*names: str) -> list[int]:
    ids = [c.id for c in res.SPACES_VIEW.columns]
    return [ids.index(n) for n in names]


def test_csv_has_the_tables_headings_names_labels_units_and_local_iso_times(denver):
    """CSV: headings in the order given, building/floor names, 'Meeting room', '1,250 sq ft',
    Yes/No, the time in local ISO 8601 with its offset."""
    table = HumanTable(_cells(), _ids("updated", "name", "type", "floor", "building", "area",
                                      "reservable"))
    out = io.BytesIO()
    write_human_csv(out, table, SPACES)
    rows = list(csv.reader(io.StringIO(out.getvalue().decode("utf-8-sig"))))
    assert rows[0] == ["Updated", "Space", "Type", "Floor", "Building", "Area", "Reservable"]
    assert rows[1] == ["2026-07-01T03:30:00-06:00", "3.001", "Meeting room", "Level 3",
                       "Two Riverside Square", "1,250 sq ft", "Yes"]
    assert rows[2][1] == "'=HYPERLINK(1)"  # formula escaped
    assert rows[2][5] == "4.5 m²"
    assert not re.search(r"\b\d{14}\b", out.getvalue().decode("utf-8-sig"))


def test_xlsx_has_date_time_cells_numbers_and_areas_formatted_with_their_unit(tmp_path, denver):
    """XLSX: a real date-time in local time, capacity a number, an area a number whose
    format shows its unit; names, not keys."""
    table = HumanTable(_cells(), _ids("name", "updated", "capacity", "area", "building"))
    target = tmp_path / "spaces.xlsx"
    with target.open("wb") as out:
        write_human_xlsx(out, table, SPACES, title="Spaces")
    ws = load_workbook(target).active
    assert [c.value for c in ws[1]] == ["Space", "Updated", "Capacity", "Area", "Building"]
    when = ws["B2"]
    assert when.is_date and isinstance(when.value, datetime)
    assert when.value == datetime(2026, 7, 1, 3, 30)  # 09:30 UTC in Denver
    assert ws["C2"].value == 8 and ws["D2"].value == 1250
    assert '"sq ft"' in ws["D2"].number_format and '"m²"' in ws["D3"].number_format
    assert ws["E2"].value == "Two Riverside Square"
    assert ws["A3"].value == "'=HYPERLINK(1)"
    values = [str(c.value) for row in ws.iter_rows() for c in row if c.value is not None]
    assert not any(re.fullmatch(r"\d{14}", v) for v in values)


def test_the_default_table_is_the_views_shown_columns():
    """HumanTable.default writes the columns not hidden, in the view's order."""
    table = HumanTable.default(res.SPACES_VIEW, _cells())
    assert table.headers == [c.header for c in res.SPACES_VIEW.columns if not c.hidden]


def test_a_cancelled_export_leaves_no_file(tmp_path):
    """Returning False from the progress callback stops the export; nothing is left."""
    rows = SPACES * 600
    target = tmp_path / "big.csv"
    with pytest.raises(ExportCancelledError):
        write_human_export(target, "csv", HumanTable.default(res.SPACES_VIEW, _cells()), rows,
                           progress=lambda done: done < 500)
    assert list(tmp_path.iterdir()) == []
