"""The connection manager: add, edit, test, remove and pick Makini connections.

Profiles (name, base URL) are saved through :class:`~makini_desktop.store.profiles.ProfileStore`;
tokens only through :class:`~makini_desktop.store.secrets.TokenStore` (the OS keyring, or
memory for this session when there is no keyring). The token field is never filled with a
stored token: it shows where the token is kept, and a token typed there replaces it.

The dialog is non-modal-friendly: open it with :meth:`ConnectionDialog.open_on` (or
``open()``/``show()``), never ``exec()`` it inside a coroutine. "Test connection" runs on the
qasync loop and is cancelled when the dialog closes or another connection is selected.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit

import shiboken6
from PySide6.QtCore import (
    QEvent,
    Qt,
    Signal,
    Slot,
)
from PySide6.QtGui import QCloseEvent, QColor, QKeySequence, QPalette, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPushButton,
    QSizePolicy,
    QSplitter,
    QStyle,
    QToolButton,
    QVBoxLayout,
    QWidget,
)
from qasync import asyncSlot

from makini_desktop.api.errors import MakiniError
from makini_desktop.api.urls import InsecureUrlError, InvalidBaseUrl, validate_base_url
from makini_desktop.redact import clean_token, register_secret, unregister_secret
from makini_desktop.store import cache as cache_store
from makini_desktop.store.profiles import (
    MAX_NAME_LENGTH,
    ConnectionProfile,
    ProfileError,
    ProfileStore,
)
from makini_desktop.store.secrets import SESSION_ONLY_NAME, TokenStore
from makini_desktop.sync.connection_status import describe_error, describe_status, provider_name
from makini_desktop.ui.connection_list import ID_ROLE, ConnectionDelegate, connection_item, host_of

__all__ = [
    "NO_KEYCHAIN_TEXT",
    "ConnectionDialog",
    "describe_error",
    "describe_status",
    "provider_name",
]

log = logging.getLogger(__name__)

NO_KEYCHAIN_TEXT = (
    "No system keychain was found: the token will be kept for this session only "
    "and asked again next time."
) + (
    " To keep tokens, install and unlock a keychain such as GNOME Keyring or KWallet."
    if sys.platform.startswith("linux") else ""
)

Tester = Callable[[str, str], Awaitable[Any]]


async def _default_tester(base_url: str, token: str) -> Any:
    # Imported here: sync/ pulls in httpx and the cache, which a dialog that is only
    # being constructed (or rendered for a screenshot) does not need.
    from makini_desktop.sync.session import test_connection

    return await test_connection(base_url, token)


def _origin(base_url: str) -> tuple[str, str]:
    parts = urlsplit(base_url)
    return parts.scheme, parts.netloc


def _error_color(palette: QPalette) -> QColor:
    """A red that is readable on the current (light or dark) window background."""
    dark = palette.color(QPalette.ColorRole.Window).lightness() < 128
    return QColor("#ff8a80") if dark else QColor("#b3261e")


class ConnectionDialog(QDialog):
    """The connection manager.

    Args:
        profiles: the saved connection profiles.
        tokens: where tokens are kept.
        parent: the main window.

    Signals:
        sig_activate(str): the user chose "Connect" on this profile id (already saved).
        sig_profiles_changed(): a profile was added, changed or removed.
        sig_removing(str): a profile id is about to be removed (its cache file is deleted
            next: close it now).

    Attributes:
        tester: the coroutine function "Test connection" awaits, ``(base_url, token)`` to an
            ``IntegrationStatus``; defaults to :func:`makini_desktop.sync.session.test_connection`.
        last_test_result: the last test's ``IntegrationStatus`` or ``MakiniError`` (None
            before any test, or after the form changed).
    """

    sig_activate = Signal(str)
    sig_profiles_changed = Signal()
    sig_removing = Signal(str)

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
        self._test_task: asyncio.Task[Any] | None = None
        self._test_generation = 0
        self._confirm_box: QMessageBox | None = None
        self._unsaved_box: QMessageBox | None = None
        self._unsaved_then: Callable[[], None] | None = None
        self._close_without_asking = False
        self.setObjectName("connectionDialog")
        self._setup_ui()
        self._update_banner()
        self._reload_list()
        self._select(self.profiles.active_id)

    # -- construction ---------------------------------------------------------------------

    def _setup_ui(self) -> None:
        self.setWindowTitle("Connections")
        self.setAccessibleName("Connections")
        self.setSizeGripEnabled(True)
        fm = self.fontMetrics()
        char = fm.averageCharWidth()

        # Banner: only when tokens cannot be kept across restarts.
        self.banner = QFrame(self)
        self.banner.setObjectName("keyringBanner")
        self.banner.setFrameShape(QFrame.Shape.StyledPanel)
        self.banner.setAutoFillBackground(True)
        banner_icon = QLabel(self.banner)
        size = self.style().pixelMetric(QStyle.PixelMetric.PM_SmallIconSize)
        banner_icon.setPixmap(
            self.style().standardIcon(QStyle.StandardPixmap.SP_MessageBoxWarning).pixmap(size)
        )
        self.banner_label = QLabel(self.banner)
        self.banner_label.setObjectName("keyringBannerText")
        self.banner_label.setWordWrap(True)
        self.banner_label.setAccessibleName("Token storage warning")
        banner_layout = QHBoxLayout(self.banner)
        banner_layout.addWidget(banner_icon, 0, Qt.AlignmentFlag.AlignTop)
        banner_layout.addWidget(self.banner_label, 1)

        # Left: the saved connections.
        self.connection_list = QListWidget(self)
        self.connection_list.setObjectName("connectionList")
        self.connection_list.setAccessibleName("Saved connections")
        self.connection_list.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.connection_list.setUniformItemSizes(False)
        self.connection_list.setWordWrap(False)
        self.connection_list.setMinimumWidth(char * 26)
        self.connection_list.setItemDelegate(ConnectionDelegate(self.connection_list))
        self.connection_list.currentItemChanged.connect(self._on_connection_list_current_changed)
        self.connection_list.itemDoubleClicked.connect(self._on_connection_list_double_clicked)
        self.add_button = QPushButton("Add", self)
        self.add_button.setObjectName("addButton")
        self.add_button.setAccessibleName("Add connection")
        self.add_button.setToolTip("Add a connection (Ctrl+N)")
        self.add_button.clicked.connect(self._on_add_button_clicked)
        self.remove_button = QPushButton("Remove…", self)
        self.remove_button.setObjectName("removeButton")
        self.remove_button.setAccessibleName("Remove connection")
        self.remove_button.setToolTip("Remove the connection, its token and its offline data")
        self.remove_button.clicked.connect(self._on_remove_button_clicked)
        list_buttons = QHBoxLayout()
        list_buttons.addWidget(self.add_button)
        list_buttons.addWidget(self.remove_button)
        list_buttons.addStretch(1)
        left = QWidget(self)
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(self.connection_list, 1)
        left_layout.addLayout(list_buttons)

        # Right: the form.
        self.form_title = QLabel(self)
        self.form_title.setObjectName("formTitle")
        self.form_title.setTextFormat(Qt.TextFormat.PlainText)
        title_font = self.form_title.font()
        title_font.setBold(True)
        if title_font.pointSizeF() > 0:
            title_font.setPointSizeF(title_font.pointSizeF() * 1.15)
        self.form_title.setFont(title_font)

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

        right = QWidget(self)
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        right_layout.addWidget(self.form_title)
        right_layout.addLayout(form)
        right_layout.addSpacing(fm.height() // 2)
        right_layout.addLayout(test_row)
        right_layout.addStretch(1)

        splitter = QSplitter(Qt.Orientation.Horizontal, self)
        splitter.setObjectName("connectionSplitter")
        splitter.setChildrenCollapsible(False)
        splitter.addWidget(left)
        splitter.addWidget(right)
        splitter.setStretchFactor(0, 0)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([char * 30, char * 60])

        # Bottom: feedback on the left, the actions on the right.
        self.status_label = QLabel(self)
        self.status_label.setObjectName("statusLabel")
        self.status_label.setAccessibleName("Status")
        self.status_label.setWordWrap(True)
        self.status_label.setTextFormat(Qt.TextFormat.PlainText)
        buttons = QDialogButtonBox(self)
        self.save_button = buttons.addButton("&Save", QDialogButtonBox.ButtonRole.ActionRole)
        self.save_button.setObjectName("saveButton")
        self.save_button.setAccessibleName("Save")
        self.save_button.clicked.connect(self._on_save_button_clicked)
        self.connect_button = buttons.addButton(
            "C&onnect", QDialogButtonBox.ButtonRole.ActionRole
        )
        self.connect_button.setObjectName("connectButton")
        self.connect_button.setAccessibleName("Connect")
        self.connect_button.setToolTip("Save and open the app on this connection")
        self.connect_button.clicked.connect(self._on_connect_button_clicked)
        self.close_button = buttons.addButton(QDialogButtonBox.StandardButton.Close)
        self.close_button.setObjectName("closeButton")
        self.close_button.setAccessibleName("Close")
        self.close_button.setAutoDefault(False)
        buttons.rejected.connect(self.reject)
        # Enter in any field saves (Esc closes, QDialog's own behaviour).
        self.save_button.setDefault(True)
        bottom = QHBoxLayout()
        bottom.addWidget(self.status_label, 1)
        bottom.addWidget(buttons)

        layout = QVBoxLayout(self)
        layout.addWidget(self.banner)
        layout.addWidget(splitter, 1)
        layout.addLayout(bottom)

        QShortcut(QKeySequence.StandardKey.New, self, self._on_add_button_clicked)
        delete = QShortcut(QKeySequence.StandardKey.Delete, self.connection_list)
        delete.setContext(Qt.ShortcutContext.WidgetShortcut)
        delete.activated.connect(self._on_remove_button_clicked)

        # Tab moves list → list buttons → form in reading order → actions.
        order = [
            self.connection_list, self.add_button, self.remove_button, self.name_field,
            self.base_url_field, self.token_field, self.show_token_button, self.test_button,
            self.save_button, self.connect_button, self.close_button,
        ]
        for first, second in zip(order, order[1:], strict=False):
            self.setTabOrder(first, second)

        self.resize(char * 112, fm.lineSpacing() * 28)
        self._apply_colors()

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

    def _apply_colors(self) -> None:
        """Colours derived from the current palette, so light and dark mode both read well."""
        base = self.palette()
        red = _error_color(base)
        for label in self.findChildren(QLabel):
            if label.property("errorLabel"):
                palette = label.palette()
                palette.setColor(QPalette.ColorRole.WindowText, red)
                label.setPalette(palette)
        banner = self.banner.palette()
        banner.setColor(QPalette.ColorRole.Window, base.color(QPalette.ColorRole.ToolTipBase))
        banner.setColor(
            QPalette.ColorRole.WindowText, base.color(QPalette.ColorRole.ToolTipText)
        )
        self.banner.setPalette(banner)

    def _stack(self, *items: QWidget | QHBoxLayout) -> QVBoxLayout:
        box = QVBoxLayout()
        box.setSpacing(max(2, self.fontMetrics().height() // 6))
        for item in items:
            if isinstance(item, QWidget):
                box.addWidget(item)
            else:
                box.addLayout(item)
        return box

    # -- list -----------------------------------------------------------------------------

    def _reload_list(self) -> None:
        """Fill the list from the store, keeping the current selection if it still exists."""
        active = self.profiles.active_id
        self.connection_list.blockSignals(True)
        try:
            self.connection_list.clear()
            for profile in self.profiles.list():
                self.connection_list.addItem(connection_item(profile, active=profile.id == active))
        finally:
            self.connection_list.blockSignals(False)

    def _item_for(self, profile_id: str | None) -> QListWidgetItem | None:
        for row in range(self.connection_list.count()):
            item = self.connection_list.item(row)
            if item.data(ID_ROLE) == profile_id:
                return item
        return None

    def _select(self, profile_id: str | None) -> None:
        """Show a profile in the form; with no such profile, the first one or a new one."""
        item = self._item_for(profile_id)
        if item is None and self.connection_list.count():
            item = self.connection_list.item(0)
        if item is None:
            self._start_new()
            return
        self.connection_list.blockSignals(True)
        self.connection_list.setCurrentItem(item)
        self.connection_list.blockSignals(False)
        self._load_form(self.profiles.get(item.data(ID_ROLE)))

    def _start_new(self) -> None:
        self.connection_list.blockSignals(True)
        self.connection_list.setCurrentRow(-1)
        self.connection_list.clearSelection()
        self.connection_list.blockSignals(False)
        self._load_form(None)

    # -- form -----------------------------------------------------------------------------

    @property
    def current_profile_id(self) -> str | None:
        """The profile in the form, or None while a new connection is being entered."""
        return self._current_id

    def _load_form(self, profile: ConnectionProfile | None) -> None:
        self._cancel_test()
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
        self.status_label.clear()
        self._update_token_hint()
        self._validate()

    def _stored_token(self) -> str | None:
        if self._current_id is None:
            return None
        return self.tokens.get(self._current_id)

    def _update_token_hint(self, *, reconnect: bool = False) -> None:
        stored = self._has_stored_token
        session_only = not self.tokens.persistent
        if stored:
            where = (
                "kept for this session only" if session_only
                else f"stored in {self.tokens.backend_name}"
            )
            self.token_field.setPlaceholderText(f"•••• {where}")
            self.token_hint.setText(
                "Paste a new token to replace the stored one."
                if not reconnect
                else "The stored token was not accepted. Paste a new token, then Connect."
            )
        else:
            self.token_field.setPlaceholderText("Paste the connection's API token")
            self.token_hint.setText(
                "Tokens come from the Makini dashboard (“Generate Token”)."
                + ("" if not session_only else " It is kept for this session only.")
            )

    def _typed_token(self) -> str:
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
        token = self._typed_token()
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

    def _is_dirty(self) -> bool:
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
        return bool(self._typed_token()) or name != profile.name or url != profile.base_url

    def has_unsaved_changes(self) -> bool:
        """True if the form holds typed text that is not saved (a new or edited connection)."""
        if self._current_id is None:
            fields = (self.name_field, self.base_url_field, self.token_field)
            return any(field.text().strip() for field in fields)
        return self._is_dirty()

    def _validate(self, *, show_all: bool = False) -> bool:
        """Show each field's problem inline and enable the buttons accordingly.

        A problem is shown once the user has left the field (or tried to save), so that
        the first keystrokes of a URL are not greeted by an error. An insecure URL is shown
        at once: it is the one mistake that could send a token in clear text.
        """
        name_problem = self._name_problem()
        url_problem = self._url_problem()
        token_problem = self._token_problem()
        typed_token = bool(self._typed_token())
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
        testing = self._test_task is not None
        self.save_button.setEnabled(valid and self._is_dirty())
        self.connect_button.setEnabled(valid and has_token)
        self.test_button.setEnabled(
            url_problem is None and token_problem is None and has_token and not testing
        )
        self.remove_button.setEnabled(self._current_id is not None)
        return valid

    def _focus_first_problem(self) -> None:
        for field, label in (
            (self.name_field, self.name_error),
            (self.base_url_field, self.base_url_error),
            (self.token_field, self.token_error),
        ):
            if label.isVisible():
                field.setFocus(Qt.FocusReason.OtherFocusReason)
                return

    def _update_banner(self) -> None:
        if self.tokens.persistent:
            self.banner.hide()
            return
        if self.tokens.backend_name == SESSION_ONLY_NAME or not self.tokens.last_problem:
            text = NO_KEYCHAIN_TEXT
        else:
            text = self.tokens.last_problem
        self.banner_label.setText(text)
        self.banner.show()

    # -- actions --------------------------------------------------------------------------

    def save(self) -> bool:
        """Save the form: the profile to the store, a typed token to the token store.

        Returns:
            True if saved; False if a field has a problem (now shown beside it).
        """
        if not self._validate(show_all=True):
            self._focus_first_problem()
            return False
        name = self.name_field.text()
        url = self.base_url_field.text()
        token = self._typed_token()
        try:
            if self._current_id is None:
                profile = self.profiles.add(name, url)
            else:
                existing = self.profiles.get(self._current_id)
                if existing is None:
                    raise ProfileError("This connection no longer exists.")
                existing.name = name
                existing.base_url = url
                profile = self.profiles.update(existing)
        except (InsecureUrlError, InvalidBaseUrl) as exc:
            self._show_field_error(self.base_url_error, self.base_url_field, str(exc))
            return False
        except ProfileError as exc:
            if exc.field == "name":
                self._show_field_error(self.name_error, self.name_field, exc.message)
            else:
                self.status_label.setText(exc.message)
            return False
        if token:
            register_secret(token)
            self.tokens.set(profile.id, token)
        where = (
            "kept for this session only" if not self.tokens.persistent
            else f"stored in {self.tokens.backend_name}"
        )
        self._update_banner()
        self._reload_list()
        self._select(profile.id)
        self.status_label.setText(
            f"Saved “{profile.name}”." + (f" Token {where}." if token else "")
        )
        self.sig_profiles_changed.emit()
        return True

    def _show_field_error(self, label: QLabel, field: QLineEdit, message: str) -> None:
        self._set_error(label, message, True)
        field.setFocus(Qt.FocusReason.OtherFocusReason)

    def remove_connection(self, profile_id: str) -> bool:
        """Remove a connection with its token and offline cache, without asking.

        The cache goes first: it is the step that can fail (a file in use), and a failure
        then leaves the connection complete so the user can try again.

        Returns:
            True if the connection was removed.
        """
        profile = self.profiles.get(profile_id)
        if profile is None:
            return False
        self.sig_removing.emit(profile_id)
        try:
            cache_store.delete_connection_caches(profile_id)
        except cache_store.CacheError as exc:
            self.status_label.setText(str(exc))
            return False
        unregister_secret(self.tokens.get(profile_id))
        self.tokens.delete(profile_id)
        try:
            self.profiles.remove(profile_id)
        except ProfileError as exc:
            self.status_label.setText(exc.message)
            return False
        self._reload_list()
        self._select(None)
        self.status_label.setText(f"Removed “{profile.name}”.")
        self.sig_profiles_changed.emit()
        return True

    async def test_connection(self) -> Any:
        """Test the form's URL and token (typed, else stored) and show the answer inline.

        Returns:
            The ``IntegrationStatus``, the ``MakiniError``, or None if the form is not
            testable or the test was cancelled.
        """
        url_problem = self._url_problem()
        # The stored token belongs to the saved server: never test it against another one.
        stored = None if self._server_changed() else self._stored_token()
        token = self._typed_token() or stored
        if url_problem is not None or not token:
            self._validate(show_all=True)
            return None
        self._cancel_test()
        self._test_generation += 1
        generation = self._test_generation
        self._test_task = asyncio.current_task()
        self.last_test_result = None
        self.test_result.setToolTip("")
        host = host_of(validate_base_url(self.base_url_field.text()))
        self.test_result.setText(f"Testing {host}…")
        self._validate()
        register_secret(token)

        def still_wanted() -> bool:
            # A result for a dialog that is gone, or for a connection no longer shown,
            # is dropped.
            return shiboken6.isValid(self) and generation == self._test_generation

        result: Any = None
        try:
            status = await self.tester(self.base_url_field.text(), token)
        except asyncio.CancelledError:
            if still_wanted():
                self.test_result.setText("Test cancelled.")
            raise
        except MakiniError as err:
            result = err
            text = self._describe_error(err)
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
            text = self._describe_status(status)
        finally:
            if still_wanted():
                self._test_task = None
                self._validate()
        if not still_wanted():
            return None
        self.last_test_result = result
        self.test_result.setText(text)
        return result

    @staticmethod
    def _describe_status(status: Any) -> str:
        return describe_status(status)

    @staticmethod
    def _describe_error(err: MakiniError) -> str:
        return describe_error(err)

    def _cancel_test(self) -> None:
        self._test_generation += 1
        task, self._test_task = self._test_task, None
        if task is not None and not task.done():
            task.cancel()

    def open_on(self, profile_id: str | None = None, focus_token: bool = False) -> None:
        """Show the dialog on a connection, e.g. to paste a new token after a 401.

        Args:
            profile_id: the connection to select; None selects the active one (or the
                first, or a new connection when there is none).
            focus_token: put the keyboard focus in the token field (the reconnect flow).
        """
        self.profiles.reload()
        self._reload_list()
        self._select(profile_id or self.profiles.active_id)
        self._update_banner()
        if not self.isVisible():
            self.open()
        else:
            self.raise_()  # already open, maybe behind the main window
            self.activateWindow()
        if focus_token:
            self._update_token_hint(reconnect=self._current_id is not None)
            self.token_field.setFocus(Qt.FocusReason.OtherFocusReason)
        elif self._current_id is None:
            self.name_field.setFocus(Qt.FocusReason.OtherFocusReason)
        else:
            self.connection_list.setFocus(Qt.FocusReason.OtherFocusReason)

    # -- Qt overrides ---------------------------------------------------------------------

    def changeEvent(self, event: QEvent) -> None:
        # The system switched between light and dark mode: re-derive our own colours.
        if event.type() == QEvent.Type.PaletteChange:
            self._apply_colors()
        super().changeEvent(event)

    def done(self, result: int) -> None:
        # Closing cancels a running test: its answer would have nowhere to go.
        self._cancel_test()
        for box in (self._confirm_box, self._unsaved_box):
            if box is not None and shiboken6.isValid(box):
                box.reject()
        super().done(result)

    def reject(self) -> None:
        # Esc, the Close button and the window's close button all come here: a half-typed
        # connection is never dropped without asking.
        if self._close_without_asking or not self.has_unsaved_changes():
            super().reject()
            return
        self._ask_save_discard_cancel()

    def closeEvent(self, event: QCloseEvent) -> None:
        # Only a person closing the window is asked; the app closing it (the main window
        # quitting) is not kept waiting on a question.
        self._close_without_asking = not event.spontaneous()
        try:
            super().closeEvent(event)
        finally:
            self._close_without_asking = False

    def _close_now(self) -> None:
        self._close_without_asking = True
        try:
            super().reject()
        finally:
            self._close_without_asking = False

    def ask_before_quit(self, then: Callable[[], None]) -> bool:
        """Before the app quits: ask Save / Discard / Cancel if the form holds unsaved text.

        Returns False when there is nothing to ask (quit at once). Otherwise the question
        is shown (non-modal) and True returned: ``then`` is called after Discard, or after
        Save once it saved; after Cancel nothing happens and the text stays.
        """
        if not self.isVisible() or not self.has_unsaved_changes():
            return False
        self.raise_()
        self.activateWindow()
        self._ask_save_discard_cancel(then)
        return True

    def _ask_save_discard_cancel(self, then: Callable[[], None] | None = None) -> None:
        """Ask what to do with the unsaved form; closes on Save (if it saved) or Discard,
        then calls ``then``."""
        if self._unsaved_box is not None and shiboken6.isValid(self._unsaved_box):
            self._unsaved_box.raise_()
            if then is not None:
                self._unsaved_then = then
            return
        self._unsaved_then = then
        buttons = QMessageBox.StandardButton
        box = QMessageBox(self)
        box.setObjectName("unsavedChangesBox")
        box.setIcon(QMessageBox.Icon.Question)
        box.setWindowTitle("Unsaved connection")
        name = " ".join(self.name_field.text().split())
        if self._current_id is not None:
            box.setText(f"Save your changes to “{self.form_title.text()}”?")
        else:
            box.setText(f"Save the new connection “{name}”?" if name else
                        "Save the new connection?")
        box.setInformativeText("If you close without saving, what you typed is lost.")
        box.setStandardButtons(buttons.Save | buttons.Discard | buttons.Cancel)
        box.setDefaultButton(buttons.Save)
        box.setEscapeButton(buttons.Cancel)

        def on_finished(_result: int) -> None:
            clicked = box.clickedButton()
            choice = box.standardButton(clicked) if clicked is not None else buttons.Cancel
            self._unsaved_box = None
            then, self._unsaved_then = self._unsaved_then, None
            box.deleteLater()
            if choice == buttons.Save:
                if not self.save():  # the problem is shown beside its field
                    return
                self._close_now()
            elif choice == buttons.Discard:
                # Back to what is saved: a typed token must not linger in a hidden dialog.
                current = self.profiles.get(self._current_id) if self._current_id else None
                self._load_form(current)
                self._close_now()
            else:
                return
            if then is not None:
                then()

        box.finished.connect(on_finished)
        self._unsaved_box = box
        box.open()

    # -- slots ----------------------------------------------------------------------------

    @Slot(QListWidgetItem, QListWidgetItem)
    def _on_connection_list_current_changed(
        self, current: QListWidgetItem | None, _previous: QListWidgetItem | None
    ) -> None:
        if current is None:
            return
        self._load_form(self.profiles.get(current.data(ID_ROLE)))

    @Slot(QListWidgetItem)
    def _on_connection_list_double_clicked(self, item: QListWidgetItem) -> None:
        self._on_connect_button_clicked()

    @Slot()
    def _on_add_button_clicked(self) -> None:
        self._start_new()
        self.name_field.setFocus(Qt.FocusReason.OtherFocusReason)

    @Slot()
    def _on_remove_button_clicked(self) -> None:
        if self._current_id is None:
            self._select(None)  # abandon the new connection being entered
            return
        profile = self.profiles.get(self._current_id)
        if profile is None:
            return
        box = QMessageBox(self)
        box.setObjectName("removeConfirmBox")
        box.setIcon(QMessageBox.Icon.Question)
        box.setWindowTitle("Remove connection")
        box.setText(f"Remove the connection “{profile.name}”?")
        where = self.tokens.backend_name
        box.setInformativeText(
            f"Its token is deleted from {where} and its offline data from this computer. "
            "This cannot be undone."
        )
        remove = box.addButton("Remove", QMessageBox.ButtonRole.DestructiveRole)
        remove.setObjectName("confirmRemoveButton")
        cancel = box.addButton(QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(cancel)
        box.setEscapeButton(cancel)
        profile_id = profile.id

        def on_finished(_result: int) -> None:
            if box.clickedButton() is remove:
                self.remove_connection(profile_id)
            self._confirm_box = None
            box.deleteLater()

        box.finished.connect(on_finished)
        self._confirm_box = box
        box.open()

    @Slot()
    def _on_save_button_clicked(self) -> None:
        self.save()

    @Slot()
    def _on_connect_button_clicked(self) -> None:
        if self._is_dirty() and not self.save():
            return
        profile_id = self._current_id
        if profile_id is None:
            return
        if self.tokens.get(profile_id) is None:
            self._show_field_error(
                self.token_error, self.token_field, "Paste the connection's API token."
            )
            return
        self.sig_activate.emit(profile_id)
        self.accept()

    @asyncSlot()  # type: ignore[untyped-decorator]  # qasync ships no type hints
    async def _on_test_button_clicked(self) -> None:
        await self.test_connection()

    @Slot(str)
    def _on_name_field_text_edited(self, text: str) -> None:
        self._validate()

    @Slot()
    def _on_name_field_editing_finished(self) -> None:
        self._name_touched = True
        self._validate()

    @Slot(str)
    def _on_base_url_field_text_edited(self, text: str) -> None:
        # A different server: an earlier test result no longer applies.
        self._cancel_test()
        if self.last_test_result is not None or self.test_result.text():
            self.test_result.clear()
            self.last_test_result = None
        self._validate()

    @Slot()
    def _on_base_url_field_editing_finished(self) -> None:
        self._url_touched = True
        self._validate()

    @Slot(str)
    def _on_token_field_text_edited(self, text: str) -> None:
        self._validate()

    @Slot(bool)
    def _on_show_token_button_toggled(self, shown: bool) -> None:
        self.token_field.setEchoMode(
            QLineEdit.EchoMode.Normal if shown else QLineEdit.EchoMode.Password
        )
        self.show_token_button.setText("Hide" if shown else "Show")
        self.show_token_button.setAccessibleName("Hide token" if shown else "Show token")

