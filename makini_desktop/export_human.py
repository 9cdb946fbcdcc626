"""Writing a table as a person sees it: the shown columns, their headings, names, labels.

The GUI's File → Export and the CLI's ``export`` (without ``--raw``) write this. Every
cell comes from :class:`~makini_desktop.table.cells.Cells`, the formatting the table
itself uses, so an export and the table cannot drift apart. No Qt.

* Headings are the columns' headings, in the order shown.
* References are names (a building, a space), codes are labels ("Meeting room"), yes/no
  is "Yes"/"No", an area carries its building's unit.
* Times are local time: in XLSX a real date-time cell (a spreadsheet sorts and filters
  it as a date), in CSV ISO 8601 with the offset (``2026-12-01T09:30:00+01:00``).
* In XLSX, numbers are numbers; an area is a number whose cell format shows the unit.
* Formula escaping, the U+FFFD replacement count and the atomic write are
  :mod:`makini_desktop.export`'s.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO

from makini_desktop import jsontext
from makini_desktop.api import resources as res
from makini_desktop.api.values import display, parse_datetime
from makini_desktop.export import (
    _XML_ILLEGAL,
    ExportResult,
    _Counter,
    escape_formula,
    save_workbook,
    write_atomically,
)
from makini_desktop.table.cells import Cells

__all__ = ["HUMAN_FORMATS", "PROGRESS_EVERY", "ExportCancelledError", "HumanTable",
           "write_human_export"]

HUMAN_FORMATS = ("csv", "xlsx")
PROGRESS_EVERY = 500
"""Rows written between two progress reports."""
XLSX_DATETIME_FORMAT = "yyyy-mm-dd hh:mm"

Row = dict[str, Any]
Progress = Callable[[int], bool]
"""Called with the rows written so far; returning False cancels the export."""


class ExportCancelledError(Exception):
    """The user cancelled an export (nothing was left at the target)."""


class HumanTable:
    """The shown columns of a view as cells a person reads.

    Args:
        cells: the view's cell formatting (the table's own).
        columns: the logical indexes of the columns to write, in order.
    """

    def __init__(self, cells: Cells, columns: Sequence[int]) -> None:
        self.cells = cells
        self.columns = list(columns)
        self.headers = [cells.columns[i].header for i in self.columns]

    @classmethod
    def default(cls, view: res.View, cells: Cells) -> HumanTable:
        """The view's default columns (those not hidden), in their default order."""
        return cls(cells, [i for i, c in enumerate(view.columns) if not c.hidden])

    def csv_row(self, row: Row) -> list[Any]:
        """A row's cells for CSV: the shown text, times in ISO 8601 local time."""
        out: list[Any] = []
        for i in self.columns:
            col = self.cells.columns[i]
            if col.kind is res.Kind.DATETIME:
                when = _local(col.raw(row))
                if when is not None:
                    out.append(when.isoformat(timespec="seconds"))
                    continue
            out.append(self.cells.text(row, i))
        return out

    def xlsx_row(self, row: Row) -> list[tuple[Any, str | None]]:
        """A row's cells for XLSX: ``(value, number format or None)``."""
        out: list[tuple[Any, str | None]] = []
        for i in self.columns:
            col = self.cells.columns[i]
            kind = col.kind
            if kind is res.Kind.DATETIME:
                when = _local(col.raw(row))
                if when is not None:
                    out.append((when.replace(tzinfo=None), XLSX_DATETIME_FORMAT))
                    continue
            elif kind in (res.Kind.INT, res.Kind.NUMBER, res.Kind.AREA):
                raw = col.raw(row)
                if isinstance(raw, int | float) and not isinstance(raw, bool) and (
                        raw == raw and abs(raw) != float("inf")):
                    out.append((raw, _number_format(self.cells, row, i, raw)))
                    continue
            elif kind is res.Kind.COUNT:
                raw = col.raw(row)
                if isinstance(raw, list):
                    out.append((len(raw), None))
                    continue
            out.append((self.cells.text(row, i), None))
        return out


def _local(value: Any) -> datetime | None:
    """A timestamp in local time, as the table shows it; None when it is not one."""
    parsed = parse_datetime(value)
    if parsed is None:
        return None
    try:
        return parsed.astimezone()
    except (OverflowError, ValueError, OSError):
        return None


