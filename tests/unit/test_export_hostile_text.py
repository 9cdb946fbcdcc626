"""Exports of text a format cannot hold, and of deeply nested records: a valid file, the
characters replaced with U+FFFD, and the number of cells changed."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from typing import Any
from xml.etree import ElementTree

import pytest
from openpyxl import load_workbook

from makini_desktop import jsontext
from makini_desktop.api.resources import ASSETS_VIEW
from makini_desktop.export import ExportResult, write_export

FFFD = "\N{REPLACEMENT CHARACTER}"
# What json.loads makes of the legal JSON escapes "\ud800" and "\udfff".
LONE_HIGH, LONE_LOW = json.loads('"\\ud800"'), json.loads('"\\udfff"')

PLAIN = {"key": "1", "name": "Büro Zürich", "tag": "AST-1"}
SURROGATES = [
    PLAIN,
    {"key": "2", "name": f"Desk {LONE_HIGH}", "tag": "AST-2",
     "address": {"city": f"X{LONE_LOW}"}},
    {"key": "3", "name": "fine", "tag": f"A{LONE_HIGH}{LONE_LOW}"},
]
XML_ILLEGAL = [
    PLAIN,
    {"key": "2", "name": "Non\ufffecharacter", "tag": "ok\uffff"},
    {"key": "3", "name": "bell\x07 and nul\x00", "tag": f"half {LONE_HIGH}"},
    {"key": "4", "name": "tab\tnewline\n are fine", "tag": "AST-4"},
]


def _deep(depth: int) -> Any:
    value: Any = "bottom"
    for level in range(depth):
        value = {"in": value} if level % 2 else [value]
    return value


def _export(tmp_path, fmt: str, rows: list[dict[str, Any]]) -> tuple[ExportResult, bytes]:
    target = tmp_path / f"assets.{fmt}"
    result = write_export(target, fmt, ASSETS_VIEW, rows)
    return result, target.read_bytes()


def _csv_rows(data: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig", errors="strict"))))


def test_csv_replaces_lone_surrogates_and_counts_the_cells(tmp_path):
    """A CSV of records with lone surrogates is strict UTF-8, with U+FFFD in the three
    cells that had them, and the result says three cells changed."""
    result, data = _export(tmp_path, "csv", SURROGATES)
    rows = _csv_rows(data)
    assert rows[1]["name"] == f"Desk {FFFD}"
    assert json.loads(rows[1]["address"]) == {"city": f"X{FFFD}"}
    assert rows[2]["tag"] == f"A{FFFD}{FFFD}"
    assert rows[0]["name"] == "Büro Zürich"
    assert result.replaced_cells == 3 and result.rows == 3
    assert result.note() == f"3 cells had characters CSV cannot hold; replaced with {FFFD}"


def test_json_replaces_lone_surrogates_and_counts_the_cells(tmp_path):
    """A JSON export of records with lone surrogates is strict UTF-8 JSON with U+FFFD in
    their place; the other records are exactly as received."""
    result, data = _export(tmp_path, "json", SURROGATES)
    back = json.loads(data.decode("utf-8", errors="strict"))
    assert back[0] == PLAIN
    assert back[1] == {"key": "2", "name": f"Desk {FFFD}", "tag": "AST-2",
                       "address": {"city": f"X{FFFD}"}}
    assert back[2]["tag"] == f"A{FFFD}{FFFD}"
    assert result.replaced_cells == 3


def test_json_of_clean_records_is_laid_out_as_before(tmp_path):
    """Records without such characters give the same bytes as one json.dumps call, and no
    note."""
    rows = [PLAIN, {"key": "2", "items": [{"a": 1}, []], "n": None}]
    result, data = _export(tmp_path, "json", rows)
    assert data == (json.dumps(rows, ensure_ascii=False, indent=1) + "\n").encode()
    assert result.replaced_cells == 0 and result.note() is None
    assert _export(tmp_path, "json", [])[1] == b"[]\n"


def _xml_parts_parse(data: bytes) -> list[str]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = [n for n in archive.namelist() if n.endswith((".xml", ".rels"))]
        for name in names:
            ElementTree.fromstring(archive.read(name))  # raises on ill-formed XML
    return names


def test_xlsx_replaces_characters_xml_forbids_and_opens(tmp_path):
    """An XLSX of text with U+FFFE, U+FFFF, control characters and lone surrogates has
    well-formed XML parts, opens in openpyxl with U+FFFD in their place, and counts the
    three changed cells (tab and newline are kept)."""
    result, data = _export(tmp_path, "xlsx", XML_ILLEGAL)
    assert any(n.startswith("xl/worksheets/") for n in _xml_parts_parse(data))
    sheet = load_workbook(io.BytesIO(data)).active
    table = [[c.value for c in row] for row in sheet.iter_rows()]
    header = table[0]
    by_key = {r[header.index("key")]: dict(zip(header, r, strict=True)) for r in table[1:]}
    assert by_key["2"]["name"] == f"Non{FFFD}character" and by_key["2"]["tag"] == f"ok{FFFD}"
    assert by_key["3"]["name"] == f"bell{FFFD} and nul{FFFD}"
    assert by_key["3"]["tag"] == f"half {FFFD}"
    assert by_key["4"]["name"] == "tab\tnewline\n are fine"
    assert by_key["1"]["name"] == "Büro Zürich"
    assert result.replaced_cells == 4
    assert result.note() == f"4 cells had characters XLSX cannot hold; replaced with {FFFD}"


def test_a_field_name_with_forbidden_characters_is_a_replaced_header_cell(tmp_path):
    """A custom field whose name has a lone surrogate gets a readable header in CSV and
    XLSX, and counts as a changed cell."""
    rows = [{"key": "1", f"custom{LONE_HIGH}": "v"}]
    csv_result, csv_data = _export(tmp_path, "csv", rows)
    assert f"custom{FFFD}" in _csv_rows(csv_data)[0]
    assert csv_result.replaced_cells == 1
    xlsx_result, xlsx_data = _export(tmp_path, "xlsx", rows)
    _xml_parts_parse(xlsx_data)
    assert xlsx_result.replaced_cells == 1


@pytest.mark.parametrize("fmt", ["csv", "json", "xlsx"])
def test_a_record_nested_a_thousand_deep_is_exported(tmp_path, fmt):
    """A record nested 1,000 deep is written (as JSON text in a cell, or as JSON), without
    a RecursionError."""
    deep = _deep(1000)
    rows = [PLAIN, {"key": "2", "name": "deep", "layout": deep}]
    result, data = _export(tmp_path, fmt, rows)
    assert result.rows == 2
    expected = jsontext.dumps(deep, separators=(",", ":"), sort_keys=True)
    if fmt == "csv":
        assert _csv_rows(data)[1]["layout"] == expected
    elif fmt == "json":
        back = jsontext.loads(data.decode("utf-8"))
        assert jsontext.dumps(back[1]["layout"], separators=(",", ":")) == expected
    else:
        _xml_parts_parse(data)
        sheet = load_workbook(io.BytesIO(data)).active
        header = [c.value for c in next(sheet.iter_rows())]
        row = [c.value for c in list(sheet.iter_rows())[2]]
        assert row[header.index("layout")] == expected
