"""The window's commands: QActions with their shortcuts, the menus and the toolbar.

:class:`WindowActions` creates every action of the main window (Refresh, Full refresh,
Work offline, Connections…, Export…, Quit, Find, About, one per tab) and lays them out in
the menu bar and the toolbar, with the toolbar's two combo boxes
(:class:`ConnectionSwitcher`, :class:`BuildingFilter`). What an action does is the
window's: it connects its slots to these actions and combos.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QIcon, QKeySequence
from PySide6.QtWidgets import (
    QComboBox,
    QLabel,
    QMainWindow,
    QMenuBar,
    QStyle,
    QToolBar,
    QWidget,
)

from makini_desktop import __version__
from makini_desktop.api import resources as res
from makini_desktop.store.profiles import ConnectionProfile
from makini_desktop.sync.session import ConnectionInfo
from makini_desktop.ui.dialog_parts import plain_label
from makini_desktop.ui.view_selector import SavedViews

if TYPE_CHECKING:  # imported when the box opens (a Qt class's first use creates its type)
    from PySide6.QtWidgets import QMessageBox

__all__ = [
    "CHOOSE_CONNECTION_TEXT",
    "NO_CONNECTION_TEXT",
    "UNSAVED_DATA",
    "BuildingFilter",
    "ConnectionSwitcher",
    "WindowActions",
    "open_about_box",
    "open_shortcuts_box",
    "shortcut_rows",
]

UNSAVED_DATA = ""
"""The switcher's data for the unsaved connection of this session while another is open."""
NO_CONNECTION_TEXT = "No connection"
CHOOSE_CONNECTION_TEXT = "Choose a connection…"


