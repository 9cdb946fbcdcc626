"""The API error dialog, the error reporter and the crash dialog."""

from __future__ import annotations

import asyncio
import logging
import platform
import sys
import threading

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QLabel, QLineEdit, QPlainTextEdit, QPushButton

from makini_desktop import __version__
from makini_desktop.api.errors import MakiniConnectionError, MakiniError
from makini_desktop.redact import clear_secrets, register_secret
from makini_desktop.ui.error_dialog import (
    CrashHandler,
    ErrorDialog,
    ErrorReporter,
    install_excepthook,
    make_asyncio_exception_handler,
)

REQUEST_ID = "req_01JD3K6Q8N6V7M2B4C9D0E1F2G"
TOKEN = "tok-live-7f3a9c2e5b1d4a8f"


@pytest.fixture(autouse=True)
def _forget_secrets():
    yield
    clear_secrets()


def server_error(**changes) -> MakiniError:
    fields = dict(
        status=500, code="INTERNAL_ERROR", type="api_error",
        message="The server had an internal error.", request_id=REQUEST_ID,
        method="GET", path="/api/eam/assets?page=3", retries=3, retry_seconds=20.2,
    )
    fields.update(changes)
    return MakiniError(**fields)


def auth_error() -> MakiniError:
    return MakiniError(
        status=401, code="AUTHENTICATION_FAILED", type="authentication",
        message="Token expired.", request_id="req_401", method="GET",
        path="/api/integrations/current",
    )


@pytest.fixture
def reporter(qtbot):
    reporter = ErrorReporter(None)
    yield reporter
    reporter.close_all()


@pytest.fixture
def dialog(qtbot) -> ErrorDialog:
    dialog = ErrorDialog(server_error(), connection_name="Headquarters",
                         base_url="https://api.makini.io")
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    return dialog


def text_of(dialog, name: str) -> str:
    widget = dialog.findChild(QLabel, name)
    assert widget is not None, name
    return widget.text()


def test_dialog_shows_code_status_message_and_request_id(dialog):
    """The dialog shows the summary, what was done, code, status, message and request ID."""
    assert dialog.objectName() == "errorDialog"
    assert text_of(dialog, "errorSummary") == "The server had an internal error."
    assert text_of(dialog, "errorWhatWasDone") == "Retried 3 times over 20 s."
    assert text_of(dialog, "errorCode") == "INTERNAL_ERROR"
    assert text_of(dialog, "errorStatus").startswith("500")
    assert text_of(dialog, "errorMessage") == "The server had an internal error."
    field = dialog.findChild(QLineEdit, "requestIdField")
    assert field.text() == REQUEST_ID
    assert field.isReadOnly()


def test_dialog_is_not_modal(dialog):
    """The error dialog never blocks the main window."""
    assert not dialog.isModal()
    assert dialog.windowModality() == Qt.WindowModality.NonModal


def test_copy_request_id_copies_exactly_the_id(qtbot, dialog):
    """"Copy request ID" puts exactly the request ID on the clipboard."""
    QApplication.clipboard().setText("something else")
    qtbot.mouseClick(dialog.findChild(QPushButton, "copyRequestIdButton"),
                     Qt.MouseButton.LeftButton)
    assert QApplication.clipboard().text() == REQUEST_ID


def test_copy_details_has_every_field_and_no_token(qtbot):
    """"Copy details" copies time, connection, request, status, code, ... but never a token."""
    register_secret(TOKEN)
    err = server_error(status=400, code="INVALID_REQUEST", type="invalid_request",
                       message=f"Bad header Authorization: Bearer {TOKEN}", retries=0)
    dialog = ErrorDialog(err, connection_name="Headquarters", base_url="https://api.makini.io")
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.mouseClick(dialog.findChild(QPushButton, "copyDetailsButton"),
                     Qt.MouseButton.LeftButton)
    text = QApplication.clipboard().text()
    for expected in ("Time (UTC): 20", "Connection: Headquarters",
                     "Base URL: https://api.makini.io", "Request: GET /api/eam/assets?page=3",
                     "HTTP status: 400", "Code: INVALID_REQUEST", "Type: invalid_request",
                     "Message: Bad header", f"Request ID: {REQUEST_ID}",
                     f"makini-desktop {__version__}", f"OS: {platform.platform()}"):
        assert expected in text
    assert TOKEN not in text
    assert "Bearer ***" in text


