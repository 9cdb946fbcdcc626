"""The window as `makini-desktop` starts it (cli.main -> app.run): demo mode, screenshots and
start-up errors."""

from __future__ import annotations

import gc
import logging
import threading

from PySide6.QtCore import QTimer
from PySide6.QtGui import QImage, QPalette
from PySide6.QtWidgets import QApplication

from makini_desktop import app as app_module
from makini_desktop import cli
from makini_desktop.api import resources as res


def _close_when_loaded(seen: dict) -> QTimer:
    """Poll until the main window has loaded every tab, then close it like a user would."""
    timer = QTimer()
    timer.setInterval(50)

    def poll() -> None:
        for widget in QApplication.topLevelWidgets():
            if widget.objectName() != "mainWindow" or not widget.isVisible():
                continue
            ws = widget.workspace
            if ws.load_task is not None and ws.load_task.done() and not ws.busy:
                seen["title"] = widget.windowTitle()
                seen["badge"] = widget.demo_badge.isVisible()
                seen["rows"] = {n: m.rowCount() for n, m in ws.models.items()}
                seen["status"] = widget.sync_status.text()
                timer.stop()
                widget.close()

    timer.timeout.connect(poll)
    timer.start()
    return timer


def test_demo_starts_loads_and_quits_cleanly(qapp, caplog):
    """--demo opens on the sandbox as demo data and quitting leaves no thread or task behind."""
    before = {t.ident for t in threading.enumerate()}
    seen: dict = {}
    timer = _close_when_loaded(seen)
    with caplog.at_level(logging.WARNING):
        assert cli.main(["--demo"]) == 0
    timer.stop()
    gc.collect()
    assert seen["title"] == "Demo (sandbox) — makini-desktop — Demo data"
    assert seen["badge"] is True
    assert seen["status"] == "Ready"
    assert all(seen["rows"][name] > 0 for name in res.TAB_VIEWS)
    leaked = [t.name for t in threading.enumerate() if t.ident not in before and t.is_alive()
              and not isinstance(t, threading._DummyThread)]
    assert leaked == []
    ours = ("asyncio", "makini_desktop")
    problems = [r.getMessage() for r in caplog.records
                if r.name.startswith(ours) and r.levelno >= logging.WARNING]
    assert problems == []
    assert not [w for w in QApplication.topLevelWidgets() if w.objectName() == "mainWindow"]