class WindowActions:
    """The main window's actions, each with its object name, shortcuts, icon and tooltip.

    Args:
        window: the window the actions belong to (Quit closes it).
        views: the tabs' views, in order: "Show <tab>" actions get Ctrl+1…Ctrl+9.
        show_tab: called with a tab's index when its action is triggered.
        detail_pane_action: the detail pane's show/hide action (View menu).

    Attributes:
        tab_actions: one action per tab, in the tabs' order.
        connection_switcher: the toolbar's connection switcher.
        building_filter: the toolbar's building filter.
    """

    def __init__(
        self,
        window: QMainWindow,
        views: Sequence[res.View],
        show_tab: Callable[[int], None],
        *,
        detail_pane_action: QAction | None = None,
    ) -> None:
        style = window.style()
        self.refresh_action = QAction("&Refresh", window)
        self.refresh_action.setObjectName("refreshAction")
        refresh_keys = [QKeySequence(QKeySequence.StandardKey.Refresh), QKeySequence("Ctrl+R")]
        self.refresh_action.setShortcuts(_unique(refresh_keys))
        self.refresh_action.setIcon(style.standardIcon(QStyle.StandardPixmap.SP_BrowserReload))
        self.refresh_action.setToolTip("Fetch what changed in the current tab (F5)")

        self.full_refresh_action = QAction("&Full refresh", window)
        self.full_refresh_action.setObjectName("fullRefreshAction")
        self.full_refresh_action.setShortcuts(
            _unique([QKeySequence("Shift+F5"), QKeySequence("Ctrl+Shift+R")])
        )
        self.full_refresh_action.setToolTip("Download the whole list of the current tab again")

        self.work_offline_action = QAction("Work &offline", window)
        self.work_offline_action.setObjectName("workOfflineAction")
        self.work_offline_action.setCheckable(True)
        offline_icon = QIcon.fromTheme(QIcon.ThemeIcon.NetworkOffline)  # where the OS has one
        if not offline_icon.isNull():
            self.work_offline_action.setIcon(offline_icon)
        self.work_offline_action.setToolTip(
            "Use only the data on this computer: nothing is fetched until you turn it off")
        self.work_offline_action.setStatusTip(self.work_offline_action.toolTip())

        self.connections_action = QAction("&Connections…", window)
        self.connections_action.setObjectName("connectionsAction")
        # Ctrl+Shift+O is the front desk's Check out.
        self.connections_action.setShortcut(QKeySequence("Ctrl+Shift+K"))
        self.connections_action.setIcon(style.standardIcon(QStyle.StandardPixmap.SP_DriveNetIcon))
        self.connections_action.setToolTip("Add, edit or switch connections (Ctrl+Shift+K)")

        self.export_action = QAction("&Export…", window)
        self.export_action.setObjectName("exportAction")
        self.export_action.setShortcut(QKeySequence("Ctrl+E"))
        self.export_action.setIcon(style.standardIcon(QStyle.StandardPixmap.SP_DialogSaveButton))
        self.export_action.setToolTip("Save the rows shown in this tab as CSV, Excel or JSON")

        self.quit_action = QAction("&Quit", window)
        self.quit_action.setObjectName("quitAction")
        self.quit_action.setShortcuts(
            _unique([QKeySequence(QKeySequence.StandardKey.Quit), QKeySequence("Ctrl+Q")])
        )
        self.quit_action.setMenuRole(QAction.MenuRole.QuitRole)
        self.quit_action.triggered.connect(window.close)

        self.find_action = QAction("&Find", window)
        self.find_action.setObjectName("findAction")
        self.find_action.setShortcut(QKeySequence(QKeySequence.StandardKey.Find))

        self.about_action = QAction("&About makini-desktop", window)
        self.about_action.setObjectName("aboutAction")
        self.about_action.setMenuRole(QAction.MenuRole.AboutRole)
        self.shortcuts_action = QAction("&Keyboard shortcuts", window)
        self.shortcuts_action.setObjectName("shortcutsAction")
        self.shortcuts_action.setShortcut(QKeySequence(QKeySequence.StandardKey.HelpContents))
        self.shortcuts_action.triggered.connect(lambda: open_shortcuts_box(window))

        self.tab_actions: list[QAction] = []
        for i, view in enumerate(views):
            action = QAction(view.title, window)
            action.setObjectName(f"show{view.title}Action")
            if i < 9:
                action.setShortcut(QKeySequence(f"Ctrl+{i + 1}"))
            action.triggered.connect(lambda _checked=False, index=i: show_tab(index))
            self.tab_actions.append(action)
        self.connection_switcher = ConnectionSwitcher(window)
        self.building_filter = BuildingFilter(window)
        # Saved views and the column chooser: a selector in each tab and the View menu's
        # view actions (the window's tabs exist by now).
        self.saved_views = SavedViews(window)
        self._setup_detail_actions(window, detail_pane_action)

    def _setup_detail_actions(self, window: QMainWindow, pane_action: QAction | None) -> None:
        """The detail pane's toggle, and Back/Forward through the records it showed."""
        self.detail_pane_action = pane_action
        if pane_action is not None:
            pane_action.setText("&Details pane")
            pane_action.setObjectName("detailPaneAction")
            # Ctrl+I is the front desk's Check in.
            pane_action.setShortcut(QKeySequence("Ctrl+Shift+D"))
            pane_action.setToolTip(
                "Show or hide everything about the selected row (Ctrl+Shift+D, or Enter)")
        style = window.style()
        self.back_action = QAction("&Back", window)
        self.back_action.setObjectName("backAction")
        self.back_action.setShortcuts(_unique([
            QKeySequence(QKeySequence.StandardKey.Back), QKeySequence("Alt+Left")]))
        self.back_action.setIcon(style.standardIcon(QStyle.StandardPixmap.SP_ArrowBack))
        self.back_action.setToolTip("Back to the record shown before (Alt+Left)")
        self.forward_action = QAction("&Forward", window)
        self.forward_action.setObjectName("forwardAction")
        self.forward_action.setShortcuts(_unique([
            QKeySequence(QKeySequence.StandardKey.Forward), QKeySequence("Alt+Right")]))
        self.forward_action.setIcon(style.standardIcon(QStyle.StandardPixmap.SP_ArrowForward))
        self.forward_action.setToolTip("Forward again (Alt+Right)")

    def fill_menu_bar(self, menu_bar: QMenuBar) -> None:
        """File, View and Help."""
        menu_bar.setAccessibleName("Menu bar")
        file_menu = menu_bar.addMenu("&File")
        file_menu.setObjectName("fileMenu")
        file_menu.setAccessibleName("File")
        file_menu.addAction(self.connections_action)
        file_menu.addAction(self.export_action)
        file_menu.addSeparator()
        file_menu.addAction(self.work_offline_action)
        file_menu.addSeparator()
        file_menu.addAction(self.quit_action)
        view_menu = menu_bar.addMenu("&View")
        view_menu.setObjectName("viewMenu")
        view_menu.setAccessibleName("View")
        view_menu.addAction(self.refresh_action)
        view_menu.addAction(self.full_refresh_action)
        view_menu.addAction(self.find_action)
        view_menu.addSeparator()
        for action in self.tab_actions:
            view_menu.addAction(action)
        view_menu.addSeparator()
        if self.detail_pane_action is not None:
            view_menu.addAction(self.detail_pane_action)
        view_menu.addAction(self.back_action)
        view_menu.addAction(self.forward_action)
        view_menu.addSeparator()
        for action in self.saved_views.actions():
            view_menu.addAction(action)
        help_menu = menu_bar.addMenu("&Help")
        help_menu.setObjectName("helpMenu")
        help_menu.setAccessibleName("Help")
        help_menu.addAction(self.shortcuts_action)
        help_menu.addAction(self.about_action)

    def make_toolbar(self, window: QMainWindow) -> QToolBar:
        """The main toolbar, with the connection switcher and the building filter."""
        connection_switcher, building_filter = self.connection_switcher, self.building_filter
        toolbar = QToolBar("Main toolbar", window)
        toolbar.setObjectName("mainToolbar")
        toolbar.setAccessibleName("Main toolbar")
        toolbar.setMovable(False)
        toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        toolbar.addAction(self.refresh_action)
        toolbar.addAction(self.work_offline_action)
        toolbar.addAction(self.connections_action)
        toolbar.addSeparator()
        connection_caption = QLabel("Connection: ", toolbar)
        connection_caption.setAccessibleName("Connection")
        connection_caption.setBuddy(connection_switcher)
        toolbar.addWidget(connection_caption)
        toolbar.addWidget(connection_switcher)
        toolbar.addSeparator()
        building_caption = QLabel("Building: ", toolbar)
        building_caption.setAccessibleName("Building")
        building_caption.setBuddy(building_filter)
        toolbar.addWidget(building_caption)
        toolbar.addWidget(building_filter)
        toolbar.addSeparator()
        toolbar.addAction(self.export_action)
        toolbar.addAction(self.saved_views.choose_columns_action)
        return toolbar


