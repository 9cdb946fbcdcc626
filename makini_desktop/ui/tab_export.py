"""File → Export: ask where, write the rows a tab shows, and say what was written.

The writing itself is :mod:`makini_desktop.export`'s (CSV, Excel, JSON); this module is the
window's side of it: the save dialog, the thread the file is written in, and the status-bar
message or the "Export failed" box.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from typing import Any

import shiboken6
from PySide6.QtCore import QObject, Qt
from PySide6.QtWidgets import QFileDialog, QMainWindow, QMessageBox
from qasync import asyncSlot

from makini_desktop.api import resources as res
from makini_desktop.export import FORMATS, format_for_path, write_export
from makini_desktop.ui.table_model import ResourceTableModel

__all__ = ["TabExporter"]


class TabExporter(QObject):
    """Exports a tab's shown rows (search and filter applied) to a file.

    Args:
        window: the main window: the dialogs' parent.
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

    def ask_path(self, view: res.View) -> QFileDialog:
        """Open the save dialog for a tab; choosing a file exports to it."""
        dialog = QFileDialog(self._window, f"Export {view.title.lower()}")
        dialog.setObjectName("exportDialog")
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        dialog.setNameFilters([
            "CSV (*.csv)", "Excel workbook (*.xlsx)", "JSON (*.json)",
        ])
        dialog.setDefaultSuffix("csv")
        dialog.selectFile(f"{view.name}.csv")
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.filterSelected.connect(
            lambda name, d=dialog: d.setDefaultSuffix(_suffix_of_filter(name))
        )
        dialog.fileSelected.connect(self._on_export_dialog_file_selected)
        self._view_name = view.name
        dialog.open()  # never exec(): the loop keeps loading while the dialog is up
        return dialog

    @asyncSlot(str)  # type: ignore[untyped-decorator]  # qasync ships no type hints
    async def _on_export_dialog_file_selected(self, path: str) -> None:
        await self.export(self._view_name, path)

    async def export(self, view_name: str, path: str) -> bool:
        """Write the rows shown in a tab (search and filter applied) to ``path``.

        The format follows the file's extension (CSV when unknown). Works offline: it only
        reads the table.

        Returns:
            True when the file was written.
        """
        window = self._window
        model = self._models[view_name]
        rows = model.visible_rows()
        fmt = format_for_path(path)
        view = model.view
        self._tell(f"Exporting {len(rows):,} {view.noun[1]}…", lasting=True)
        self._writing = asyncio.ensure_future(
            asyncio.to_thread(write_export, path, fmt, view, rows)
        )
        try:
            result = await asyncio.shield(self._writing)
        except (OSError, ValueError) as exc:
            if shiboken6.isValid(window):
                reason = getattr(exc, "strerror", None) or str(exc)
                window.statusBar().clearMessage()
                box = QMessageBox(QMessageBox.Icon.Warning, "Export failed",
                                  f"Could not write {path}: {reason}", parent=window)
                box.setObjectName("exportFailedBox")
                box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
                box.open()
            return False
        if shiboken6.isValid(window):
            noun = view.noun[0] if len(rows) == 1 else view.noun[1]
            message = f"Exported {len(rows):,} {noun} to {path}"
            note = result.note()
            if note is None:
                self._tell(message)
            else:
                # Kept until the next message: the file differs from what the table shows.
                self._tell(f"{message} — {note}.", lasting=True)
        return True

    async def wait(self) -> None:
        """Wait for a file being written (never leave a half-written file behind)."""
        if self._writing is not None and not self._writing.done():
            await asyncio.wait([self._writing])


def _suffix_of_filter(name: str) -> str:
    for fmt in FORMATS:
        if f"*.{fmt}" in name:
            return fmt
    return "csv"
