"""Dialogs for errors: API errors that reach the user, and unexpected crashes (bugs).

* :class:`ErrorDialog` shows one :class:`~makini_desktop.api.errors.MakiniError` to a
  facilities manager (what happened, what the app already did) and to support (code, status,
  message, and the request ID, copyable exactly).
* :class:`ErrorReporter` is the one way the rest of the UI shows such an error: it keeps
  repeated errors from stacking dialogs and turns "Reconnect…" into a signal.
* :class:`CrashDialog` and :func:`install_excepthook` catch exceptions nobody handled
  (``sys.excepthook``, worker threads, asyncio tasks) and show them in ONE dialog with a
  copyable, secret-free traceback, so the app keeps running.

None of these dialogs is modal and none is ever ``exec()``-ed: a dialog that blocks inside a
coroutine would stall the qasync loop. No dialog here ever receives a token; every text that
can leave the app (clipboard, log) goes through :func:`makini_desktop.redact.scrub` anyway.
"""

from __future__ import annotations

import asyncio
import http
import logging
import platform
import sys
import threading
import traceback
from collections.abc import Callable
from datetime import UTC, datetime
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

import shiboken6
from PySide6.QtCore import QObject, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QFontDatabase, QGuiApplication
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSizePolicy,
    QStyle,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from makini_desktop import __version__
from makini_desktop.api.errors import MakiniError
from makini_desktop.redact import scrub

__all__ = [
    "CrashDialog",
    "CrashHandler",
    "ErrorDialog",
    "ErrorReporter",
    "install_excepthook",
    "make_asyncio_exception_handler",
]

log = logging.getLogger(__name__)

# Request IDs of earlier occurrences kept in the details (support may want to see them all).
MAX_EARLIER_IDS = 10
# Crash reports kept in the crash dialog; older ones are still in the log file.
MAX_CRASHES = 20
_COPIED_FEEDBACK_MS = 1500


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _status_text(status: int) -> str:
    """E.g. "500 Internal Server Error"; "none (no response)" for a connection failure."""
    if not status:
        return "none (no response from the server)"
    try:
        return f"{status} {http.HTTPStatus(status).phrase}"
    except ValueError:
        return str(status)


def _environment_lines() -> list[str]:
    """App version and OS, as support needs them in every report."""
    from PySide6 import __version__ as pyside_version

    return [
        f"App version: makini-desktop {__version__}",
        f"OS: {platform.platform()}",
        f"Python: {platform.python_version()}, PySide6 {pyside_version}",
    ]


def _bigger_bold(label: QLabel, factor: float = 1.15) -> None:
    """Make a heading relative to the system font, never a fixed pixel size."""
    font = label.font()
    font.setBold(True)
    if font.pointSizeF() > 0:
        font.setPointSizeF(font.pointSizeF() * factor)
    label.setFont(font)


def _text_width(widget: QWidget, chars: int) -> int:
    """A width of about ``chars`` average characters in the widget's font."""
    return widget.fontMetrics().averageCharWidth() * chars


class _CopyButton(QPushButton):
    """A push button that says "Copied" for a moment after it copied something."""

    def __init__(self, text: str, parent: QWidget | None = None) -> None:
        super().__init__(text, parent)
        self._text = text
        self._restore = QTimer(self)
        self._restore.setSingleShot(True)
        self._restore.setInterval(_COPIED_FEEDBACK_MS)
        self._restore.timeout.connect(self._on_restore_timeout)

    def show_copied(self) -> None:
        self.setText("Copied")
        self._restore.start()

    @Slot()
    def _on_restore_timeout(self) -> None:
        self.setText(self._text)


