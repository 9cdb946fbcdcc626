"""The window's layout between sessions: geometry, active tab, Work offline, every table's
columns (order, widths, hidden, sort), kept in QSettings."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QByteArray, QSettings, Qt

from makini_desktop.api import resources as res
from makini_desktop.store.paths import settings_path

if TYPE_CHECKING:  # the window imports this module
    from makini_desktop.ui.main_window import MainWindow

__all__ = ["WORK_OFFLINE_KEY", "open_settings", "restore_layout", "save_layout"]

# QSettings keys.
_K_GEOMETRY = "window/geometry"
_K_STATE = "window/state"
_K_TAB = "window/activeTab"
WORK_OFFLINE_KEY = "network/workOffline"


def open_settings() -> QSettings:
    """The app's settings, in an ini file that follows ``MAKINI_DESKTOP_HOME``."""
    return QSettings(str(settings_path()), QSettings.Format.IniFormat)


def _column_signature(view: res.View) -> str:
    return ",".join(c.id for c in view.columns)


def restore_layout(window: MainWindow) -> None:
    """Put back what :func:`save_layout` kept (a table whose columns changed starts afresh,
    sorted by its first column)."""
    settings = window.settings
    geometry = settings.value(_K_GEOMETRY)
    if isinstance(geometry, QByteArray) and not geometry.isEmpty():
        window.restoreGeometry(geometry)
    else:
        window.resize(1280, 800)
    state = settings.value(_K_STATE)
    if isinstance(state, QByteArray) and not state.isEmpty():
        window.restoreState(state)
    try:
        active = int(str(settings.value(_K_TAB, 0)))
    except (TypeError, ValueError):
        active = 0
    if 0 <= active < window.resource_tabs.count():
        window.resource_tabs.setCurrentIndex(active)
    # Like a mail client: "Work offline" stays on until the user turns it off.
    if str(settings.value(WORK_OFFLINE_KEY, "false")).lower() == "true":
        window.work_offline_action.setChecked(True)
    for view in window.views:
        table = window.tabs[view.name].table
        restored = False
        if settings.value(f"tables/{view.name}/columns") == _column_signature(view):
            restored = table.restore_header(settings.value(f"tables/{view.name}/header"))
        if not restored:
            table.horizontalHeader().setSortIndicator(0, Qt.SortOrder.AscendingOrder)
            table.resource_model.sort(0, Qt.SortOrder.AscendingOrder)


def save_layout(window: MainWindow) -> None:
    """Keep the window's geometry, the active tab and every table's columns."""
    settings = window.settings
    settings.setValue(_K_GEOMETRY, window.saveGeometry())
    settings.setValue(_K_STATE, window.saveState())
    settings.setValue(_K_TAB, window.resource_tabs.currentIndex())
    for view in window.views:
        header = window.tabs[view.name].table.horizontalHeader()
        settings.setValue(f"tables/{view.name}/header", header.saveState())
        settings.setValue(f"tables/{view.name}/columns", _column_signature(view))
    settings.sync()
