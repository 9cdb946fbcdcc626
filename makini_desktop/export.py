"""Writing a list of records to CSV, JSON or XLSX, safely.

Shared by the CLI's ``export`` command and the GUI's export action. No Qt.

* Columns: the view's declared fields first (in the order the table shows them), then every
  other field the records carry (custom fields included), in the order first seen.
* Nested values (an address, a move's items) are written as compact JSON text.
* CSV and XLSX cells that a spreadsheet would run as a formula (text starting with
  ``= + - @``, tab or carriage return) are escaped with a leading apostrophe.
* Characters a format cannot hold are replaced with U+FFFD and counted per cell
  (:attr:`ExportResult.replaced_cells`): lone surrogates (``"\\ud800"`` is legal JSON but
  has no UTF-8 form) in CSV and JSON; in XLSX everything XML 1.0 forbids (control
  characters, lone surrogates, U+FFFE, U+FFFF), which would make a workbook Excel cannot
  open. A JSON record counts one cell per top-level field whose name or value changed.
* Records nested deeper than the json module's recursion limit are written all the same.
* The file appears at its target only when complete: written to a temporary file beside it,
  flushed to disk, then renamed over the target. A failed export leaves no partial file.
"""

from __future__ import annotations

import contextlib
import csv
import io
import os
import re
import sys
import tempfile
import zipfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO

from makini_desktop import jsontext
from makini_desktop.api import resources as res
from makini_desktop.api.resources import View

FORMATS = ("csv", "json", "xlsx")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
REPLACEMENT = "\ufffd"
# XML 1.0's Char production, negated: what no XML part of a workbook may contain.
_XML_ILLEGAL = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


@dataclass(frozen=True)
class ExportResult:
    """What an export wrote.

    Attributes:
        rows: records written.
        fmt: ``csv``, ``json`` or ``xlsx``.
        replaced_cells: cells whose text had characters the format cannot hold, each
            replaced with U+FFFD.
    """

    rows: int
    fmt: str
    replaced_cells: int = 0

    def note(self) -> str | None:
        """One line for the user when cells were changed, e.g. "3 cells had characters
        XLSX cannot hold; replaced with \ufffd"; None when nothing was."""
        if not self.replaced_cells:
            return None
        cells = "1 cell" if self.replaced_cells == 1 else f"{self.replaced_cells:,} cells"
        return (f"{cells} had characters {self.fmt.upper()} cannot hold; "
                f"replaced with {REPLACEMENT}")


class _Counter:
    """Counts the cells a writer had to change."""

    def __init__(self) -> None:
        self.cells = 0

    def clean(self, text: str, pattern: re.Pattern[str]) -> str:
        if text.isascii() and pattern is jsontext.LONE_SURROGATE:
            return text  # the common case, in a few nanoseconds
        cleaned, changes = pattern.subn(REPLACEMENT, text)
        if changes:
            self.cells += 1
        return cleaned


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
    fields: dict[str, None] = {res.F_KEY: None}
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
    return jsontext.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


def escape_formula(text: str) -> str:
    """Defuse text a spreadsheet would evaluate (CSV/formula injection)."""
    if text.startswith(_FORMULA_START):
        return "'" + text
    return text


def _table(view: View, rows: Sequence[Mapping[str, Any]]) -> tuple[list[str], list[list[Any]]]:
    fields = export_fields(view, rows)
    return fields, [[row.get(f) for f in fields] for row in rows]


def write_csv(out: BinaryIO, view: View, rows: Sequence[Mapping[str, Any]]) -> int:
    """CSV, UTF-8 with a BOM so Excel on Windows reads accents right.

    Returns:
        Cells whose lone surrogates were replaced with U+FFFD.
    """
    fields, table = _table(view, rows)
    counter = _Counter()
    text = io.TextIOWrapper(out, encoding="utf-8-sig", newline="")
    writer = csv.writer(text, lineterminator="\r\n")
    writer.writerow([counter.clean(f, jsontext.LONE_SURROGATE) for f in fields])
    for values in table:
        writer.writerow([_csv_cell(v, counter) for v in values])
    text.flush()
    text.detach()
    return counter.cells


def _csv_cell(value: Any, counter: _Counter) -> str:
    # A JSON number (a longitude of -104.99) is data, not a formula: only text is escaped.
    if isinstance(value, int | float) and not isinstance(value, bool):
        return cell_text(value)
    return escape_formula(counter.clean(cell_text(value), jsontext.LONE_SURROGATE))


def write_json(out: BinaryIO, view: View, rows: Sequence[Mapping[str, Any]]) -> int:
    """A JSON array of the records exactly as the server sent them (unknown fields kept),
    laid out as ``json.dumps(rows, indent=1)`` would, written one record at a time.

    Returns:
        Cells (a record's top-level fields) whose lone surrogates were replaced.
    """
    del view
    if not rows:
        out.write(b"[]\n")
        return 0
    cells = 0
    out.write(b"[\n")
    for index, row in enumerate(rows):
        text = jsontext.dumps(row, ensure_ascii=False, indent=1)
        try:
            data = text.encode("utf-8")
        except UnicodeEncodeError:
            row, changed = _without_lone_surrogates(row)
            cells += changed
            data = jsontext.dumps(row, ensure_ascii=False, indent=1).encode("utf-8")
        # One level deeper inside the array: JSON text has no raw newline in a string.
        out.write(b" " + data.replace(b"\n", b"\n "))
        out.write(b",\n" if index + 1 < len(rows) else b"\n")
    out.write(b"]\n")
    return cells


