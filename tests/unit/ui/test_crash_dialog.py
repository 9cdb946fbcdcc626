"""The crash dialog and the excepthook: unexpected exceptions shown in one dialog."""

from __future__ import annotations

import asyncio
import logging
import sys
import threading

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QLabel, QPlainTextEdit, QPushButton

from makini_desktop.redact import clear_secrets, register_secret
from makini_desktop.ui.crash_dialog import (
    CrashHandler,
    install_excepthook,
    make_asyncio_exception_handler,
)

TOKEN = "tok-live-7f3a9c2e5b1d4a8f"


@pytest.fixture(autouse=True)
def _forget_secrets():
    yield
    clear_secrets()


def text_of(dialog, name: str) -> str:
    widget = dialog.findChild(QLabel, name)
    assert widget is not None, name
    return widget.text()


def raise_and_catch(message: str) -> BaseException:
    try:
        raise RuntimeError(message)
    except RuntimeError as exc:
        return exc


def test_crash_dialog_shows_a_scrubbed_traceback(qtbot, caplog):
    """An unexpected exception opens the crash dialog with its traceback, tokens masked."""
    register_secret(TOKEN)
    handler = CrashHandler(lambda: None)
    exc = raise_and_catch(f"headers={{'Authorization': 'Bearer abc.def'}} token {TOKEN}")
    with caplog.at_level(logging.ERROR):
        handler.handle_exception(type(exc), exc, exc.__traceback__)
    dialog = handler.dialog
    qtbot.addWidget(dialog)
    assert dialog.objectName() == "crashDialog"
    assert dialog.isVisible() and not dialog.isModal()
    text = dialog.findChild(QPlainTextEdit, "crashTraceback").toPlainText()
    assert "Traceback (most recent call last)" in text
    assert "RuntimeError" in text
    assert "Bearer ***" in text
    assert "abc.def" not in text and TOKEN not in text
    assert "RuntimeError" in caplog.text and TOKEN not in caplog.text
    qtbot.mouseClick(dialog.findChild(QPushButton, "copyTracebackButton"),
                     Qt.MouseButton.LeftButton)
    assert "RuntimeError" in QApplication.clipboard().text()
    assert TOKEN not in QApplication.clipboard().text()


def test_repeated_crashes_update_one_dialog(qtbot):
    """A second crash is added to the open crash dialog, not a new one."""
    handler = CrashHandler(lambda: None)
    first = raise_and_catch("first")
    handler.handle_exception(type(first), first, first.__traceback__)
    dialog = handler.dialog
    qtbot.addWidget(dialog)
    second = raise_and_catch("second")
    handler.handle_exception(type(second), second, second.__traceback__)
    assert handler.dialog is dialog
    assert dialog.count == 2
    assert "2 unexpected errors" in text_of(dialog, "crashCount")
    text = dialog.findChild(QPlainTextEdit, "crashTraceback").toPlainText()
    assert text.index("RuntimeError: second") < text.index("RuntimeError: first")


def test_install_excepthook_routes_uncaught_exceptions(qtbot):
    """install_excepthook makes sys.excepthook open the crash dialog; uninstall restores it."""
    before = sys.excepthook
    handler = install_excepthook(lambda: None)
    try:
        assert sys.excepthook == handler.excepthook
        exc = raise_and_catch("uncaught")
        sys.excepthook(type(exc), exc, exc.__traceback__)
        qtbot.addWidget(handler.dialog)
        assert handler.dialog.isVisible()
    finally:
        handler.uninstall()
    assert sys.excepthook is before


def test_asyncio_task_exceptions_go_to_the_crash_dialog(qtbot, caplog):
    """A task exception nobody retrieved is a crash; cancellations and notices are not."""
    handler = CrashHandler(lambda: None)
    on_exception = make_asyncio_exception_handler(handler)
    loop = asyncio.new_event_loop()
    try:
        on_exception(loop, {"message": "Task was cancelled",
                            "exception": asyncio.CancelledError()})
        with caplog.at_level(logging.WARNING):
            on_exception(loop, {"message": "Unclosed connection"})
        assert handler.dialog is None
        assert "Unclosed connection" in caplog.text
        exc = raise_and_catch("in a task")
        on_exception(loop, {"message": "Task exception was never retrieved", "exception": exc})
    finally:
        loop.close()
    qtbot.addWidget(handler.dialog)
    text = handler.dialog.findChild(QPlainTextEdit, "crashTraceback").toPlainText()
    assert "in a task" in text
    assert "Task exception was never retrieved" in text


def test_headless_crash_handler_only_logs(qtbot, caplog):
    """With show_dialogs=False a crash is logged and kept, without a dialog."""
    handler = CrashHandler(lambda: None, show_dialogs=False)
    exc = raise_and_catch("quiet")
    with caplog.at_level(logging.ERROR):
        handler.handle_exception(type(exc), exc, exc.__traceback__)
    assert handler.dialog is None
    assert len(handler.reports) == 1
    assert "quiet" in caplog.text


def test_worker_thread_exception_reaches_the_crash_dialog(qtbot):
    """An exception in a worker thread is shown by the GUI thread's crash dialog."""
    handler = install_excepthook(lambda: None)
    try:
        worker = threading.Thread(target=lambda: 1 / 0, name="loader")
        worker.start()
        worker.join()
        qtbot.waitUntil(lambda: handler.dialog is not None)
        qtbot.addWidget(handler.dialog)
        text = handler.dialog.findChild(QPlainTextEdit, "crashTraceback").toPlainText()
        assert "ZeroDivisionError" in text
        assert "thread loader" in text
    finally:
        handler.uninstall()


def test_crash_names_stay_importable_from_error_dialog():
    """app.py and older code import the crash handling from ui.error_dialog: the same objects."""
    from makini_desktop.ui import crash_dialog, error_dialog

    for name in ("CrashDialog", "CrashHandler", "install_excepthook",
                 "make_asyncio_exception_handler"):
        assert name in error_dialog.__all__
        assert getattr(error_dialog, name) is getattr(crash_dialog, name)