class ConnectionSwitcher(QComboBox):
    """The toolbar's choice of connection: every saved one, and the unsaved one in use.

    Each item's data is its profile id (None for the unsaved connection in use, and for
    the first item "Choose a connection…" while none is open; :data:`UNSAVED_DATA` for the
    unsaved one used earlier in this session, the demo say, to go back to).
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("connectionSwitcher")
        self.setAccessibleName("Active connection")
        self.setToolTip("Switch to another saved connection")
        self.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.setMinimumContentsLength(16)

    def fill(self, profiles: Sequence[ConnectionProfile], info: ConnectionInfo | None,
             unsaved: ConnectionInfo | None = None) -> None:
        """List the saved connections and select the one in use (no signal is emitted);
        ``unsaved``, one used earlier in this session, is listed first."""
        self.blockSignals(True)
        self.clear()
        current = -1
        for profile in profiles:
            self.addItem(profile.name, profile.id)
            if info is not None and info.profile_id == profile.id:
                current = self.count() - 1
        if info is not None and info.profile_id is None:
            self.insertItem(0, info.name, None)  # the unsaved (ad-hoc or demo) connection
            current = 0
        elif unsaved is not None:
            self.insertItem(0, unsaved.name, UNSAVED_DATA)
            current += 1 if current >= 0 else 0
        if self.count() == 0:
            self.addItem(NO_CONNECTION_TEXT, None)
        elif info is None:
            # Never name a connection that is not open: the first item asks for a choice.
            self.insertItem(0, CHOOSE_CONNECTION_TEXT, None)
            current = 0
        self.setCurrentIndex(max(current, 0))
        self.blockSignals(False)


class BuildingFilter(QComboBox):
    """The toolbar's building filter: "All buildings", then every building by name.

    Each item's data is the building's key (None for all buildings).
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("buildingFilter")
        self.setAccessibleName("Building filter")
        self.setToolTip("Show only the rows of one building, in every tab")
        self.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.setMinimumContentsLength(18)
        self.addItem("All buildings", None)

    def fill(self, names: Mapping[str, str]) -> bool:
        """List the buildings (key → name), keeping the selection (no signal is emitted).

        Returns:
            False when the selected building is no longer listed (now "All buildings").
        """
        selected = self.currentData()
        self.blockSignals(True)
        self.clear()
        self.addItem("All buildings", None)
        for key, name in sorted(names.items(), key=lambda kv: (kv[1].casefold(), kv[0])):
            self.addItem(name or key, key)
        index = self.findData(selected) if selected is not None else 0
        self.setCurrentIndex(max(index, 0))
        self.blockSignals(False)
        return index >= 0


