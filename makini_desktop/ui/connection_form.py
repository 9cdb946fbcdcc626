"""The connection manager's form: name, base URL and token, validated inline, and
"Test connection".

Each field's problem is shown next to it as the user types or leaves it, never in a
message box. The token field is never filled with a stored token: it shows where the token
is kept, and a token typed there replaces it. "Test connection" runs on the qasync loop and
is cancelled when the form shows another connection or the dialog closes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit

import shiboken6
from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import (
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)
from qasync import asyncSlot

from makini_desktop.api.errors import MakiniError
from makini_desktop.api.urls import InsecureUrlError, InvalidBaseUrl, validate_base_url
from makini_desktop.redact import clean_token, register_secret
from makini_desktop.store.profiles import MAX_NAME_LENGTH, ConnectionProfile, ProfileStore
from makini_desktop.store.secrets import TokenStore
from makini_desktop.sync.connection_status import describe_error, describe_status
from makini_desktop.sync.tasks import TaskSlots
from makini_desktop.ui.connection_list import host_of
from makini_desktop.ui.dialog_parts import bigger_bold

__all__ = ["ConnectionForm", "Tester"]

Tester = Callable[[str, str], Awaitable[Any]]


async def _default_tester(base_url: str, token: str) -> Any:
    # Imported here: sync/ pulls in httpx and the cache, which a dialog that is only
    # being constructed (or rendered for a screenshot) does not need.
    from makini_desktop.sync.session import test_connection

    return await test_connection(base_url, token)


def _origin(base_url: str) -> tuple[str, str]:
    parts = urlsplit(base_url)
    return parts.scheme, parts.netloc


_TEST = "test"  # the TaskSlots key of the connection test

class ConnectionForm(QWidget):
    """One connection's fields with their inline problems, and "Test connection".

    Args:
        profiles: the saved connection profiles (for duplicate names and the saved URL).
        tokens: where tokens are kept (the form only reads them).
        parent: the connection manager.

    Signals:
        sig_validated(bool, bool): after every check: whether the form can be saved, and
            whether it can connect (valid, with a typed or stored token).

    Attributes:
        tester: the coroutine function "Test connection" awaits, ``(base_url, token)`` to an
            ``IntegrationStatus``; defaults to :func:`makini_desktop.sync.session.test_connection`.
        last_test_result: the last test's ``IntegrationStatus`` or ``MakiniError`` (None
            before any test, or after the form changed).
    """

    sig_validated = Signal(bool, bool)

    def __init__(
        self, profiles: ProfileStore, tokens: TokenStore, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.profiles = profiles
        self.tokens = tokens
        self.tester: Tester = _default_tester
        self.last_test_result: Any = None
        self._current_id: str | None = None  # None while editing a new connection
        # Whether the current connection has a stored token, read once per selection: the
        # form validates on every keystroke and a keychain read is an IPC call (or a prompt).
        self._has_stored_token = False
        self._name_touched = False
        self._url_touched = False
        # After a Save that failed, every problem stays shown until the form is reloaded
        # (focus moving between fields must not hide the reason the save was refused).
        self._save_tried = False
        self._tasks = TaskSlots()  # "test": the connection test under way, a newer one wins
        self.setObjectName("connectionForm")
        self.setAccessibleName("Connection details")
        self._setup_ui()

    # -- construction ---------------------------------------------------------------------

    def _setup_ui(self) -> None:
        fm = self.fontMetrics()
        char = fm.averageCharWidth()
        self.form_title = QLabel(self)
        self.form_title.setObjectName("formTitle")
        self.form_title.setTextFormat(Qt.TextFormat.PlainText)
        bigger_bold(self.form_title)

        self.name_field = QLineEdit(self)
        self.name_field.setObjectName("nameField")
        self.name_field.setAccessibleName("Connection name")
        self.name_field.setPlaceholderText("e.g. Headquarters (iOffice)")
        self.name_field.setMaxLength(MAX_NAME_LENGTH + 20)
        self.name_field.textEdited.connect(self._on_name_field_text_edited)
        self.name_field.editingFinished.connect(self._on_name_field_editing_finished)
        self.name_error = self._error_label("nameError", "Name problem")

        self.base_url_field = QLineEdit(self)
        self.base_url_field.setObjectName("baseUrlField")
        self.base_url_field.setAccessibleName("Base URL")
        self.base_url_field.setPlaceholderText("https://api.makini.io")
        self.base_url_field.setMinimumWidth(char * 40)
        self.base_url_field.textEdited.connect(self._on_base_url_field_text_edited)
        self.base_url_field.editingFinished.connect(self._on_base_url_field_editing_finished)
        self.base_url_error = self._error_label("baseUrlError", "Base URL problem")

        self.token_field = QLineEdit(self)
        self.token_field.setObjectName("tokenField")
        self.token_field.setAccessibleName("API token")
        self.token_field.setEchoMode(QLineEdit.EchoMode.Password)
        # No autocompletion or input-method history for a secret.
        self.token_field.setInputMethodHints(
            Qt.InputMethodHint.ImhSensitiveData
            | Qt.InputMethodHint.ImhNoPredictiveText
            | Qt.InputMethodHint.ImhHiddenText
        )
        self.token_field.textEdited.connect(self._on_token_field_text_edited)
        self.show_token_button = QToolButton(self)
        self.show_token_button.setObjectName("showTokenButton")
        self.show_token_button.setText("Show")
        self.show_token_button.setAccessibleName("Show token")
        self.show_token_button.setToolTip("Show or hide the token you are typing")
        self.show_token_button.setCheckable(True)
        self.show_token_button.toggled.connect(self._on_show_token_button_toggled)
        token_row = QHBoxLayout()
        token_row.addWidget(self.token_field, 1)
        token_row.addWidget(self.show_token_button)
        self.token_hint = QLabel(self)
        self.token_hint.setObjectName("tokenHint")
        self.token_hint.setWordWrap(True)
        self.token_hint.setAccessibleName("Token storage")
        self.token_hint.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        self.token_hint.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        # Its text changes on save (one line or two): two lines are always kept, so Test
        # connection below never moves. Every hint fits in two; the tooltip has it whole.
        self.token_hint.setFixedHeight(self.fontMetrics().lineSpacing() * 2)
        self.token_error = self._error_label("tokenError", "Token problem")

        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.ExpandingFieldsGrow)
        form.addRow("&Name:", self._stack(self.name_field, self.name_error))
        form.addRow("Base &URL:", self._stack(self.base_url_field, self.base_url_error))
        form.addRow("&Token:", self._stack(token_row, self.token_hint, self.token_error))
        for row in range(form.rowCount()):
            item = form.itemAt(row, QFormLayout.ItemRole.LabelRole)
            label = item.widget() if item is not None else None
            if isinstance(label, QLabel):
                label.setBuddy(
                    (self.name_field, self.base_url_field, self.token_field)[row]
                )

        self.test_button = QPushButton("Test connection", self)
        self.test_button.setObjectName("testConnectionButton")
        self.test_button.setAccessibleName("Test connection")
        self.test_button.setToolTip("Ask the server for this connection's status")
        self.test_button.clicked.connect(self._on_test_button_clicked)
        self.test_result = QLabel(self)
        self.test_result.setObjectName("testResult")
        self.test_result.setAccessibleName("Test result")
        self.test_result.setTextFormat(Qt.TextFormat.PlainText)
        self.test_result.setWordWrap(True)
        # Selectable so the request ID can be copied for support.
        self.test_result.setTextInteractionFlags(
            Qt.TextInteractionFlag.TextSelectableByMouse
            | Qt.TextInteractionFlag.TextSelectableByKeyboard
        )
        self.test_result.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Minimum)
        test_row = QHBoxLayout()
        test_row.addWidget(self.test_button, 0, Qt.AlignmentFlag.AlignTop)
        test_row.addWidget(self.test_result, 1)

        right_layout = QVBoxLayout(self)
        right_layout.setContentsMargins(0, 0, 0, 0)
        right_layout.addWidget(self.form_title)
        right_layout.addLayout(form)
        right_layout.addSpacing(fm.height() // 2)
        right_layout.addLayout(test_row)
        right_layout.addStretch(1)

    def _error_label(self, name: str, accessible: str) -> QLabel:
        label = QLabel(self)
        label.setObjectName(name)
        label.setAccessibleName(accessible)
        label.setWordWrap(True)
        label.setTextFormat(Qt.TextFormat.PlainText)
        label.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        label.setProperty("errorLabel", True)
        # The message appears while the user types (an http:// URL): its space is kept
        # even while it is hidden, and it never grows, so the fields below never move
        # under the mouse. Two lines hold every message; the tooltip has the whole text.
        policy = label.sizePolicy()
        policy.setRetainSizeWhenHidden(True)
        label.setSizePolicy(policy)
        label.setFixedHeight(self.fontMetrics().lineSpacing() * 2)
        label.hide()
        return label

    @staticmethod
    def _set_error(label: QLabel, message: str | None, visible: bool) -> None:
        label.setText(message or "")
        label.setToolTip(message or "")
        label.setVisible(visible)

    def _stack(self, *items: QWidget | QHBoxLayout) -> QVBoxLayout:
        box = QVBoxLayout()
        box.setSpacing(max(2, self.fontMetrics().height() // 6))
        for item in items:
            if isinstance(item, QWidget):
                box.addWidget(item)
            else:
                box.addLayout(item)
        return box

    # -- state ----------------------------------------------------------------------------

    @property
    def current_id(self) -> str | None:
        """The profile in the form, or None while a new connection is being entered."""
        return self._current_id

    def load(self, profile: ConnectionProfile | None) -> None:
        """Show a saved connection (None: a new one) with an empty token field."""
        self.cancel_test()
        self._current_id = profile.id if profile is not None else None
        self._has_stored_token = self._stored_token() is not None
        self._name_touched = self._url_touched = self._save_tried = False
        self.name_field.setText(profile.name if profile else "")
        self.base_url_field.setText(profile.base_url if profile else "")
        self.base_url_field.setCursorPosition(0)
        self.token_field.clear()
        self.show_token_button.setChecked(False)
        self.form_title.setText(profile.name if profile else "New connection")
        self.test_result.clear()
        self.last_test_result = None
        self.update_token_hint()
        self.validate()

    def _stored_token(self) -> str | None:
        if self._current_id is None:
            return None
        return self.tokens.get(self._current_id)

    def token_location(self) -> str:
        """Where a saved token is kept, in words ("stored in the system keychain")."""
        if not self.tokens.persistent:
            return "kept for this session only"
        return f"stored in {self.tokens.backend_name}"

    def update_token_hint(self, *, reconnect: bool = False) -> None:
        stored = self._has_stored_token
        session_only = not self.tokens.persistent
        if stored:
            where = self.token_location()
            self.token_field.setPlaceholderText(f"•••• {where}")
            if reconnect:
                hint = (
                    "The token was not accepted. Paste a new token, then Connect."
                    if session_only
                    else "The stored token was not accepted. Paste a new token, then Connect."
                )
            elif session_only:  # nothing is stored: the token lives as long as the app
                hint = "Paste a token again to replace it; it is kept until the app quits."
            else:
                hint = "Paste a new token to replace the stored one."
            self.token_hint.setText(hint)
        else:
            self.token_field.setPlaceholderText("Paste the connection's API token")
            self.token_hint.setText(
                "Tokens come from the Makini dashboard (“Generate Token”)."
                + ("" if not session_only else " It is kept for this session only.")
            )
        self.token_hint.setToolTip(self.token_hint.text())

    def typed_token(self) -> str:
        return clean_token(self.token_field.text())

    def _name_problem(self) -> str | None:
        name = " ".join(self.name_field.text().split())
        if not name:
            return "Give the connection a name."
        if len(name) > MAX_NAME_LENGTH:
            return f"Use a shorter name (at most {MAX_NAME_LENGTH} characters)."
        other = self.profiles.find_by_name(name)
        if other is not None and other.id != self._current_id:
            return f"A connection named “{other.name}” already exists. Choose another name."
        return None

    def _url_problem(self) -> ValueError | None:
        try:
            validate_base_url(self.base_url_field.text())
        except (InsecureUrlError, InvalidBaseUrl) as exc:
            return exc
        return None

    def _token_problem(self) -> str | None:
        token = self.typed_token()
        if token and any(ch.isspace() for ch in token):
            return "A token has no spaces or line breaks. Paste it again."
        if not token and self._current_id is None:
            return "Paste the connection's API token."
        if not token and self._server_changed():
            # The stored token belongs to the old server; it must never be sent elsewhere.
            return "The server changed: paste the token for the new server."
        return None

    def _server_changed(self) -> bool:
        """True if the edited URL points at another origin than the saved profile's."""
        profile = self.profiles.get(self._current_id) if self._current_id else None
        if profile is None:
            return False
        try:
            url = validate_base_url(self.base_url_field.text())
        except ValueError:
            return False
        return _origin(url) != _origin(profile.base_url)

    def is_dirty(self) -> bool:
        if self._current_id is None:
            return True
        profile = self.profiles.get(self._current_id)
        if profile is None:
            return True
        try:
            url = validate_base_url(self.base_url_field.text())
        except ValueError:
            url = self.base_url_field.text()
        name = " ".join(self.name_field.text().split())
        return bool(self.typed_token()) or name != profile.name or url != profile.base_url

    def has_unsaved_changes(self) -> bool:
        """True if the form holds typed text that is not saved (a new or edited connection)."""
        if self._current_id is None:
            fields = (self.name_field, self.base_url_field, self.token_field)
            return any(field.text().strip() for field in fields)
        return self.is_dirty()

    def validate(self, *, show_all: bool = False) -> bool:
        """Show each field's problem inline and enable the buttons accordingly.

        A problem is shown once the user has left the field (or tried to save), so that
        the first keystrokes of a URL are not greeted by an error. An insecure URL is shown
        at once: it is the one mistake that could send a token in clear text.
        """
        name_problem = self._name_problem()
        url_problem = self._url_problem()
        token_problem = self._token_problem()
        typed_token = bool(self.typed_token())
        self._save_tried = self._save_tried or show_all
        show_all = self._save_tried

        show_name = name_problem is not None and (show_all or self._name_touched)
        self._set_error(self.name_error, name_problem, show_name)

        show_url = url_problem is not None and (
            show_all or self._url_touched or isinstance(url_problem, InsecureUrlError)
        )
        self._set_error(self.base_url_error, str(url_problem) if url_problem else None, show_url)

        # "Paste the token" is a hint until the user tries to save; a malformed token is
        # an error as soon as it is typed.
        show_token = token_problem is not None and (show_all or typed_token)
        self._set_error(self.token_error, token_problem, show_token)

        valid = name_problem is None and url_problem is None and token_problem is None
        has_token = typed_token or (self._has_stored_token and not self._server_changed())
        testing = self._tasks.running(_TEST)
        self.test_button.setEnabled(
            url_problem is None and token_problem is None and has_token and not testing
        )
        self.sig_validated.emit(valid and self.is_dirty(), valid and has_token)
        return valid

    def focus_first_problem(self) -> None:
        for field, label in (
            (self.name_field, self.name_error),
            (self.base_url_field, self.base_url_error),
            (self.token_field, self.token_error),
        ):
            if label.isVisible():
                field.setFocus(Qt.FocusReason.OtherFocusReason)
                return

    def show_field_error(self, label: QLabel, field: QLineEdit, message: str) -> None:
        self._set_error(label, message, True)
        field.setFocus(Qt.FocusReason.OtherFocusReason)

    async def test_connection(self) -> Any:
        """Test the form's URL and token (typed, else stored) and show the answer inline.

        Returns:
            The ``IntegrationStatus``, the ``MakiniError``, or None if the form is not
            testable or the test was cancelled.
        """
        url_problem = self._url_problem()
        # The stored token belongs to the saved server: never test it against another one.
        stored = None if self._server_changed() else self._stored_token()
        token = self.typed_token() or stored
        if url_problem is not None or not token:
            self.validate(show_all=True)
            return None
        task = self._tasks.claim(_TEST)  # a test still running for other input is cancelled
        self.last_test_result = None
        self.test_result.setToolTip("")
        host = host_of(validate_base_url(self.base_url_field.text()))
        self.test_result.setText(f"Testing {host}…")
        self.validate()
        register_secret(token)

        def still_wanted() -> bool:
            # A result for a dialog that is gone, or for a connection no longer shown,
            # is dropped.
            return shiboken6.isValid(self) and self._tasks.owns(_TEST, task)

        result: Any = None
        try:
            status = await self.tester(self.base_url_field.text(), token)
        except asyncio.CancelledError:
            if still_wanted():
                self.test_result.setText("Test cancelled.")
            raise
        except MakiniError as err:
            result = err
            text = describe_error(err)
            # The code stays at hand for support, out of the sentence a person reads.
            code = f"{err.code}, HTTP {err.status}" if err.status else err.code
            if still_wanted():
                self.test_result.setToolTip(f"Error code: {code}")
        except (InsecureUrlError, InvalidBaseUrl, ValueError) as exc:
            text = f"✗ {exc}"
        except Exception:
            # A bug: the crash dialog gets the traceback (via qasync and sys.excepthook);
            # the form must not stay stuck on "Testing…".
            if still_wanted():
                self.test_result.setText("✗ The test failed unexpectedly.")
            raise
        else:
            result = status
            text = describe_status(status)
        finally:
            wanted = still_wanted()
            if wanted:
                self._tasks.release(_TEST, task)
                self.validate()
        if not wanted:
            return None
        self.last_test_result = result
        self.test_result.setText(text)
        return result

    def cancel_test(self) -> None:
        """Cancel a connection test under way; its result, if any, is dropped."""
        self._tasks.discard(_TEST)

    # -- slots ----------------------------------------------------------------------------

    @asyncSlot()  # type: ignore[untyped-decorator]  # qasync ships no type hints
    async def _on_test_button_clicked(self) -> None:
        await self.test_connection()

    @Slot(str)
    def _on_name_field_text_edited(self, text: str) -> None:
        self.validate()

    @Slot()
    def _on_name_field_editing_finished(self) -> None:
        self._name_touched = True
        self.validate()

    @Slot(str)
    def _on_base_url_field_text_edited(self, text: str) -> None:
        # A different server: an earlier test result no longer applies.
        self.cancel_test()
        if self.last_test_result is not None or self.test_result.text():
            self.test_result.clear()
            self.last_test_result = None
        self.validate()

    @Slot()
    def _on_base_url_field_editing_finished(self) -> None:
        self._url_touched = True
        self.validate()

    @Slot(str)
    def _on_token_field_text_edited(self, text: str) -> None:
        self.validate()

    @Slot(bool)
    def _on_show_token_button_toggled(self, shown: bool) -> None:
        self.token_field.setEchoMode(
            QLineEdit.EchoMode.Normal if shown else QLineEdit.EchoMode.Password
        )
        self.show_token_button.setText("Hide" if shown else "Show")
        self.show_token_button.setAccessibleName("Hide token" if shown else "Show token")
