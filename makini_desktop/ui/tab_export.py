"""File → Export: ask where, write the tab exactly as shown, and say what was written.

CSV and Excel get the table as the tab shows it (:mod:`makini_desktop.export_human`: the
shown columns in their order, names, labels, local times), with the tab's search, filters
and sort; JSON gets the API's own records of the rows shown. This module is the window's
side of it: the save dialog (a file name that says what it holds, in Documents or the
folder used last), the thread the file is written in, the progress dialog with Cancel, and
the status-bar message or the "Export failed" box.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Mapping
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import shiboken6
from PySide6.QtCore import QCoreApplication, QObject, Qt, QTimer
from PySide6.QtWidgets import QMainWindow
from qasync import asyncSlot

from makini_desktop.api import resources as res
from makini_desktop.table.cells import Cells
from makini_desktop.ui.table_model import ResourceTableModel

if TYPE_CHECKING:  # the writers are imported when a file is written, not with the window
    # and so are the dialogs: a Qt class's first use creates its Python type and enums.
    from PySide6.QtWidgets import QFileDialog, QProgressDialog

    from makini_desktop.export import ExportResult
    from makini_desktop.export_human import HumanTable

__all__ = ["LAST_FOLDER_KEY", "PROGRESS_MIN_MS", "TabExporter", "default_file_name",
           "documents_folder"]

LAST_FOLDER_KEY = "export/lastFolder"
PROGRESS_MIN_MS = 400
"""An export that takes longer than this shows a progress dialog with Cancel."""
_PROGRESS_POLL_MS = 100
_UNSAFE_IN_NAMES = '/\\:*?"<>|'


def _tr(text: str) -> str:
    return QCoreApplication.translate("TabExporter", text)


def documents_folder() -> Path:
    """The user's Documents folder; their home folder when there is none."""
    from PySide6.QtCore import QStandardPaths

    for where in (QStandardPaths.StandardLocation.DocumentsLocation,
                  QStandardPaths.StandardLocation.HomeLocation):
        folder = QStandardPaths.writableLocation(where)
        if folder and Path(folder).is_dir():
            return Path(folder)
    return Path.home()


def default_file_name(view: res.View, building: str | None, day: date, fmt: str) -> str:
    """``Assets — Two Riverside Square — 2026-12-01.xlsx``: what the file holds."""
    where = building or _tr("All buildings")
    stem = f"{view.title} — {where} — {day.isoformat()}"
    safe = "".join("-" if ch in _UNSAFE_IN_NAMES or ord(ch) < 32 else ch for ch in stem)
    return f"{safe.strip()}.{fmt}"


class _Progress:
    """Rows written so far and the Cancel request, shared with the writing thread."""

    def __init__(self) -> None:
        self.done = 0
        self.cancelled = threading.Event()

    def report(self, done: int) -> bool:
        self.done = done
        return not self.cancelled.is_set()


