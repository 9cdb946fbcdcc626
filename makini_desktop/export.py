"""Writing a list of records to CSV, JSON or XLSX, safely.

Shared by the CLI's ``export`` command and the GUI's export action. No Qt.

* Columns: the view's declared fields first (in the order the table shows them), then every
  other field the records carry (custom fields included), in the order first seen.
* Nested values (an address, a move's items) are written as compact JSON text.
* CSV and XLSX cells that a spreadsheet would run as a formula (text starting with
  ``= + - @``, tab or carriage return) are escaped with a leading apostrophe.
* The file appears at its target only when complete: written to a temporary file beside it,
  flushed to disk, then renamed over the target. A failed export leaves no partial file.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import sys
import tempfile
import zipfile
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO

from makini_desktop.api.resources import View

FORMATS = ("csv", "json", "xlsx")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def format_for_path(path: str | Path) -> str:
    """The export format a file name asks for (``assets.xlsx`` -> ``xlsx``); CSV otherwise."""
    fmt = Path(str(path)).suffix.lower().lstrip(".")
    return fmt if fmt in FORMATS else "csv"


def export_fields(view: View, rows: Sequence[Mapping[str, Any]]) -> list[str]:
    """The top-level fields to export, declared ones first, then the rest as first seen."""
    present: dict[str, None] = {}
    for row in rows:
        for name in row:
            present.setdefault(name, None)
    fields: dict[str, None] = {"key": None}
    for col in view.columns:
        for index, name in enumerate(col.fields):
            top = name.split(".", 1)[0]
            if index == 0 or top in present:  # an alias field only when records use it
                fields.setdefault(top, None)
    for name in present:
        fields.setdefault(name, None)
    return list(fields)


def cell_text(value: Any) -> str:
    """A value as a cell's text: nested values as compact JSON, null as empty."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value) if isinstance(value, float) else str(value)
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


def escape_formula(text: str) -> str:
    """Defuse text a spreadsheet would evaluate (CSV/formula injection)."""
    if text.startswith(_FORMULA_START):
        return "'" + text
    return text


def _table(view: View, rows: Sequence[Mapping[str, Any]]) -> tuple[list[str], list[list[Any]]]:
    fields = export_fields(view, rows)
    return fields, [[row.get(f) for f in fields] for row in rows]


def write_csv(out: BinaryIO, view: View, rows: Sequence[Mapping[str, Any]]) -> None:
    """CSV, UTF-8 with a BOM so Excel on Windows reads accents right."""
    fields, table = _table(view, rows)
    text = io.TextIOWrapper(out, encoding="utf-8-sig", newline="")
    writer = csv.writer(text, lineterminator="\r\n")
    writer.writerow(fields)
    for values in table:
        writer.writerow([_csv_cell(v) for v in values])
    text.flush()
    text.detach()


def _csv_cell(value: Any) -> str:
    # A JSON number (a longitude of -104.99) is data, not a formula: only text is escaped.
    if isinstance(value, int | float) and not isinstance(value, bool):
        return cell_text(value)
    return escape_formula(cell_text(value))


def write_json(out: BinaryIO, view: View, rows: Sequence[Mapping[str, Any]]) -> None:
    """A JSON array of the records exactly as the server sent them (unknown fields kept)."""
    del view
    data = json.dumps(list(rows), ensure_ascii=False, indent=1, sort_keys=False)
    out.write(data.encode("utf-8"))
    out.write(b"\n")


def write_xlsx(out: BinaryIO, view: View, rows: Sequence[Mapping[str, Any]]) -> None:
    """An Excel workbook with one sheet, a bold frozen header row, numbers as numbers."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font
    from openpyxl.writer.excel import ExcelWriter

    fields, table = _table(view, rows)
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title=view.title[:31])
    ws.freeze_panes = "A2"
    header = []
    for name in fields:
        cell = WriteOnlyCell(ws, value=name)
        cell.font = Font(bold=True)
        header.append(cell)
    ws.append(header)
    for values in table:
        ws.append([_xlsx_value(v) for v in values])
    # Fixed document times: the same data gives the same workbook. (Workbook.save would
    # stamp "modified" with the clock; the writer it wraps keeps what we set.)
    wb.properties.created = datetime(2000, 1, 1)
    wb.properties.modified = datetime(2000, 1, 1)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as archive:
        ExcelWriter(wb, archive).save()
    out.write(_fixed_zip_times(buffer.getvalue()))


def _fixed_zip_times(data: bytes) -> bytes:
    """The same zip with every entry's time set to 1980-01-01: the zip format stamps each
    part with the clock, so two exports of the same data differed across a 2 s tick."""
    rewritten = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(
        rewritten, "w", zipfile.ZIP_DEFLATED
    ) as dst:
        for item in src.infolist():
            info = zipfile.ZipInfo(item.filename, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = item.external_attr
            dst.writestr(info, src.read(item.filename))
    return rewritten.getvalue()


def _file_mode(path: Path) -> int:
    """The mode a plain ``open()`` would give (mkstemp's is owner-only): the old file's, or
    0666 less the umask."""
    try:
        return path.stat().st_mode & 0o777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def _xlsx_value(value: Any) -> Any:
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int | float):
        return value
    text = _strip_illegal(cell_text(value))
    return escape_formula(text)


def _strip_illegal(text: str) -> str:
    # XML 1.0 forbids most control characters; openpyxl raises on them.
    return "".join(ch for ch in text if ch in "\t\n\r" or ord(ch) >= 0x20)


WRITERS = {"csv": write_csv, "json": write_json, "xlsx": write_xlsx}


def write_export(
    target: str | Path, fmt: str, view: View, rows: Sequence[Mapping[str, Any]]
) -> None:
    """Write rows to ``target`` ("-" for stdout) atomically.

    Raises:
        OSError: the file could not be written (nothing is left at the target).
        ValueError: an unknown format.
    """
    if fmt not in WRITERS:
        raise ValueError(f"Unknown format {fmt!r}; use one of {', '.join(FORMATS)}.")
    writer = WRITERS[fmt]
    if str(target) == "-":
        buffer = io.BytesIO()
        writer(buffer, view, rows)
        sys.stdout.buffer.write(buffer.getvalue())
        sys.stdout.buffer.flush()
        return
    path = Path(target)
    if path.exists() and not path.is_file():
        # A device or a pipe (/dev/null, a named pipe) is written to, never replaced.
        with open(path, "wb") as out:
            writer(out, view, rows)
        return
    directory = path.parent if str(path.parent) else Path(".")
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=directory)
    try:
        with os.fdopen(fd, "wb") as out:
            writer(out, view, rows)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp_name, _file_mode(path))
        os.replace(tmp_name, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp_name)
        raise
