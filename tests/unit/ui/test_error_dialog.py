"""The API error dialog and the error reporter."""

from __future__ import annotations

import logging
import platform

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QLabel, QLineEdit, QPlainTextEdit, QPushButton

from makini_desktop import __version__
from makini_desktop.api.errors import MakiniConnectionError, MakiniError
from makini_desktop.redact import clear_secrets, register_secret
from makini_desktop.ui.error_dialog import ErrorDialog, ErrorReporter

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


def test_another_error_replaces_the_open_dialog_of_its_connection(qtbot, reporter):
    """A different error on the same connection replaces the open dialog's content: one
    dialog per connection, never a stale error under a new one."""
    first = reporter.report(server_error(), connection_name="HQ", base_url="https://a.io")
    qtbot.addWidget(first)
    reporter.report(server_error(request_id="req_again"), connection_name="HQ",
                    base_url="https://a.io")  # counted: "Happened 2 times"
    newer = reporter.report(
        server_error(status=503, code="SERVICE_UNAVAILABLE", message="Down for upkeep.",
                     request_id="req_new", path="/api/eam/sites"),
        connection_name="HQ", base_url="https://a.io")
    assert reporter.open_dialogs() == [newer]
    assert text_of(newer, "errorCode") == "SERVICE_UNAVAILABLE"
    assert text_of(newer, "errorMessage") == "Down for upkeep."
    assert text_of(newer, "errorStatus") == "503 Service Unavailable"
    assert not newer.findChild(QLabel, "occurrenceLabel").isVisible()
    QApplication.clipboard().clear()
    qtbot.mouseClick(newer.findChild(QPushButton, "copyRequestIdButton"),
                     Qt.MouseButton.LeftButton)
    assert QApplication.clipboard().text() == "req_new"
    qtbot.mouseClick(newer.findChild(QPushButton, "copyDetailsButton"),
                     Qt.MouseButton.LeftButton)
    details = QApplication.clipboard().text()
    assert "Request ID: req_new" in details and "Code: SERVICE_UNAVAILABLE" in details
    assert REQUEST_ID not in details and "req_again" not in details
    assert "Occurrences" not in details


def test_a_new_auth_error_offers_reconnect_and_a_later_server_error_does_not(qtbot, reporter):
    """The replaced dialog's buttons follow the error shown: Reconnect… only on a 401."""
    dialog = reporter.report(auth_error(), connection_name="HQ", base_url="https://a.io")
    qtbot.addWidget(dialog)
    assert dialog.findChild(QPushButton, "reconnectButton").isVisible()
    dialog = reporter.report(server_error(), connection_name="HQ", base_url="https://a.io")
    assert reporter.open_dialogs() == [dialog]
    assert not dialog.findChild(QPushButton, "reconnectButton").isVisible()
    assert dialog.findChild(QPushButton, "closeButton").isDefault()


def test_each_connection_has_its_own_dialog(qtbot, reporter):
    """Errors of two connections open two dialogs, one each."""
    a = reporter.report(server_error(), connection_name="HQ", base_url="https://a.io")
    b = reporter.report(server_error(path="/api/eam/sites"), connection_name="HQ",
                        base_url="https://a.io")
    c = reporter.report(server_error(), connection_name="London", base_url="https://b.io")
    for d in (a, b, c):
        qtbot.addWidget(d)
    assert len(reporter.open_dialogs()) == 2
    assert b in reporter.open_dialogs() and c in reporter.open_dialogs()


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


def _rect_in(dialog, widget):
    from PySide6.QtCore import QRect

    return QRect(widget.mapTo(dialog, widget.rect().topLeft()), widget.size())


def test_a_long_message_stays_whole_when_details_are_expanded(qtbot):
    """A message of several lines wraps and keeps its height with Details open: it never
    slides under the Request ID row."""
    long = " ".join(["The upstream system refused the request for a reason it explained"] * 4)
    dialog = ErrorDialog(server_error(message=long), connection_name="HQ",
                         base_url="https://a.io")
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    dialog.details_toggle.click()
    details = dialog.findChild(QPlainTextEdit, "detailsText")
    qtbot.waitUntil(details.isVisible)
    QApplication.processEvents()
    message = dialog.findChild(QLabel, "errorMessage")
    row = dialog.findChild(QLineEdit, "requestIdField")
    button = dialog.findChild(QPushButton, "copyRequestIdButton")
    lines = message.fontMetrics().lineSpacing()
    assert message.wordWrap()
    assert message.height() >= message.heightForWidth(message.width())
    assert message.height() >= 2 * lines  # the message really is several lines here
    for other in (row, button):
        assert not _rect_in(dialog, message).intersects(_rect_in(dialog, other))
    dialog.details_toggle.click()  # closed again: the dialog shrinks, the message stays whole
    qtbot.waitUntil(lambda: not details.isVisible())
    qtbot.waitUntil(lambda: message.height() >= message.heightForWidth(message.width()))
    assert not _rect_in(dialog, message).intersects(_rect_in(dialog, row))