class TabExporter(QObject):
    """Exports a tab as shown (search, filters and sort applied) to a file.

    Args:
        window: the main window: the dialogs' parent; its tabs give the columns shown, its
            building filter the file name, its settings the folder used last.
        models: the tabs' models by view name.
        tell: says something to the user (the window's ``tell``: the bus, then the status
            bar), with ``lasting=True`` for a message that stays until the next.
    """

    def __init__(
        self, window: QMainWindow, models: Mapping[str, ResourceTableModel],
        tell: Callable[..., None],
    ) -> None:
        super().__init__(window)
        self._window = window
        self._tell = tell
        self._models = models
        self._view_name = ""
        self._writing: asyncio.Task[Any] | None = None
        self.progress_dialog: QProgressDialog | None = None

    def default_path(self, view: res.View, fmt: str = "xlsx") -> Path:
        """Where the save dialog starts: the folder used last (else Documents) and a name
        that says what the file holds."""
        settings = getattr(self._window, "settings", None)
        kept = settings.value(LAST_FOLDER_KEY) if settings is not None else None
        folder = Path(kept) if isinstance(kept, str) and kept and Path(kept).is_dir() else (
            documents_folder())
        building_filter = getattr(self._window, "building_filter", None)
        building = None
        if building_filter is not None and building_filter.currentData() is not None:
            building = building_filter.currentText()
        return folder / default_file_name(view, building, date.today(), fmt)

    def ask_path(self, view: res.View) -> QFileDialog:
        """Open the save dialog for a tab; choosing a file exports to it."""
        from PySide6.QtWidgets import QFileDialog

        dialog = QFileDialog(self._window, _tr("Export {title}").format(
            title=view.title.lower()))
        dialog.setObjectName("exportDialog")
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        dialog.setNameFilters([
            _tr("Excel workbook (*.xlsx)"), _tr("CSV (*.csv)"),
            _tr("JSON, the API's records (*.json)"),
        ])
        dialog.setDefaultSuffix("xlsx")
        path = self.default_path(view)
        dialog.setDirectory(str(path.parent))
        dialog.selectFile(path.name)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.filterSelected.connect(
            lambda name, d=dialog: self._on_dialog_filter_selected(d, name)
        )
        dialog.fileSelected.connect(self._on_export_dialog_file_selected)
        self._view_name = view.name
        dialog.open()  # never exec(): the loop keeps loading while the dialog is up
        return dialog

    @staticmethod
    def _on_dialog_filter_selected(dialog: QFileDialog, name: str) -> None:
        fmt = _suffix_of_filter(name)
        dialog.setDefaultSuffix(fmt)
        chosen = dialog.selectedFiles()
        if chosen:
            dialog.selectFile(Path(chosen[0]).with_suffix(f".{fmt}").name)

    @asyncSlot(str)  # type: ignore[untyped-decorator]  # qasync ships no type hints
    async def _on_export_dialog_file_selected(self, path: str) -> None:
        settings = getattr(self._window, "settings", None)
        if settings is not None:
            settings.setValue(LAST_FOLDER_KEY, str(Path(path).resolve().parent))
        await self.export(self._view_name, path)

    def _table_of(self, view_name: str, model: ResourceTableModel) -> HumanTable:
        """The tab's shown columns, read with a copy of the names (the thread reads it
        while pages may still arrive)."""
        from makini_desktop.export_human import HumanTable

        cells = Cells(model.columns, model.lookups.snapshot())
        tabs = getattr(self._window, "tabs", {})
        tab = tabs.get(view_name)
        if tab is None:
            return HumanTable.default(model.view, cells)
        return HumanTable(cells, tab.table.visible_columns())

    async def export(self, view_name: str, path: str) -> bool:
        """Write a tab as shown to ``path``: CSV and XLSX as the table shows it, JSON as the
        API's records of the rows shown. The format follows the file's extension (CSV when
        unknown). Works offline: it only reads the table.

        Returns:
            True when the file was written.
        """
        from makini_desktop.export import format_for_path, write_export
        from makini_desktop.export_human import (
            HUMAN_FORMATS,
            ExportCancelledError,
            write_human_export,
        )

        window = self._window
        model = self._models[view_name]
        rows = model.visible_rows()
        fmt = format_for_path(path)
        view = model.view
        progress = _Progress()
        self._tell(_tr("Exporting {n} {noun}…").format(n=f"{len(rows):,}", noun=view.noun[1]),
                   lasting=True)
        if fmt in HUMAN_FORMATS:
            table = self._table_of(view_name, model)
            work: Callable[[], ExportResult] = lambda: write_human_export(  # noqa: E731
                path, fmt, table, rows, title=view.title, progress=progress.report)
        else:
            work = lambda: write_export(path, fmt, view, rows)  # noqa: E731
        self._writing = asyncio.ensure_future(asyncio.to_thread(work))
        dialog = self._show_progress(len(rows), progress)
        try:
            result = await asyncio.shield(self._writing)
        except ExportCancelledError:
            if shiboken6.isValid(window):
                self._tell(_tr("Export cancelled; no file was written."))
            return False
        except (OSError, ValueError) as exc:
            if shiboken6.isValid(window):
                reason = getattr(exc, "strerror", None) or str(exc)
                window.statusBar().clearMessage()
                from PySide6.QtWidgets import QMessageBox

                box = QMessageBox(QMessageBox.Icon.Warning, _tr("Export failed"),
                                  _tr("Could not write {path}: {reason}").format(
                                      path=path, reason=reason), parent=window)
                box.setObjectName("exportFailedBox")
                box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
                box.open()
            return False
        finally:
            self._close_progress(dialog)
        if shiboken6.isValid(window):
            noun = view.noun[0] if len(rows) == 1 else view.noun[1]
            message = _tr("Exported {n} {noun} to {path}").format(
                n=f"{len(rows):,}", noun=noun, path=path)
            note = result.note()
            if note is None:
                self._tell(message)
            else:
                # Kept until the next message: the file differs from what the table shows.
                self._tell(f"{message} — {note}.", lasting=True)
        return True

    def _show_progress(self, rows: int, progress: _Progress) -> tuple[QProgressDialog, QTimer]:
        """A progress dialog that appears if the export takes a while; Cancel stops it."""
        from PySide6.QtWidgets import QProgressDialog

        dialog = QProgressDialog(_tr("Exporting {n} rows…").format(n=f"{rows:,}"),
                                 _tr("Cancel"), 0, max(rows, 1), self._window)
        dialog.setObjectName("exportProgress")
        dialog.setWindowTitle(_tr("Export"))
        dialog.setWindowModality(Qt.WindowModality.WindowModal)
        dialog.setMinimumDuration(PROGRESS_MIN_MS)
        dialog.setAutoClose(False)
        dialog.setAutoReset(False)
        dialog.canceled.connect(progress.cancelled.set)
        dialog.setValue(0)
        timer = QTimer(dialog)
        timer.setInterval(_PROGRESS_POLL_MS)
        timer.timeout.connect(lambda: dialog.setValue(min(progress.done, dialog.maximum())))
        timer.start()
        self.progress_dialog = dialog
        return dialog, timer

    def _close_progress(self, shown: tuple[QProgressDialog, QTimer]) -> None:
        dialog, timer = shown
        if shiboken6.isValid(timer):
            timer.stop()
        if shiboken6.isValid(dialog):
            dialog.canceled.disconnect()
            dialog.close()
            dialog.deleteLater()
        self.progress_dialog = None

    async def wait(self) -> None:
        """Wait for a file being written (never leave a half-written file behind)."""
        if self._writing is not None and not self._writing.done():
            await asyncio.wait([self._writing])


def _suffix_of_filter(name: str) -> str:
    from makini_desktop.export import FORMATS

    for fmt in FORMATS:
        if f"*.{fmt}" in name:
            return fmt
    return "csv"