class ErrorDialog(QDialog):
    """A non-modal dialog for one API error, with the request ID ready to copy.

    Args:
        err: the error.
        connection_name: the connection's name, as the user knows it.
        base_url: the connection's base URL.
        parent: the window the dialog belongs to (usually the main window).

    Signals:
        sig_reconnect_requested: the user clicked "Reconnect…" (only offered on a 401).

    Attributes:
        error: the error shown (the latest occurrence).
        connection_name: as given.
        base_url: as given.
        count: how many times this error happened while the dialog was open.
        occurred_at: UTC time of the latest occurrence.
    """

    sig_reconnect_requested = Signal()

    def __init__(
        self,
        err: MakiniError,
        *,
        connection_name: str,
        base_url: str,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.error = err
        self.connection_name = connection_name
        self.base_url = base_url
        self.count = 1
        self.occurred_at = _utc_now()
        self.first_occurred_at = self.occurred_at
        self._earlier_ids: list[str] = []
        self.setObjectName("errorDialog")
        self.setModal(False)
        self.setWindowModality(Qt.WindowModality.NonModal)
        self._setup_ui()
        self._fill()

    # -- construction ---------------------------------------------------------------------

    def _setup_ui(self) -> None:
        self.setWindowTitle(f"Request failed — {self.connection_name}")
        self.setAccessibleName("Error")
        self.setSizeGripEnabled(True)

        icon = QLabel(self)
        icon.setObjectName("errorIcon")
        size = self.style().pixelMetric(QStyle.PixelMetric.PM_MessageBoxIconSize)
        icon.setPixmap(
            self.style().standardIcon(QStyle.StandardPixmap.SP_MessageBoxWarning).pixmap(size)
        )
        icon.setAlignment(Qt.AlignmentFlag.AlignTop)
        icon.setAccessibleName("Warning")

        self.summary_label = QLabel(self)
        self.summary_label.setObjectName("errorSummary")
        self.summary_label.setWordWrap(True)
        self.summary_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.summary_label.setAccessibleName("What happened")
        _bigger_bold(self.summary_label)

        self.done_label = QLabel(self)
        self.done_label.setObjectName("errorWhatWasDone")
        self.done_label.setWordWrap(True)
        self.done_label.setAccessibleName("What the app did")

        self.count_label = QLabel(self)
        self.count_label.setObjectName("occurrenceLabel")
        self.count_label.setAccessibleName("How many times it happened")
        self.count_label.hide()

        heading = QVBoxLayout()
        heading.addWidget(self.summary_label)
        heading.addWidget(self.done_label)
        heading.addWidget(self.count_label)
        top = QHBoxLayout()
        top.addWidget(icon, 0, Qt.AlignmentFlag.AlignTop)
        top.addSpacing(self.style().pixelMetric(QStyle.PixelMetric.PM_LayoutHorizontalSpacing))
        top.addLayout(heading, 1)

        self.connection_value = self._value_label("errorConnection", "Connection")
        self.code_value = self._value_label("errorCode", "Error code")
        self.status_value = self._value_label("errorStatus", "HTTP status")
        self.message_value = self._value_label("errorMessage", "Message")
        self.message_value.setWordWrap(True)

        self.request_id_field = QLineEdit(self)
        self.request_id_field.setObjectName("requestIdField")
        self.request_id_field.setReadOnly(True)
        self.request_id_field.setAccessibleName("Request ID")
        fixed = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        self.request_id_field.setFont(fixed)
        self.copy_request_id_button = _CopyButton("Copy request ID", self)
        self.copy_request_id_button.setObjectName("copyRequestIdButton")
        self.copy_request_id_button.setAccessibleName("Copy request ID")
        self.copy_request_id_button.setAutoDefault(False)
        self.copy_request_id_button.clicked.connect(self._on_copy_request_id_clicked)
        id_row = QHBoxLayout()
        id_row.addWidget(self.request_id_field, 1)
        id_row.addWidget(self.copy_request_id_button)

        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.ExpandingFieldsGrow)
        form.addRow("Connection:", self.connection_value)
        form.addRow("Error code:", self.code_value)
        form.addRow("HTTP status:", self.status_value)
        form.addRow("Message:", self.message_value)
        form.addRow("Request ID:", id_row)

        self.details_toggle = QToolButton(self)
        self.details_toggle.setObjectName("detailsToggle")
        self.details_toggle.setText("Details")
        self.details_toggle.setAccessibleName("Show details")
        self.details_toggle.setCheckable(True)
        self.details_toggle.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.details_toggle.setArrowType(Qt.ArrowType.RightArrow)
        self.details_toggle.setAutoRaise(True)
        self.details_toggle.toggled.connect(self._on_details_toggle_toggled)

        self.details_text = QPlainTextEdit(self)
        self.details_text.setObjectName("detailsText")
        self.details_text.setAccessibleName("Error details")
        self.details_text.setReadOnly(True)
        self.details_text.setFont(fixed)
        self.details_text.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.details_text.setMinimumHeight(self.fontMetrics().lineSpacing() * 8)
        self.details_text.hide()

        buttons = QDialogButtonBox(self)
        self.reconnect_button = buttons.addButton(
            "Reconnect…", QDialogButtonBox.ButtonRole.ActionRole
        )
        self.reconnect_button.setObjectName("reconnectButton")
        self.reconnect_button.setAccessibleName("Reconnect")
        self.reconnect_button.setToolTip("Open the connection to paste a new token")
        self.reconnect_button.clicked.connect(self._on_reconnect_button_clicked)
        self.copy_details_button = _CopyButton("Copy details", self)
        buttons.addButton(self.copy_details_button, QDialogButtonBox.ButtonRole.ActionRole)
        self.copy_details_button.setObjectName("copyDetailsButton")
        self.copy_details_button.setAccessibleName("Copy details")
        self.copy_details_button.clicked.connect(self._on_copy_details_button_clicked)
        self.close_button = buttons.addButton(QDialogButtonBox.StandardButton.Close)
        self.close_button.setObjectName("closeButton")
        self.close_button.setAccessibleName("Close")
        buttons.rejected.connect(self.reject)
        for button in buttons.buttons():
            if isinstance(button, QPushButton):
                button.setAutoDefault(False)
        self.close_button.setDefault(True)

        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addSpacing(self.fontMetrics().height() // 2)
        layout.addLayout(form)
        layout.addWidget(self.details_toggle, 0, Qt.AlignmentFlag.AlignLeft)
        layout.addWidget(self.details_text, 1)
        layout.addWidget(buttons)
        self.setMinimumWidth(_text_width(self, 84))

        # Keyboard users land on the field support asks for; Tab reaches the buttons.
        self.setTabOrder(self.request_id_field, self.copy_request_id_button)
        self.setTabOrder(self.copy_request_id_button, self.details_toggle)

    def _value_label(self, name: str, accessible: str) -> QLabel:
        label = QLabel(self)
        label.setObjectName(name)
        label.setAccessibleName(accessible)
        label.setTextFormat(Qt.TextFormat.PlainText)
        label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        label.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        return label

    def _fill(self) -> None:
        err = self.error
        self.summary_label.setText(err.summary())
        self.done_label.setText(err.what_was_done())
        host = urlsplit(self.base_url).netloc or self.base_url
        self.connection_value.setText(f"{self.connection_name} ({host})")
        self.code_value.setText(err.code or "—")
        self.status_value.setText(_status_text(err.status))
        self.message_value.setText(scrub(err.message) or "—")
        self.request_id_field.setText(err.request_id)
        # Wide enough for the whole ID (Makini's are 30 characters) in the fixed font.
        sample = max(err.request_id, "req_01JD3K6Q8N6V7M2B4C9D0E1F2G", key=len)
        frame = self.request_id_field.style().pixelMetric(QStyle.PixelMetric.PM_DefaultFrameWidth)
        self.request_id_field.setMinimumWidth(
            self.request_id_field.fontMetrics().horizontalAdvance(sample + "  ") + frame * 4
        )
        self.request_id_field.setPlaceholderText("none (the server sent no request ID)")
        self.request_id_field.setCursorPosition(0)
        self.copy_request_id_button.setEnabled(bool(err.request_id))
        self.reconnect_button.setVisible(err.is_auth)
        if err.is_auth:
            # On a 401 the one useful action is a new token: make Enter do that.
            self.close_button.setDefault(False)
            self.reconnect_button.setDefault(True)
        if self.count > 1:
            local = self.occurred_at.astimezone().strftime("%H:%M:%S")
            self.count_label.setText(f"Happened {self.count} times (last at {local}).")
            self.count_label.show()
        self.details_text.setPlainText(self.details())

    # -- public API -----------------------------------------------------------------------

    @property
    def request_id(self) -> str:
        """The request ID shown (of the latest occurrence)."""
        return self.error.request_id

    def add_occurrence(self, err: MakiniError) -> None:
        """The same error happened again: count it and show the latest one's details."""
        earlier = self.error.request_id
        if earlier and earlier != err.request_id and earlier not in self._earlier_ids:
            self._earlier_ids.append(earlier)
            del self._earlier_ids[:-MAX_EARLIER_IDS]
        self.error = err
        self.count += 1
        self.occurred_at = _utc_now()
        self._fill()

    def details(self) -> str:
        """The text "Copy details" puts on the clipboard: everything support needs.

        Time, connection, base URL, request, status, code, type, message, request ID, app
        version and OS. The dialog never holds a token, and the text is scrubbed anyway.
        """
        err = self.error
        request = " ".join(p for p in (err.method, err.path) if p) or "—"
        lines = [
            f"Time (UTC): {_iso(self.occurred_at)}",
            f"Connection: {self.connection_name}",
            f"Base URL: {self.base_url}",
            f"Request: {request}",
            f"HTTP status: {_status_text(err.status)}",
            f"Code: {err.code}",
            f"Type: {err.type}",
            f"Message: {err.message}",
            f"Request ID: {err.request_id or 'none'}",
            f"What the app did: {err.what_was_done()}",
        ]
        if self.count > 1:
            lines.append(
                f"Occurrences: {self.count} since {_iso(self.first_occurred_at)}"
            )
        if self._earlier_ids:
            lines.append("Earlier request IDs: " + ", ".join(self._earlier_ids))
        if err.field_errors:
            for name, messages in err.field_errors.items():
                lines.append(f"Field {name}: {'; '.join(messages)}")
        if err.body_excerpt:
            lines.append(f"Response excerpt: {err.body_excerpt}")
        lines += _environment_lines()
        return scrub("\n".join(lines))

    # -- slots ----------------------------------------------------------------------------

    @Slot()
    def _on_copy_request_id_clicked(self) -> None:
        # Exactly the ID, nothing around it: support pastes it into a search box.
        QGuiApplication.clipboard().setText(self.error.request_id)
        self.copy_request_id_button.show_copied()

    @Slot()
    def _on_copy_details_button_clicked(self) -> None:
        QGuiApplication.clipboard().setText(self.details())
        self.copy_details_button.show_copied()

    @Slot()
    def _on_reconnect_button_clicked(self) -> None:
        self.sig_reconnect_requested.emit()
        self.accept()

    @Slot(bool)
    def _on_details_toggle_toggled(self, shown: bool) -> None:
        self.details_toggle.setArrowType(
            Qt.ArrowType.DownArrow if shown else Qt.ArrowType.RightArrow
        )
        self.details_toggle.setAccessibleName("Hide details" if shown else "Show details")
        self.details_text.setVisible(shown)
        if not shown:
            # Give the space back instead of leaving an empty gap where the text was.
            QTimer.singleShot(0, self._shrink)

    @Slot()
    def _shrink(self) -> None:
        if shiboken6.isValid(self):
            self.adjustSize()


def _error_key(err: MakiniError, connection_name: str) -> tuple[str, int, str, str, str]:
    # The query is left out: the same failure on page 3 and on page 4 of one list is one
    # problem for the user, not two dialogs.
    path = err.path.split("?", 1)[0]
    return (connection_name, err.status, err.code, err.method.upper(), path)


class ErrorReporter(QObject):
    """Shows API errors in :class:`ErrorDialog` windows without stacking repeats.

    Args:
        main_window: the window dialogs belong to (None for tests and headless use).
        show_dialogs: False to only log errors and keep them in :attr:`reported`
            (headless runs, screenshots, tests that do not look at dialogs).

    Signals:
        sig_reconnect(str): the user asked to reconnect the named connection.

    Attributes:
        show_dialogs: as given; may be changed at any time.
        reported: every error reported, in order (bounded), for tests and diagnostics.
    """

    sig_reconnect = Signal(str)

    def __init__(self, main_window: QWidget | None = None, *, show_dialogs: bool = True) -> None:
        super().__init__(main_window)
        self._window = main_window
        self.show_dialogs = show_dialogs
        self.reported: list[MakiniError] = []
        self._dialogs: dict[tuple[str, int, str, str, str], ErrorDialog] = {}

    def report(
        self, err: MakiniError, *, connection_name: str, base_url: str
    ) -> ErrorDialog | None:
        """Show an error, or count it on the dialog already open for the same error.

        The same error means the same connection, HTTP status, code, method and path
        (without the query string).

        Args:
            err: the error.
            connection_name: the connection's name.
            base_url: the connection's base URL.

        Returns:
            The dialog showing the error, or None when dialogs are switched off.
        """
        log.warning("API error on connection %r: %s", connection_name, scrub(err.one_line()))
        self.reported.append(err)
        del self.reported[:-100]
        if not self.show_dialogs:
            return None
        key = _error_key(err, connection_name)
        dialog = self._dialogs.get(key)
        if dialog is not None and shiboken6.isValid(dialog) and dialog.isVisible():
            dialog.add_occurrence(err)
            # Already open, maybe behind the main window: bring it forward. A new dialog
            # is shown on top anyway.
            dialog.raise_()
            dialog.activateWindow()
        else:
            dialog = ErrorDialog(
                err, connection_name=connection_name, base_url=base_url, parent=self._parent()
            )
            self._dialogs[key] = dialog
            dialog.finished.connect(lambda _result, k=key, d=dialog: self._forget(k, d))
            dialog.sig_reconnect_requested.connect(
                lambda name=connection_name: self.sig_reconnect.emit(name)
            )
            dialog.show()
        return dialog

    def open_dialogs(self) -> list[ErrorDialog]:
        """The error dialogs currently shown, oldest first."""
        return [d for d in self._dialogs.values() if shiboken6.isValid(d) and d.isVisible()]

    def close_all(self, connection_name: str | None = None) -> None:
        """Close the error dialogs (of one connection, e.g. after it reconnected)."""
        for key, dialog in list(self._dialogs.items()):
            if connection_name is None or key[0] == connection_name:
                if shiboken6.isValid(dialog):
                    dialog.reject()
                self._dialogs.pop(key, None)

    def _parent(self) -> QWidget | None:
        if self._window is not None and shiboken6.isValid(self._window):
            return self._window
        return None

    def _forget(self, key: tuple[str, int, str, str, str], dialog: ErrorDialog) -> None:
        if self._dialogs.get(key) is dialog:
            del self._dialogs[key]
        if shiboken6.isValid(dialog):
            dialog.deleteLater()


# ---------------------------------------------------------------------------------------
# Crashes


ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None]


