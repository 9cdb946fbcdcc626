"""The error dialog: API errors that reach the user, one dialog at a time per connection.

* :class:`ErrorDialog` shows one :class:`~makini_desktop.api.errors.MakiniError` to a
  facilities manager (what happened, what the app already did) and to support (code, status,
  message, and the request ID, copyable exactly).
* :class:`~makini_desktop.ui.error_reporter.ErrorReporter` (named here too) is the one way
  the rest of the UI shows such an error: it keeps errors from stacking dialogs (one per
  connection, showing the latest error) and turns "Reconnect…" into a signal.

Unexpected crashes (bugs) have their own dialog in :mod:`~makini_desktop.ui.crash_dialog`;
its names are re-exported here for the code that imported them from this module.

None of these dialogs is modal and none is ever ``exec()``-ed: a dialog that blocks inside a
coroutine would stall the qasync loop. No dialog here ever receives a token; every text that
can leave the app (clipboard, log) goes through :func:`makini_desktop.redact.scrub` anyway.
"""

from __future__ import annotations

import http

import shiboken6
from PySide6.QtCore import Qt, QTimer, Signal, Slot
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

from makini_desktop.api.errors import MakiniError
from makini_desktop.redact import scrub
from makini_desktop.ui.connection_list import host_of
from makini_desktop.ui.crash_dialog import (
    CrashDialog,
    CrashHandler,
    install_excepthook,
    make_asyncio_exception_handler,
)
from makini_desktop.ui.dialog_parts import (
    CopyButton,
    WrappingLabel,
    bigger_bold,
    environment_lines,
    heading_row,
    iso_utc,
    message_icon,
    text_width,
    utc_now,
)
from makini_desktop.ui.error_reporter import ErrorReporter

__all__ = [
    "CrashDialog",
    "CrashHandler",
    "ErrorDialog",
    "ErrorReporter",
    "install_excepthook",
    "make_asyncio_exception_handler",
]

# Request IDs of earlier occurrences kept in the details (support may want to see them all).
MAX_EARLIER_IDS = 10


def _status_text(status: int) -> str:
    """E.g. "500 Internal Server Error"; "none (no response)" for a connection failure."""
    if not status:
        return "none (no response from the server)"
    try:
        return f"{status} {http.HTTPStatus(status).phrase}"
    except ValueError:
        return str(status)


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
        self.occurred_at = utc_now()
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

        icon = message_icon(self, QStyle.StandardPixmap.SP_MessageBoxWarning, "Warning")
        icon.setObjectName("errorIcon")
        icon.setAlignment(Qt.AlignmentFlag.AlignTop)

        self.summary_label = QLabel(self)
        self.summary_label.setObjectName("errorSummary")
        self.summary_label.setWordWrap(True)
        self.summary_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.summary_label.setAccessibleName("What happened")
        bigger_bold(self.summary_label)

        self.done_label = QLabel(self)
        self.done_label.setObjectName("errorWhatWasDone")
        self.done_label.setWordWrap(True)
        self.done_label.setAccessibleName("What the app did")

        self.count_label = QLabel(self)
        self.count_label.setObjectName("occurrenceLabel")
        self.count_label.setAccessibleName("How many times it happened")
        self.count_label.hide()

        top = heading_row(
            icon, self.summary_label, self.done_label, self.count_label,
            spacing=self.style().pixelMetric(QStyle.PixelMetric.PM_LayoutHorizontalSpacing),
        )

        self.connection_value = self._value_label("errorConnection", "Connection")
        self.code_value = self._value_label("errorCode", "Error code")
        self.status_value = self._value_label("errorStatus", "HTTP status")
        # Wrapped, with the height its lines need: never under the Request ID row.
        self.message_value = self._value_label("errorMessage", "Message", WrappingLabel(self))

        self.request_id_field = QLineEdit(self)
        self.request_id_field.setObjectName("requestIdField")
        self.request_id_field.setReadOnly(True)
        self.request_id_field.setAccessibleName("Request ID")
        fixed = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        self.request_id_field.setFont(fixed)
        self.copy_request_id_button = CopyButton("Copy request ID", self)
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
        self.copy_details_button = CopyButton("Copy details", self)
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
        self.setMinimumWidth(text_width(self, 84))

        # Keyboard users land on the field support asks for; Tab reaches the buttons.
        self.setTabOrder(self.request_id_field, self.copy_request_id_button)
        self.setTabOrder(self.copy_request_id_button, self.details_toggle)

    def _value_label(self, name: str, accessible: str, label: QLabel | None = None) -> QLabel:
        if label is None:
            label = QLabel(self)
            label.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        label.setObjectName(name)
        label.setAccessibleName(accessible)
        label.setTextFormat(Qt.TextFormat.PlainText)
        label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        return label

    def _fill(self) -> None:
        err = self.error
        self.summary_label.setText(err.summary())
        self.done_label.setText(err.what_was_done())
        host = host_of(self.base_url)
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
        # On a 401 the one useful action is a new token: make Enter do that.
        self.reconnect_button.setDefault(err.is_auth)
        self.close_button.setDefault(not err.is_auth)
        if self.count > 1:
            local = self.occurred_at.astimezone().strftime("%H:%M:%S")
            self.count_label.setText(f"Happened {self.count} times (last at {local}).")
        self.count_label.setVisible(self.count > 1)
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
        self.occurred_at = utc_now()
        self._fill()

    def replace_error(self, err: MakiniError, *, base_url: str) -> None:
        """Another error on this connection: show it instead, as if the dialog were new
        (its count, earlier request IDs and "Copy" buttons are the new error's)."""
        self.error = err
        self.base_url = base_url
        self.count = 1
        self.occurred_at = self.first_occurred_at = utc_now()
        self._earlier_ids = []
        self._fill()

    def details(self) -> str:
        """The text "Copy details" puts on the clipboard: everything support needs.

        Time, connection, base URL, request, status, code, type, message, request ID, app
        version and OS. The dialog never holds a token, and the text is scrubbed anyway.
        """
        err = self.error
        request = " ".join(p for p in (err.method, err.path) if p) or "—"
        lines = [
            f"Time (UTC): {iso_utc(self.occurred_at)}",
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
                f"Occurrences: {self.count} since {iso_utc(self.first_occurred_at)}"
            )
        if self._earlier_ids:
            lines.append("Earlier request IDs: " + ", ".join(self._earlier_ids))
        if err.field_errors:
            for name, messages in err.field_errors.items():
                lines.append(f"Field {name}: {'; '.join(messages)}")
        if err.body_excerpt:
            lines.append(f"Response excerpt: {err.body_excerpt}")
        lines += environment_lines()
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
