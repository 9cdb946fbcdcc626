"""The offline banner, its wording, and the Work offline toggle (no network)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from PySide6.QtCore import QSettings
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication, QMenu, QToolBar, QToolButton

from makini_desktop.store.profiles import ProfileStore
from makini_desktop.store.secrets import TokenStore
from makini_desktop.sync.connectivity import Reach
from makini_desktop.ui.banner import Banner
from makini_desktop.ui.controllers import Phase, TabStatus, at_time, offline_text
from makini_desktop.ui.main_window import MainWindow

NOW = datetime(2026, 3, 14, 12, 0, tzinfo=UTC)


@pytest.fixture
def window(qtbot, tmp_path):
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    win = MainWindow(ProfileStore(), TokenStore(), settings=settings)
    qtbot.addWidget(win)
    return win


def test_offline_text_names_when_the_data_was_cached():
    """The banner reads "Offline — showing data cached at <local time>"."""
    text = offline_text(Reach.OFFLINE, NOW - timedelta(minutes=20), NOW)
    assert re.fullmatch(r"Offline — showing data cached at \S.*", text)
    assert offline_text(Reach.WORK_OFFLINE, NOW, NOW).startswith(
        "Working offline — showing data cached at ")
    assert offline_text(Reach.OFFLINE, None, NOW) == (
        "Offline — nothing of this connection is cached yet")


def test_at_time_says_the_day_when_it_is_not_today():
    """Older data says "yesterday at …" or "on 12 Mar at …", never a bare time."""
    local_now = NOW.astimezone()
    assert at_time(NOW, NOW).startswith("at ")
    assert at_time(local_now - timedelta(days=1), NOW).startswith("yesterday at ")
    assert at_time(local_now - timedelta(days=5), NOW).startswith("on ")
    assert at_time(local_now - timedelta(days=400), NOW).startswith("on ")


def test_tab_label_stays_honest_as_time_passes():
    """A tab says "Up to date" just after a sync, then how long ago it synced."""
    assert TabStatus(Phase.UP_TO_DATE, synced_at=NOW - timedelta(seconds=30)).text(NOW) == (
        "Up to date")
    assert TabStatus(Phase.UP_TO_DATE, synced_at=NOW - timedelta(minutes=7)).text(NOW) == (
        "Last synced 7 min ago")
    assert TabStatus(Phase.OFFLINE, synced_at=NOW - timedelta(hours=2)).text(NOW) == (
        "Offline — cached data, last synced 2 h ago")


def _contrast(a: QColor, b: QColor) -> float:
    def luminance(c: QColor) -> float:
        def channel(v: float) -> float:
            return v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4
        return (0.2126 * channel(c.redF()) + 0.7152 * channel(c.greenF())
                + 0.0722 * channel(c.blueF()))
    hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


@pytest.mark.parametrize("mode", ["light", "dark"])
@pytest.mark.parametrize("kind", ["warning", "information"])
def test_banner_is_readable_in_light_and_dark_mode(qtbot, mode, kind):
    """The banner's text on its tinted background keeps a contrast of at least 4.5:1."""
    app = QApplication.instance()
    previous = app.palette()
    palette = QPalette(previous)
    if mode == "dark":
        palette.setColor(QPalette.ColorRole.Window, QColor(0x20, 0x23, 0x26))
        palette.setColor(QPalette.ColorRole.WindowText, QColor(0xFC, 0xFC, 0xFC))
    else:
        palette.setColor(QPalette.ColorRole.Window, QColor(0xEF, 0xF0, 0xF1))
        palette.setColor(QPalette.ColorRole.WindowText, QColor(0x23, 0x26, 0x29))
    app.setPalette(palette)
    try:
        banner = Banner("testBanner", "Test", kind)
        qtbot.addWidget(banner)
        sheet = banner.style_sheet()
        background = QColor(re.search(r"background-color: (#[0-9a-f]{6})", sheet).group(1))
        text = QColor(re.search(r"color: (#[0-9a-f]{6}); }$", sheet).group(1))
        assert text == palette.color(QPalette.ColorRole.WindowText)
        assert _contrast(background, text) >= 4.5
        assert banner.styleSheet() == sheet
    finally:
        app.setPalette(previous)


def test_work_offline_is_a_checkable_action_in_the_menu_and_toolbar(window):
    """Work offline is one checkable action, in the File menu and on the toolbar."""
    action = window.work_offline_action
    assert action.objectName() == "workOfflineAction"
    assert action.isCheckable() and not action.isChecked()
    menus = [m for m in window.menuBar().findChildren(QMenu) if action in m.actions()]
    assert [m.title() for m in menus] == ["&File"]
    toolbar = window.findChild(QToolBar, "mainToolbar")
    assert action in toolbar.actions()
    assert isinstance(toolbar.widgetForAction(action), QToolButton)


def test_work_offline_without_a_connection_is_remembered(window):
    """Toggled with nothing open, Work offline applies to the next connection; no banner yet."""
    window.work_offline_action.trigger()
    assert window.workspace.work_offline
    assert window.workspace.reach is Reach.WORK_OFFLINE
    assert window.offline_banner.isHidden()
    window.work_offline_action.trigger()
    assert window.workspace.reach is Reach.ONLINE


def test_banner_in_the_window_follows_a_switch_to_dark_mode(window):
    """Switching the app to dark mode while the window is open re-tints its banner."""
    app = QApplication.instance()
    previous = app.palette()
    banner = window.offline_banner
    light_sheet = banner.styleSheet()
    palette = QPalette(previous)
    palette.setColor(QPalette.ColorRole.Window, QColor(0x20, 0x23, 0x26))
    palette.setColor(QPalette.ColorRole.WindowText, QColor(0xFC, 0xFC, 0xFC))
    app.setPalette(palette)
    try:
        app.processEvents()
        background = QColor(re.search(r"background-color: (#[0-9a-f]{6})",
                                      banner.styleSheet()).group(1))
        assert banner.styleSheet() != light_sheet
        assert background.lightness() < 100
    finally:
        app.setPalette(previous)