def _without_lone_surrogates(row: Mapping[str, Any]) -> tuple[dict[str, Any], int]:
    """A copy of a record with lone surrogates replaced, and how many of its top-level
    fields changed. Walks with an explicit stack: a record may be nested very deep."""
    counter = _Counter()

    def fix(text: str) -> str:
        return counter.clean(text, jsontext.LONE_SURROGATE)

    result: dict[str, Any] = {}
    changed = 0
    for name, value in row.items():
        before = counter.cells
        result[fix(name) if isinstance(name, str) else name] = _map_strings(value, fix)
        changed += counter.cells != before
    return result, changed


def _map_strings(value: Any, fix: Callable[[str], str]) -> Any:
    """``value`` with every string (dict keys included) passed through ``fix``."""
    if isinstance(value, str):
        return fix(value)
    if not isinstance(value, dict | list):
        return value
    # (source container, its copy still to fill)
    stack: list[tuple[Any, list[Any] | dict[Any, Any]]] = []

    def copy(item: Any) -> Any:
        if isinstance(item, str):
            return fix(item)
        if isinstance(item, dict):
            target: dict[Any, Any] = {}
            stack.append((item, target))
            return target
        if isinstance(item, list):
            target_list: list[Any] = []
            stack.append((item, target_list))
            return target_list
        return item

    result = copy(value)
    while stack:
        source, target = stack.pop()
        if isinstance(target, dict):
            for key, item in source.items():
                target[fix(key) if isinstance(key, str) else key] = copy(item)
        else:
            target.extend(copy(item) for item in source)
    return result


def write_xlsx(out: BinaryIO, view: View, rows: Sequence[Mapping[str, Any]]) -> int:
    """An Excel workbook with one sheet, a bold frozen header row, numbers as numbers.

    Returns:
        Cells whose characters XML forbids were replaced with U+FFFD.
    """
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    fields, table = _table(view, rows)
    counter = _Counter()
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title=view.title[:31])
    ws.freeze_panes = "A2"
    header = []
    for name in fields:
        cell = WriteOnlyCell(ws, value=counter.clean(name, _XML_ILLEGAL))
        cell.font = Font(bold=True)
        header.append(cell)
    ws.append(header)
    for values in table:
        ws.append([_xlsx_value(v, counter) for v in values])
    save_workbook(wb, out)
    return counter.cells


def save_workbook(wb: Any, out: BinaryIO) -> None:
    """Write a workbook so that the same data gives the same bytes: fixed document times
    (Workbook.save would stamp "modified" with the clock; the writer it wraps keeps what
    we set) and fixed zip entry times."""
    from openpyxl.writer.excel import ExcelWriter

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


def _xlsx_value(value: Any, counter: _Counter) -> Any:
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int | float):
        return value
    return escape_formula(counter.clean(cell_text(value), _XML_ILLEGAL))


WRITERS: dict[str, Callable[[BinaryIO, View, Sequence[Mapping[str, Any]]], int]] = {
    "csv": write_csv, "json": write_json, "xlsx": write_xlsx,
}


def write_export(
    target: str | Path, fmt: str, view: View, rows: Sequence[Mapping[str, Any]]
) -> ExportResult:
    """Write rows to ``target`` ("-" for stdout) atomically.

    Returns:
        What was written, with the count of cells whose characters had to be replaced
        (show :meth:`ExportResult.note` to the user when it is not None).

    Raises:
        OSError: the file could not be written (nothing is left at the target).
        ValueError: an unknown format.
    """
    if fmt not in WRITERS:
        raise ValueError(f"Unknown format {fmt!r}; use one of {', '.join(FORMATS)}.")
    writer = WRITERS[fmt]
    cells = write_atomically(target, lambda out: writer(out, view, rows))
    return ExportResult(len(rows), fmt, cells)


def write_atomically(target: str | Path, write: Callable[[BinaryIO], int]) -> int:
    """Run ``write`` on a file that appears at ``target`` ("-" for stdout) only when
    complete: a temporary file beside it, flushed to disk, renamed over the target.

    Returns:
        What ``write`` returned (the cells it had to change).

    Raises:
        OSError: the file could not be written (nothing is left at the target); and
            whatever ``write`` raised, after removing the temporary file.
    """
    if str(target) == "-":
        buffer = io.BytesIO()
        cells = write(buffer)
        sys.stdout.buffer.write(buffer.getvalue())
        sys.stdout.buffer.flush()
        return cells
    path = Path(target)
    if path.exists() and not path.is_file():
        # A device or a pipe (/dev/null, a named pipe) is written to, never replaced.
        with open(path, "wb") as out:
            return write(out)
    directory = path.parent if str(path.parent) else Path(".")
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=directory)
    try:
        with os.fdopen(fd, "wb") as out:
            cells = write(out)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp_name, _file_mode(path))
        os.replace(tmp_name, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp_name)
        raise
    return cells
