"""Writing exports: columns, formula-injection escaping, XLSX, and atomic files."""

from __future__ import annotations

import csv
import io
import json

import pytest
from openpyxl import load_workbook

from makini_desktop.api.resources import ASSETS_VIEW, BUILDINGS_VIEW
from makini_desktop.export import escape_formula, export_fields, write_export

ROWS = [
    {"key": "1", "name": "=HYPERLINK(\"http://x\")", "tag": "AST-1", "costCenter": "CC-1",
     "makeName": "Dell", "isActive": True, "customFields": {"floorWarden": "Ana"}},
    {"key": "2", "name": "+1 555 0100", "tag": "@risk", "makeName": "-HP", "note": "\tx",
     "serialNumber": 12345, "isActive": False},
]


@pytest.mark.parametrize("text", ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"])
def test_formula_starts_are_escaped(text):
    """Cells a spreadsheet would evaluate get a leading apostrophe."""
    assert escape_formula(text) == "'" + text


def test_plain_text_is_left_alone():
    """Ordinary text is not touched."""
    assert escape_formula("Dell Latitude 7440") == "Dell Latitude 7440"


def test_columns_are_declared_fields_first_then_custom_fields():
    """The export keeps every field: the view's own first, then custom ones as first seen."""
    fields = export_fields(ASSETS_VIEW, ROWS)
    assert fields[:3] == ["key", "tag", "name"]
    assert "manufacturerName" not in fields  # an alias no record uses is not a column
    assert fields[-3:] == ["costCenter", "customFields", "note"]


def test_csv_escapes_formulas_and_writes_nested_values_as_json(tmp_path):
    """The CSV has a header row, escaped formulas and nested values as JSON text."""
    target = tmp_path / "assets.csv"
    write_export(target, "csv", ASSETS_VIEW, ROWS)
    text = target.read_bytes().decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert rows[0]["name"] == "'=HYPERLINK(\"http://x\")"
    assert rows[1]["name"] == "'+1 555 0100" and rows[1]["tag"] == "'@risk"
    assert rows[1]["makeName"] == "'-HP" and rows[1]["note"] == "'\tx"
    assert json.loads(rows[0]["customFields"]) == {"floorWarden": "Ana"}
    assert rows[1]["serialNumber"] == "12345"


def test_json_keeps_records_exactly(tmp_path):
    """The JSON export is the records as received, unknown fields and types intact."""
    target = tmp_path / "assets.json"
    write_export(target, "json", ASSETS_VIEW, ROWS)
    assert json.loads(target.read_text("utf-8")) == ROWS


def test_xlsx_has_header_numbers_and_escaped_formulas(tmp_path):
    """The workbook opens, keeps numbers as numbers and never holds a live formula."""
    target = tmp_path / "assets.xlsx"
    write_export(target, "xlsx", ASSETS_VIEW, ROWS)
    ws = load_workbook(target).active
    header = [c.value for c in ws[1]]
    values = {h: c.value for h, c in zip(header, ws[3], strict=True)}
    assert values["serialNumber"] == 12345
    assert values["name"] == "'+1 555 0100"
    assert all(not (isinstance(c.value, str) and c.value.startswith("="))
               for row in ws.iter_rows() for c in row)
    assert ws.title == "Assets"


def test_same_data_gives_the_same_workbook_bytes(tmp_path, monkeypatch):
    """XLSX output is reproducible: no wall-clock time inside, not even the zip's."""
    import time

    a, b = tmp_path / "a.xlsx", tmp_path / "b.xlsx"
    write_export(a, "xlsx", BUILDINGS_VIEW, ROWS)
    later = time.time() + 3600
    monkeypatch.setattr(time, "time", lambda: later)  # an hour later, as far as zip knows
    write_export(b, "xlsx", BUILDINGS_VIEW, ROWS)
    assert a.read_bytes() == b.read_bytes()
    assert load_workbook(b).active.max_row == len(ROWS) + 1
    import zipfile

    with zipfile.ZipFile(b) as z:  # no wall-clock "modified" in the document properties
        core = z.read("docProps/core.xml").decode()
    import re

    modified = re.search(r"<dcterms:modified[^>]*>([^<]+)<", core)
    assert modified is not None and modified.group(1) == "2000-01-01T00:00:00Z"


def test_a_failed_write_leaves_neither_a_partial_file_nor_a_temp_file(tmp_path):
    """When writing fails half-way, the target keeps its old content and no temp is left."""
    target = tmp_path / "assets.csv"
    target.write_text("old export")

    class Boom(dict):
        def get(self, *a):
            raise OSError(28, "No space left on device")

    with pytest.raises(OSError):
        write_export(target, "csv", ASSETS_VIEW, [ROWS[0], Boom(key="x")])
    assert target.read_text() == "old export"
    assert [p.name for p in tmp_path.iterdir()] == ["assets.csv"]


def test_an_unwritable_folder_is_an_os_error(tmp_path):
    """Exporting into a folder that does not exist raises OSError and creates nothing."""
    with pytest.raises(OSError):
        write_export(tmp_path / "missing" / "x.csv", "csv", ASSETS_VIEW, ROWS)
    assert list(tmp_path.iterdir()) == []


def test_numbers_are_not_escaped_as_formulas(tmp_path):
    """A negative longitude stays a number in CSV, as in XLSX."""
    target = tmp_path / "b.csv"
    write_export(target, "csv", BUILDINGS_VIEW, [{"key": "1", "lng": -104.999932, "n": -3}])
    rows = list(csv.DictReader(io.StringIO(target.read_text("utf-8-sig"))))
    assert rows[0]["lng"] == "-104.999932" and rows[0]["n"] == "-3"


def test_an_export_file_gets_ordinary_permissions(tmp_path):
    """The finished file is readable like any other file (not owner-only)."""
    import os

    old = os.umask(0o022)
    try:
        write_export(tmp_path / "a.csv", "csv", ASSETS_VIEW, ROWS)
    finally:
        os.umask(old)
    assert (tmp_path / "a.csv").stat().st_mode & 0o777 == 0o644


def test_a_named_pipe_target_is_written_to_not_replaced(tmp_path):
    """Exporting into a pipe streams into it and leaves the pipe in place."""
    import os
    import stat
    import threading

    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    received = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()))
    reader.start()
    write_export(fifo, "json", ASSETS_VIEW, ROWS)
    reader.join(timeout=10)
    assert stat.S_ISFIFO(fifo.stat().st_mode)
    assert json.loads(received[0]) == ROWS