def _number_format(cells: Cells, row: Row, column: int, raw: float) -> str:
    places = "#,##0" if float(raw).is_integer() else "#,##0.0"
    if cells.columns[column].kind is not res.Kind.AREA:
        return places
    # The unit as the table shows it: whatever follows the number in the cell's text.
    unit = cells.text(row, column)[len(display(res.Kind.NUMBER, raw)):].strip()
    return f'{places} "{unit}"' if unit and '"' not in unit else places


def _report(progress: Progress | None, done: int) -> None:
    if progress is not None and done % PROGRESS_EVERY == 0 and not progress(done):
        raise ExportCancelledError


def write_human_csv(out: BinaryIO, table: HumanTable, rows: Sequence[Row],
                    progress: Progress | None = None) -> int:
    """CSV, UTF-8 with a BOM. Returns the cells whose lone surrogates were replaced."""
    counter = _Counter()
    text = io.TextIOWrapper(out, encoding="utf-8-sig", newline="")
    writer = csv.writer(text, lineterminator="\r\n")
    writer.writerow([counter.clean(h, jsontext.LONE_SURROGATE) for h in table.headers])
    numeric = [table.cells.is_numeric(i) for i in table.columns]
    for done, row in enumerate(rows, 1):
        cells = table.csv_row(row)
        writer.writerow([
            # A shown number (-5, 1,204) is data, not a formula: only text is escaped.
            value if is_number and _looks_numeric(value)
            else escape_formula(counter.clean(value, jsontext.LONE_SURROGATE))
            for value, is_number in zip(cells, numeric, strict=True)
        ])
        _report(progress, done)
    text.flush()
    text.detach()
    return counter.cells


def _looks_numeric(text: str) -> bool:
    head = text.split(" ", 1)[0].replace(",", "")
    try:
        float(head)
    except ValueError:
        return False
    return True


def write_human_xlsx(out: BinaryIO, table: HumanTable, rows: Sequence[Row],
                     progress: Progress | None = None, *, title: str = "Export") -> int:
    """A workbook with one sheet, a bold frozen header row, dates and numbers as such.

    Returns the cells whose characters XML forbids were replaced with U+FFFD.
    """
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    counter = _Counter()
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title=_sheet_title(title))
    ws.freeze_panes = "A2"
    header = []
    for name in table.headers:
        cell = WriteOnlyCell(ws, value=counter.clean(name, _XML_ILLEGAL))
        cell.font = Font(bold=True)
        header.append(cell)
    ws.append(header)
    for done, row in enumerate(rows, 1):
        line: list[Any] = []
        for value, number_format in table.xlsx_row(row):
            if isinstance(value, str):
                line.append(escape_formula(counter.clean(value, _XML_ILLEGAL)) or None)
            elif number_format is None:
                line.append(value)
            else:
                cell = WriteOnlyCell(ws, value=value)
                cell.number_format = number_format
                line.append(cell)
        ws.append(line)
        _report(progress, done)
    save_workbook(wb, out)
    return counter.cells


def _sheet_title(title: str) -> str:
    """A worksheet name Excel accepts: at most 31 characters, none of ``[]:*?/\\``."""
    cleaned = "".join(" " if ch in "[]:*?/\\" else ch for ch in title).strip()
    return cleaned[:31] or "Export"


def write_human_export(
    target: str | Path, fmt: str, table: HumanTable, rows: Sequence[Row], *,
    title: str = "Export", progress: Progress | None = None,
) -> ExportResult:
    """Write a human table to ``target`` ("-" for stdout) atomically.

    Raises:
        OSError: the file could not be written (nothing is left at the target).
        ExportCancelledError: ``progress`` returned False (nothing is left at the target).
        ValueError: a format other than CSV and XLSX.
    """
    if fmt == "csv":
        def write(out: BinaryIO) -> int:
            return write_human_csv(out, table, rows, progress)
    elif fmt == "xlsx":
        def write(out: BinaryIO) -> int:
            return write_human_xlsx(out, table, rows, progress, title=title)
    else:
        raise ValueError(f"A table is written as CSV or XLSX, not {fmt!r}.")
    return ExportResult(len(rows), fmt, write_atomically(target, write))
