"""The Overview's commands: show it, export it (PNG or PDF), print it, and the on-site
roster (print, save as PDF) from the overview and the Visitors tab, offline too.

Everything here reads what the window already holds (the overview's figures, the Visitors
rows): nothing is fetched, so it works offline and on a cache-only connection.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QPoint, QSize, Qt
from PySide6.QtGui import QAction, QKeySequence, QPageLayout, QPainter
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLayout,
    QMenu,
    QToolBar,
    QToolButton,
    QWidget,
)
from qasync import asyncSlot

from makini_desktop.api import resources as res
from makini_desktop.sync.notify import Level
from makini_desktop.ui.dialog_parts import plain_label
from makini_desktop.ui.overview_parts import tr

if TYPE_CHECKING:  # the dialogs, the PDF writer and the roster: imported when first used
    from PySide6.QtWidgets import QFileDialog

    from makini_desktop.table.roster import Roster
    from makini_desktop.ui.main_window import MainWindow
    from makini_desktop.ui.overview_tab import OverviewTab

__all__ = ["OverviewActions", "render_to_pdf"]


def render_to_pdf(widget: QWidget, path: str, title: str) -> None:
    """Draw ``widget`` on one landscape A4 page of a PDF (its text stays text)."""
    from PySide6.QtGui import QPageSize, QPdfWriter

    writer = QPdfWriter(path)
    writer.setTitle(title)
    writer.setCreator("makini-desktop")
    writer.setPageLayout(QPageLayout(QPageSize(QPageSize.PageSizeId.A4),
                                     QPageLayout.Orientation.Landscape,
                                     QPageLayout().margins(), QPageLayout.Unit.Millimeter))
    writer.setResolution(144)
    _paint_fitted(widget, writer)
    del writer


def _paint_fitted(widget: QWidget, device: object) -> None:
    painter = QPainter(device)  # type: ignore[call-overload]
    try:
        page = painter.viewport()
        size = widget.size()
        scale = min(page.width() / max(size.width(), 1), page.height() / max(size.height(), 1))
        painter.scale(scale, scale)
        widget.render(painter, QPoint())
    finally:
        painter.end()


class OverviewActions(QObject):
    """The overview's and the roster's actions, placed in the File and View menus, on the
    overview's heading row and on the Visitors tab.

    Args:
        window: the main window.
        tab: the Overview tab.
    """

    def __init__(self, window: MainWindow, tab: OverviewTab) -> None:
        super().__init__(window)
        self.window = window
        self.tab = tab
        self.show_action = self._action("showOverviewAction", tr("Overview"), "Ctrl+0",
                                        tr("Show the overview (Ctrl+0)"))
        self.show_action.triggered.connect(
            lambda: window.resource_tabs.setCurrentWidget(tab))
        self.export_action = self._action(
            "exportOverviewAction", tr("Export overview…"), "",
            tr("Save the overview as a PNG picture or a PDF"))
        self.export_action.triggered.connect(self.ask_export_path)
        self.print_action = self._action("printOverviewAction", tr("Print overview…"), "",
                                         tr("Print the overview"))
        self.print_action.triggered.connect(self.open_print_overview)
        self.print_roster_action = self._action(
            "printRosterAction", tr("Print on-site roster…"), "Ctrl+Shift+P",
            tr("Print everyone checked in now, per building (works offline)"))
        self.print_roster_action.triggered.connect(self.open_print_roster)
        self.save_roster_action = self._action(
            "saveRosterPdfAction", tr("Save on-site roster as PDF…"), "",
            tr("Save everyone checked in now, per building, as a PDF (works offline)"))
        self.save_roster_action.triggered.connect(self.ask_roster_path)
        self._place()

    def _action(self, name: str, text: str, keys: str, tip: str) -> QAction:
        action = QAction(text, self.window)
        action.setObjectName(name)
        if keys:
            action.setShortcut(QKeySequence(keys))
        action.setToolTip(tip)
        action.setStatusTip(tip)
        self.window.addAction(action)  # its shortcut works from every tab
        return action

    def _place(self) -> None:
        bar = self.window.menuBar()
        file_menu = bar.findChild(QMenu, "fileMenu")
        if file_menu is not None:
            before = self.window.export_action
            file_menu.insertSeparator(before)
            for action in (self.export_action, self.print_action, self.print_roster_action,
                           self.save_roster_action):
                file_menu.insertAction(before, action)
            file_menu.insertSeparator(before)
        view_menu = bar.findChild(QMenu, "viewMenu")
        if view_menu is not None and self.window.tab_actions:
            view_menu.insertAction(self.window.tab_actions[0], self.show_action)
        for action in (self.export_action, self.print_action, self.print_roster_action,
                       self.save_roster_action):
            self.tab.add_tool(self._button(action, self.tab))
        visitors = self.window.tabs.get("visitors")
        desk_bar = (visitors.findChild(QToolBar, "visitorsDeskToolbar")
                    if visitors is not None else None)
        if desk_bar is not None:
            # With the front desk's actions: the search row keeps its room, so the window
            # still fits a laptop screen with the detail pane open.
            desk_bar.addSeparator()
            for action in (self.print_roster_action, self.save_roster_action):
                desk_bar.addAction(action)
                button = desk_bar.widgetForAction(action)
                button.setObjectName(_visitors_button_name(action))
                button.setAccessibleName(plain_label(action.text()))
            return
        top = _first_row(visitors.layout()) if visitors is not None else None
        if visitors is not None and top is not None:
            for action in (self.print_roster_action, self.save_roster_action):
                button = self._button(action, visitors)
                button.setObjectName(_visitors_button_name(action))
                top.addWidget(button)

    @staticmethod
    def _button(action: QAction, parent: QWidget) -> QToolButton:
        button = QToolButton(parent)
        button.setDefaultAction(action)
        button.setObjectName(f"{action.objectName()[:-6]}Button")
        button.setAccessibleName(plain_label(action.text()))
        button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        return button

    # -- the roster -------------------------------------------------------------------------

    def roster(self) -> Roster:
        """Everyone checked in now, in the building the filter shows (all: every one)."""
        from makini_desktop.table.roster import build_roster

        ws = self.window.workspace
        building = self.window.building_filter.currentData()
        return build_roster(
            ws.models["visitors"].all_rows(), ws.lookups.names(res.SITES.name),
            building=None if building is None else str(building),
            confirmed_at=ws.tabs["visitors"].status.synced_at,
        )

    def save_roster_pdf(self, path: str) -> bool:
        """Write the roster to ``path`` and say so; False (and why) when it failed."""
        from makini_desktop.ui import roster as paper  # the printed roster: when first used

        roster = self.roster()
        try:
            paper.write_roster_pdf(roster, path)
        except OSError as exc:
            self.window.tell(str(exc), level=Level.WARNING)
            return False
        self.window.tell(tr("On-site roster saved: {0} people, {1}").format(
            roster.count, os.path.basename(path)))
        return True

    def ask_roster_path(self) -> QFileDialog:
        dialog = self._save_dialog("rosterPdfDialog", tr("Save the on-site roster"),
                                   ["PDF (*.pdf)"], "on-site-roster.pdf")
        dialog.fileSelected.connect(self.save_roster_pdf)
        dialog.open()
        return dialog

    def open_print_roster(self) -> QWidget | None:
        from makini_desktop.ui import roster as paper  # the printed roster: when first used

        dialog = paper.open_print_dialog(self.window, self.roster())
        if dialog is None:
            self.window.tell(tr("Printing is not available here: save the roster as PDF."),
                             level=Level.WARNING)
        return dialog

    # -- the overview -----------------------------------------------------------------------

    def _save_dialog(self, name: str, title: str, filters: list[str],
                     file_name: str) -> QFileDialog:
        from PySide6.QtWidgets import QFileDialog

        dialog = QFileDialog(self.window, title)
        dialog.setObjectName(name)
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        dialog.setNameFilters(filters)
        dialog.setDefaultSuffix(file_name.rsplit(".", 1)[-1])
        dialog.selectFile(file_name)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        return dialog

    def ask_export_path(self) -> QFileDialog:
        dialog = self._save_dialog("overviewExportDialog", tr("Export the overview"),
                                   ["PNG picture (*.png)", "PDF (*.pdf)"], "overview.png")
        dialog.filterSelected.connect(
            lambda f, d=dialog: d.setDefaultSuffix("pdf" if "pdf" in f else "png"))
        dialog.fileSelected.connect(self._on_export_dialog_file_selected)
        dialog.open()
        return dialog

    @asyncSlot(str)  # type: ignore[untyped-decorator]  # qasync ships no type hints
    async def _on_export_dialog_file_selected(self, path: str) -> None:
        await self.export_overview(path)

    def _content(self) -> QWidget:
        content = self.tab.content
        if not self.tab.isVisible():  # never shown: give it the size it wants
            content.resize(content.sizeHint().expandedTo(QSize(1100, 700)))
        return content

    async def export_overview(self, path: str) -> bool:
        """Save the overview (fresh figures) as PNG, or PDF when the name ends in .pdf."""
        await self.tab.ensure_current()
        content = self._content()
        try:
            if path.lower().endswith(".pdf"):
                render_to_pdf(content, path, tr("Overview"))
                ok = os.path.getsize(path) > 0
            else:
                ok = content.grab().save(path, "PNG")
        except OSError:
            ok = False
        if not ok:
            self.window.tell(tr("Could not save the overview to {0}: check that the folder "
                                "exists and can be written to.").format(path),
                             level=Level.WARNING)
            return False
        self.window.tell(tr("Overview saved: {0}").format(os.path.basename(path)))
        return True

    def open_print_overview(self) -> QWidget | None:
        try:
            from PySide6.QtPrintSupport import QPrintDialog, QPrinter
        except ImportError:
            self.window.tell(tr("Printing is not available here: export the overview as PDF."),
                             level=Level.WARNING)
            return None
        printer = QPrinter(QPrinter.PrinterMode.HighResolution)
        printer.setPageOrientation(QPageLayout.Orientation.Landscape)
        dialog = QPrintDialog(printer, self.window)
        dialog.setObjectName("overviewPrintDialog")
        dialog.accepted.connect(lambda: _paint_fitted(self._content(), printer))
        dialog.setWindowModality(Qt.WindowModality.WindowModal)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.show()  # never exec(): the event loop keeps running
        return dialog


def _visitors_button_name(action: QAction) -> str:
    """``printRosterAction`` → ``visitorsPrintRosterButton``."""
    name = action.objectName()
    return f"visitors{name[0].upper()}{name[1:-6]}Button"


def _first_row(layout: QLayout | None) -> QHBoxLayout | None:
    """The first horizontal row of a tab's layout (the search row)."""
    if layout is None:
        return None
    for i in range(layout.count()):
        item = layout.itemAt(i)
        inner = item.layout() if item is not None else None
        if isinstance(inner, QHBoxLayout):
            return inner
    return None