def format_crash(
    exc_type: type[BaseException],
    exc: BaseException,
    tb: TracebackType | None,
    *,
    context: str = "",
) -> str:
    """A scrubbed crash report: UTC time, what was running, and the traceback."""
    text = "".join(traceback.format_exception(exc_type, exc, tb))
    head = f"Time (UTC): {_iso(_utc_now())}"
    if context:
        head += f"\nWhere: {context}"
    return scrub(f"{head}\n{text}".rstrip())


class CrashDialog(QDialog):
    """The one dialog for unexpected errors (bugs), with a copyable traceback.

    Repeated crashes are added to the same dialog, newest first, instead of opening more.

    Attributes:
        reports: the scrubbed crash reports shown, newest first.
        count: how many unexpected errors happened since the dialog was created.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("crashDialog")
        self.setModal(False)
        self.setWindowModality(Qt.WindowModality.NonModal)
        self.reports: list[str] = []
        self.count = 0
        self._setup_ui()

    def _setup_ui(self) -> None:
        self.setWindowTitle("Unexpected error — makini-desktop")
        self.setAccessibleName("Unexpected error")
        self.setSizeGripEnabled(True)

        icon = QLabel(self)
        size = self.style().pixelMetric(QStyle.PixelMetric.PM_MessageBoxIconSize)
        icon.setPixmap(
            self.style().standardIcon(QStyle.StandardPixmap.SP_MessageBoxCritical).pixmap(size)
        )
        icon.setAccessibleName("Error")

        self.summary_label = QLabel("Something went wrong inside makini-desktop.", self)
        self.summary_label.setObjectName("crashSummary")
        self.summary_label.setWordWrap(True)
        _bigger_bold(self.summary_label)
        self.explain_label = QLabel(
            "The app keeps running, but the last action may not have finished. "
            "Please copy the details and send them to support.",
            self,
        )
        self.explain_label.setObjectName("crashExplanation")
        self.explain_label.setWordWrap(True)
        self.count_label = QLabel(self)
        self.count_label.setObjectName("crashCount")
        self.count_label.setAccessibleName("How many unexpected errors")
        self.count_label.hide()

        heading = QVBoxLayout()
        heading.addWidget(self.summary_label)
        heading.addWidget(self.explain_label)
        heading.addWidget(self.count_label)
        top = QHBoxLayout()
        top.addWidget(icon, 0, Qt.AlignmentFlag.AlignTop)
        top.addLayout(heading, 1)

        self.traceback_text = QPlainTextEdit(self)
        self.traceback_text.setObjectName("crashTraceback")
        self.traceback_text.setAccessibleName("Technical details")
        self.traceback_text.setReadOnly(True)
        self.traceback_text.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.traceback_text.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.traceback_text.setMinimumHeight(self.fontMetrics().lineSpacing() * 12)

        buttons = QDialogButtonBox(self)
        self.copy_button = _CopyButton("Copy details", self)
        self.copy_button.setObjectName("copyTracebackButton")
        self.copy_button.setAccessibleName("Copy details")
        buttons.addButton(self.copy_button, QDialogButtonBox.ButtonRole.ActionRole)
        self.copy_button.clicked.connect(self._on_copy_button_clicked)
        close = buttons.addButton(QDialogButtonBox.StandardButton.Close)
        close.setObjectName("closeButton")
        buttons.rejected.connect(self.reject)
        for button in buttons.buttons():
            if isinstance(button, QPushButton):
                button.setAutoDefault(False)
        close.setDefault(True)

        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.traceback_text, 1)
        layout.addWidget(buttons)
        self.resize(_text_width(self, 100), self.fontMetrics().lineSpacing() * 26)

    def add_report(self, report: str) -> None:
        """Show one more crash report (already scrubbed) at the top."""
        self.count += 1
        self.reports.insert(0, report)
        del self.reports[MAX_CRASHES:]
        if self.count > 1:
            self.count_label.setText(f"{self.count} unexpected errors since the app started.")
            self.count_label.show()
        self.traceback_text.setPlainText(self.details())
        self.traceback_text.moveCursor(self.traceback_text.textCursor().MoveOperation.Start)

    def details(self) -> str:
        """App version, OS and every crash report shown: what "Copy details" copies."""
        rule = "\n" + "-" * 60 + "\n"
        return scrub("\n".join(_environment_lines()) + rule + rule.join(self.reports))

    @Slot()
    def _on_copy_button_clicked(self) -> None:
        QGuiApplication.clipboard().setText(self.details())
        self.copy_button.show_copied()


class CrashHandler(QObject):
    """Routes unexpected exceptions to one :class:`CrashDialog` and to the log.

    Safe to call from any thread: the report travels to the GUI thread through a queued
    signal, since widgets may only be touched there.

    Args:
        parent_getter: returns the window the crash dialog belongs to (it may not exist
            yet when the first crash happens, hence a getter).
        show_dialogs: False to only log (headless runs).

    Attributes:
        show_dialogs: as given; may be changed at any time.
        reports: every crash report (scrubbed), oldest first, bounded.
        dialog: the crash dialog once one was shown.
    """

    _sig_crash = Signal(str)

    def __init__(
        self, parent_getter: Callable[[], QWidget | None], *, show_dialogs: bool = True
    ) -> None:
        super().__init__()
        self._parent_getter = parent_getter
        self.show_dialogs = show_dialogs
        self.reports: list[str] = []
        self.dialog: CrashDialog | None = None
        self._previous_excepthook: Callable[..., Any] | None = None
        self._previous_threading_hook: Callable[..., Any] | None = None
        self._in_handler = False
        self._sig_crash.connect(self._on_crash, Qt.ConnectionType.AutoConnection)

    # -- entry points ---------------------------------------------------------------------

    def handle_exception(
        self,
        exc_type: type[BaseException],
        exc: BaseException,
        tb: TracebackType | None,
        *,
        context: str = "",
    ) -> None:
        """Log the exception (scrubbed) and show it in the crash dialog."""
        report = format_crash(exc_type, exc, tb, context=context)
        # The report is logged as text, never with exc_info: logging would format the
        # traceback itself, unscrubbed.
        log.error("Unexpected error\n%s", report)
        self.reports.append(report)
        del self.reports[:-MAX_CRASHES]
        self._sig_crash.emit(report)

    def excepthook(
        self,
        exc_type: type[BaseException],
        exc: BaseException,
        tb: TracebackType | None,
    ) -> None:
        """A ``sys.excepthook``: interrupts go to the previous hook, the rest to the dialog."""
        if issubclass(exc_type, KeyboardInterrupt | SystemExit) or self._in_handler:
            previous = self._previous_excepthook or sys.__excepthook__
            previous(exc_type, exc, tb)
            return
        self._in_handler = True
        try:
            self.handle_exception(exc_type, exc, tb)
        finally:
            self._in_handler = False

    def threading_excepthook(self, args: threading.ExceptHookArgs) -> None:
        """A ``threading.excepthook`` for worker threads."""
        if args.exc_value is None or issubclass(args.exc_type, SystemExit):
            return
        name = args.thread.name if args.thread is not None else "a worker thread"
        self.handle_exception(
            args.exc_type, args.exc_value, args.exc_traceback, context=f"thread {name}"
        )

    def install(self) -> None:
        """Become ``sys.excepthook`` and ``threading.excepthook``."""
        if self._previous_excepthook is None:
            self._previous_excepthook = sys.excepthook
            self._previous_threading_hook = threading.excepthook
        sys.excepthook = self.excepthook
        threading.excepthook = self.threading_excepthook

    def uninstall(self) -> None:
        """Put back the hooks that were there before :meth:`install`."""
        if self._previous_excepthook is not None:
            if sys.excepthook == self.excepthook:
                sys.excepthook = self._previous_excepthook
            if threading.excepthook == self.threading_excepthook:
                threading.excepthook = self._previous_threading_hook or threading.__excepthook__
        self._previous_excepthook = None
        self._previous_threading_hook = None

    # -- GUI thread -----------------------------------------------------------------------

    @Slot(str)
    def _on_crash(self, report: str) -> None:
        if not self.show_dialogs:
            return
        dialog = self.dialog
        if dialog is None or not shiboken6.isValid(dialog):
            parent = self._parent_getter()
            if parent is not None and not shiboken6.isValid(parent):
                parent = None
            dialog = CrashDialog(parent)
            self.dialog = dialog
        dialog.add_report(report)
        if dialog.isVisible():
            dialog.raise_()
            dialog.activateWindow()
        else:
            dialog.show()


def install_excepthook(
    parent_getter: Callable[[], QWidget | None],
    *,
    loop: asyncio.AbstractEventLoop | None = None,
    show_dialogs: bool = True,
) -> CrashHandler:
    """Send every unexpected exception to one crash dialog, so the app keeps running.

    Installs ``sys.excepthook`` (which qasync's ``@asyncSlot`` also calls for a failed
    slot) and ``threading.excepthook``; with ``loop``, also the loop's exception handler
    (see :func:`make_asyncio_exception_handler`).

    Args:
        parent_getter: returns the main window, or None while there is none.
        loop: the asyncio (qasync) loop of the app.
        show_dialogs: False to only log (headless runs).

    Returns:
        The handler; keep a reference, and call ``uninstall()`` on shutdown.
    """
    handler = CrashHandler(parent_getter, show_dialogs=show_dialogs)
    handler.install()
    if loop is not None:
        loop.set_exception_handler(make_asyncio_exception_handler(handler))
    return handler


def make_asyncio_exception_handler(
    handler: CrashHandler,
) -> Callable[[asyncio.AbstractEventLoop, dict[str, Any]], None]:
    """An asyncio loop exception handler that reports task exceptions as crashes.

    Exceptions nobody retrieved from a task ("Task exception was never retrieved") are
    bugs and go to the crash dialog. Cancellations are normal. Contexts without an
    exception (an unclosed transport, a slow callback) are only logged, scrubbed.

    Args:
        handler: the crash handler from :func:`install_excepthook`.
    """

    def on_exception(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        exc = context.get("exception")
        message = str(context.get("message") or "asyncio error")
        if exc is None:
            log.warning("asyncio: %s", scrub(message))
            return
        if isinstance(exc, asyncio.CancelledError):
            return
        handler.handle_exception(type(exc), exc, exc.__traceback__, context=f"asyncio: {message}")

    return on_exception