def open_about_box(parent: QWidget) -> QMessageBox:
    """Help → About: the app's name, version, what it is for and where its logs are."""
    from PySide6.QtWidgets import QMessageBox

    from makini_desktop.store.paths import log_dir

    box = _open_box(
        parent, "aboutBox", "About makini-desktop", f"<b>makini-desktop</b> {__version__}",
        "Spaces, assets, moves and visitors of your workplace systems, through the Makini "
        f"unified API.\n\nLog files (to send with a question to support): {log_dir()}",
    )
    box.setIcon(QMessageBox.Icon.Information)
    box.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return box


def shortcut_rows(window: QWidget) -> list[tuple[str, str]]:
    """Every action of the window that has a shortcut: its name and its keys, as this
    platform writes them (Ctrl+F, ⌘F), sorted by name."""
    rows: dict[str, str] = {}
    for action in window.findChildren(QAction):
        keys = [k.toString(QKeySequence.SequenceFormat.NativeText) for k in action.shortcuts()]
        keys = [k for k in keys if k]
        name = plain_label(action.text()).strip()
        if keys and name:
            rows[name] = ", ".join(keys)
    return sorted(rows.items(), key=lambda row: row[0].casefold())


def open_shortcuts_box(window: QWidget) -> QMessageBox:
    """Help → Keyboard shortcuts (F1): every shortcut of the window."""
    lines = "".join(f"<tr><td>{html.escape(name)}</td><td>&nbsp;&nbsp;<b>{html.escape(keys)}"
                    "</b></td></tr>" for name, keys in shortcut_rows(window))
    return _open_box(window, "shortcutsBox", "Keyboard shortcuts",
                     "<b>Keyboard shortcuts</b>", f"<table>{lines}</table>")


def _open_box(parent: QWidget, name: str, title: str, text: str, details: str) -> QMessageBox:
    """A non-modal message box of the Help menu, deleted when closed."""
    from PySide6.QtWidgets import QMessageBox

    box = QMessageBox(parent)
    box.setObjectName(name)
    box.setAccessibleName(title)
    box.setWindowTitle(title)
    box.setText(text)
    box.setInformativeText(details)
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    box.open()
    return box


def _unique(keys: list[QKeySequence]) -> list[QKeySequence]:
    """Shortcuts without duplicates (on macOS Refresh already is Cmd+R)."""
    seen: set[str] = set()
    out = []
    for key in keys:
        text = key.toString()
        if text and text not in seen:
            seen.add(text)
            out.append(key)
    return out
