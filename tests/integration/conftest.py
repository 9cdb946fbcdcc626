"""Fixtures for tests that drive the main window against the sandbox over loopback."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from PySide6.QtCore import QSettings

from makini_desktop.store.profiles import ProfileStore
from makini_desktop.store.secrets import TokenStore
from makini_desktop.ui.main_window import MainWindow
from tests.helpers.qt import fast_retries, quit_window


@pytest.fixture
def make_window(qtbot, qasync_loop, tmp_path) -> Iterator[Callable[..., MainWindow]]:
    """Opens main windows on one settings file (a second one is the app started again);
    each is shut down after the test. ``probe_delays`` speeds up the offline probes."""
    made: list[MainWindow] = []

    def make(factory: Callable[..., Any] = fast_retries,
             probe_delays: tuple[float, float] | None = None) -> MainWindow:
        settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
        win = MainWindow(ProfileStore(), TokenStore(), settings=settings,
                         session_factory=factory)
        if probe_delays is not None:
            win.workspace.probe_delays = probe_delays
        win.show()
        made.append(win)
        return win

    yield make
    for win in made:
        quit_window(qtbot, qasync_loop, win)


@pytest.fixture
def window(make_window) -> MainWindow:
    """One main window, not connected yet."""
    return make_window()