def test_details_are_collapsible(qtbot, dialog):
    """The technical details are hidden until the Details toggle is opened."""
    details = dialog.findChild(QPlainTextEdit, "detailsText")
    assert not details.isVisible()
    dialog.details_toggle.click()
    assert details.isVisible()
    assert REQUEST_ID in details.toPlainText()


def test_repeated_error_does_not_stack_dialogs(qtbot, reporter):
    """The same error again updates the open dialog's count instead of opening another."""
    first = reporter.report(server_error(), connection_name="HQ", base_url="https://a.io")
    qtbot.addWidget(first)
    again = reporter.report(server_error(request_id="req_2", path="/api/eam/assets?page=4"),
                            connection_name="HQ", base_url="https://a.io")
    third = reporter.report(server_error(request_id="req_3"), connection_name="HQ",
                            base_url="https://a.io")
    assert again is first and third is first
    assert reporter.open_dialogs() == [first]
    assert text_of(first, "occurrenceLabel").startswith("Happened 3 times")
    assert first.findChild(QLineEdit, "requestIdField").text() == "req_3"
    assert "Earlier request IDs: " + REQUEST_ID + ", req_2" in first.details()


def test_different_errors_get_their_own_dialogs(qtbot, reporter):
    """Another path, status or connection opens a separate dialog."""
    a = reporter.report(server_error(), connection_name="HQ", base_url="https://a.io")
    b = reporter.report(server_error(path="/api/eam/sites"), connection_name="HQ",
                        base_url="https://a.io")
    c = reporter.report(server_error(), connection_name="London", base_url="https://b.io")
    for d in (a, b, c):
        qtbot.addWidget(d)
    assert len({id(a), id(b), id(c)}) == 3
    assert len(reporter.open_dialogs()) == 3


def test_closed_dialog_is_forgotten(qtbot, reporter):
    """After the user closes a dialog, the same error opens a fresh one."""
    first = reporter.report(server_error(), connection_name="HQ", base_url="https://a.io")
    first.reject()
    assert reporter.open_dialogs() == []
    second = reporter.report(server_error(), connection_name="HQ", base_url="https://a.io")
    qtbot.addWidget(second)
    assert second is not first
    assert second.count == 1


def test_reporter_can_be_switched_off_for_headless_use(qtbot, caplog):
    """With show_dialogs=False the error is logged and kept, but no dialog opens."""
    reporter = ErrorReporter(None, show_dialogs=False)
    with caplog.at_level(logging.WARNING):
        assert reporter.report(server_error(), connection_name="HQ",
                               base_url="https://a.io") is None
    assert reporter.open_dialogs() == []
    assert len(reporter.reported) == 1
    assert REQUEST_ID in caplog.text


def test_401_offers_reconnect_and_emits_sig_reconnect(qtbot, reporter):
    """On a 401 the dialog offers Reconnect…, which emits sig_reconnect(connection name)."""
    dialog = reporter.report(auth_error(), connection_name="HQ", base_url="https://a.io")
    qtbot.addWidget(dialog)
    button = dialog.findChild(QPushButton, "reconnectButton")
    assert button.isVisible()
    assert button.text() == "Reconnect…"
    with qtbot.waitSignal(reporter.sig_reconnect) as blocker:
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert blocker.args == ["HQ"]
    assert not dialog.isVisible()


def test_other_errors_do_not_offer_reconnect(dialog):
    """A server error has no Reconnect… button."""
    assert not dialog.findChild(QPushButton, "reconnectButton").isVisible()


def test_connection_error_without_request_id(qtbot):
    """An error with no response says so and disables Copy request ID."""
    err = MakiniConnectionError(status=0, code="NETWORK_ERROR", type="network",
                                message="Connection refused", method="GET", path="/api/x")
    dialog = ErrorDialog(err, connection_name="HQ", base_url="https://a.io")
    qtbot.addWidget(dialog)
    assert "no response" in text_of(dialog, "errorStatus")
    assert not dialog.findChild(QPushButton, "copyRequestIdButton").isEnabled()


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
    assert text.index("second") < text.index("first")


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