def test_screenshots_are_written(qapp, tmp_path):
    """--demo --screenshots DIR writes a picture of every tab, the manager, an error and the
    offline banner in dark mode (as the README shows)."""
    assert cli.main(["--demo", "--screenshots", str(tmp_path)]) == 0
    names = [*res.TAB_VIEWS, "connections", "error", "offline-dark"]
    for name in names:
        image = QImage(str(tmp_path / f"{name}.png"))
        assert not image.isNull(), name
        assert image.width() > 300 and image.height() > 150, name
    dark = QImage(str(tmp_path / "offline-dark.png"))
    light = QImage(str(tmp_path / f"{res.TAB_VIEWS[0]}.png"))
    # The window's background (the middle of the status bar) is dark in the one, light in
    # the other.
    spot = (dark.width() // 2, dark.height() - 4)
    assert dark.pixelColor(*spot).lightness() < 80
    assert light.pixelColor(*spot).lightness() > 170
    assert QApplication.palette().color(QPalette.ColorRole.Window).lightness() > 170


def test_base_url_opens_an_unsaved_connection(qapp, sandbox, monkeypatch):
    """--base-url with MAKINI_API_TOKEN opens on that server and saves no connection."""
    from makini_desktop.store.profiles import ProfileStore

    monkeypatch.setenv("MAKINI_API_TOKEN", "sandbox-token")
    seen: dict = {}
    timer = _close_when_loaded(seen)
    assert cli.main(["--base-url", sandbox.url]) == 0
    timer.stop()
    assert seen["rows"]["assets"] == len(sandbox.data.visible("assets"))
    assert seen["badge"] is False
    assert len(ProfileStore()) == 0


def test_opens_on_the_last_active_saved_connection(qapp, sandbox):
    """Without options the app opens on the connection that was active last time."""
    from makini_desktop.store.profiles import ProfileStore
    from makini_desktop.store.secrets import TokenStore

    profiles = ProfileStore()
    profile = profiles.add("Head office", sandbox.url)
    profiles.set_active(profile.id)
    TokenStore().set(profile.id, "sandbox-token")
    seen: dict = {}
    timer = _close_when_loaded(seen)
    assert cli.main([]) == 0
    timer.stop()
    assert seen["title"] == "Head office — makini-desktop"
    assert seen["rows"]["spaces"] > 0


def test_first_run_opens_the_connection_manager(qapp):
    """With no saved connection the app opens the connection manager over the window."""
    seen: dict = {}
    timer = QTimer()
    timer.setInterval(50)

    def poll() -> None:
        windows = {w.objectName(): w for w in QApplication.topLevelWidgets() if w.isVisible()}
        if "connectionDialog" in windows and "mainWindow" in windows:
            seen["manager"] = True
            timer.stop()
            windows["mainWindow"].close()

    timer.timeout.connect(poll)
    timer.start()
    assert cli.main([]) == 0
    timer.stop()
    assert seen == {"manager": True}


def test_base_url_without_token_is_a_usage_error(qapp, capsys):
    """--base-url without MAKINI_API_TOKEN exits 2 with a message, opening no window."""
    assert cli.main(["--base-url", "https://api.makini.io"]) == 2
    assert "MAKINI_API_TOKEN" in capsys.readouterr().err


def test_insecure_base_url_is_refused(qapp, capsys, monkeypatch):
    """--base-url http:// to a remote host is refused before any token is sent."""
    monkeypatch.setenv("MAKINI_API_TOKEN", "tok")
    assert cli.main(["--base-url", "http://example.com"]) == 2
    assert capsys.readouterr().err.startswith("makini-desktop: error:")


def test_unknown_saved_connection_is_a_usage_error(qapp, capsys):
    """--connection NAME that is not saved exits 2 and says so."""
    assert cli.main(["--connection", "Nowhere"]) == 2
    assert "Nowhere" in capsys.readouterr().err


def test_startup_errors_also_go_to_a_message_box(qapp, capsys, monkeypatch):
    """An unknown --connection or a bad --base-url is said on stderr and in a message box
    (a desktop shortcut shows no terminal)."""
    shown: list[str] = []
    monkeypatch.setattr(app_module, "show_startup_error_box", shown.append)
    assert cli.main(["--connection", "Nowhere"]) == 2
    assert "Nowhere" in capsys.readouterr().err
    monkeypatch.setenv("MAKINI_API_TOKEN", "tok")
    assert cli.main(["--base-url", "http://example.com"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("makini-desktop: error:")
    assert len(shown) == 2
    assert "Nowhere" in shown[0]
    assert shown[1] in err


def test_startup_error_box_says_what_failed(qtbot):
    """The start-up error box says the app could not start, and why."""
    box = app_module.startup_error_box("no saved connection named 'Nowhere'")
    qtbot.addWidget(box)
    box.open()  # non-blocking; the app's exec() runs outside any event loop
    qtbot.waitUntil(box.isVisible)
    assert box.text() == "makini-desktop could not start."
    assert box.informativeText() == "No saved connection named 'Nowhere'."
    box.close()


def test_no_startup_box_is_tried_where_qt_cannot_start(monkeypatch):
    """Where the xcb plugin cannot load, the start-up error stays on stderr: no box is
    attempted, so Qt's own abort never replaces the line that names what is missing."""
    from PySide6.QtWidgets import QApplication

    from makini_desktop import platform_check

    monkeypatch.setenv("QT_QPA_PLATFORM", "xcb")
    monkeypatch.setattr(QApplication, "instance", staticmethod(lambda: None))
    monkeypatch.setattr(platform_check, "startup_problem", lambda: "missing libxcb-cursor0")

    def must_not_create() -> None:
        raise AssertionError("a QApplication was created where Qt cannot start")

    monkeypatch.setattr(app_module, "_create_application", must_not_create)
    app_module.show_startup_error_box("no saved connection named 'Nowhere'")
