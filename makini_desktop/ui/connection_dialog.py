"""The connection manager: add, edit, test, remove and pick Makini connections.

Profiles (name, base URL) are saved through :class:`~makini_desktop.store.profiles.ProfileStore`;
tokens only through :class:`~makini_desktop.store.secrets.TokenStore` (the OS keyring, or
memory for this session when there is no keyring). The token field is never filled with a
stored token: it shows where the token is kept, and a token typed there replaces it.

The dialog is non-modal-friendly: open it with :meth:`ConnectionDialog.open_on` (or
``open()``/``show()``), never ``exec()`` it inside a coroutine. "Test connection" runs on the
qasync loop and is cancelled when the dialog closes or another connection is selected.

The dialog is the manager around two rooms: the list of saved connections
(:mod:`~makini_desktop.ui.connection_list`) and the form with its inline validation and
"Test connection" (:mod:`~makini_desktop.ui.connection_form`). What the test's answer says
is :mod:`makini_desktop.sync.connection_status`'s (Qt-free; re-exported here).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import shiboken6
from PySide6.QtCore import QEvent, Qt, Signal, Slot
from PySide6.QtGui import QCloseEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QListWidgetItem,
    QMessageBox,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from makini_desktop.api.urls import InsecureUrlError, InvalidBaseUrl
from makini_desktop.redact import register_secret, unregister_secret
from makini_desktop.store import cache as cache_store
from makini_desktop.store.outbox import unsent_in_connection
from makini_desktop.store.profiles import ConnectionProfile, ProfileError, ProfileStore
from makini_desktop.store.secrets import TokenStore
from makini_desktop.sync.connection_status import describe_error, describe_status, provider_name
from makini_desktop.sync.outbox_link import remove_warning
from makini_desktop.ui.connection_form import ConnectionForm, Tester
from makini_desktop.ui.connection_list import ID_ROLE, ConnectionList
from makini_desktop.ui.dialog_parts import paint_error_labels
from makini_desktop.ui.keyring_banner import NO_KEYCHAIN_TEXT, KeyringBanner

__all__ = [
    "NO_KEYCHAIN_TEXT",
    "ConnectionDialog",
    "describe_error",
    "describe_status",
    "provider_name",
]

log = logging.getLogger(__name__)


class ConnectionDialog(QDialog):
    """The connection manager.

    Args:
        profiles: the saved connection profiles.
        tokens: where tokens are kept.
        parent: the main window.

    Signals:
        sig_activate(str): the user chose "Connect" on this profile id (already saved).
        sig_profiles_changed(): a profile was added, changed or removed.
        sig_saved(str, bool): the user saved this profile id; True when it has a token.
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
    sig_saved = Signal(str, bool)
    sig_removing = Signal(str)

    def __init__(
        self, profiles: ProfileStore, tokens: TokenStore, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.profiles = profiles
        self.tokens = tokens
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
        self.banner = KeyringBanner(self)

        # Left: the saved connections.
        self.connection_list = ConnectionList(self, min_chars=26)
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
        form = self.form = ConnectionForm(self.profiles, self.tokens, self)
        form.sig_validated.connect(self._on_form_sig_validated)
        self.form_title = form.form_title
        self.name_field = form.name_field
        self.base_url_field = form.base_url_field
        self.token_field = form.token_field
        self.token_error = form.token_error

        splitter = QSplitter(Qt.Orientation.Horizontal, self)
        splitter.setObjectName("connectionSplitter")
        splitter.setChildrenCollapsible(False)
        splitter.addWidget(left)
        splitter.addWidget(form)
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
            self.base_url_field, self.token_field, form.show_token_button, form.test_button,
            self.save_button, self.connect_button, self.close_button,
        ]
        for first, second in zip(order, order[1:], strict=False):
            self.setTabOrder(first, second)

        self.resize(char * 112, fm.lineSpacing() * 28)
        self._apply_colors()

    def _apply_colors(self) -> None:
        """Colours derived from the current palette, so light and dark mode both read well."""
        paint_error_labels(self)
        self.banner.apply_colors(self.palette())

    # -- list -----------------------------------------------------------------------------

    def _reload_list(self) -> None:
        """Fill the list from the store, keeping the current selection if it still exists."""
        self.connection_list.reload(self.profiles.list(), self.profiles.active_id)

    def _select(self, profile_id: str | None) -> None:
        """Show a profile in the form; with no such profile, the first one or a new one."""
        item = self.connection_list.item_for(profile_id)
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
        return self.form.current_id

    def _load_form(self, profile: ConnectionProfile | None) -> None:
        self.form.load(profile)
        self.status_label.clear()

    @property
    def tester(self) -> Tester:
        return self.form.tester

    @tester.setter
    def tester(self, tester: Tester) -> None:
        self.form.tester = tester

    @property
    def last_test_result(self) -> Any:
        return self.form.last_test_result

    def has_unsaved_changes(self) -> bool:
        """True if the form holds typed text that is not saved (a new or edited connection)."""
        return self.form.has_unsaved_changes()

    def _update_banner(self) -> None:
        self.banner.follow(self.tokens)

    # -- actions --------------------------------------------------------------------------

    def save(self) -> bool:
        """Save the form: the profile to the store, a typed token to the token store.

        Returns:
            True if saved; False if a field has a problem (now shown beside it).
        """
        if not self.form.validate(show_all=True):
            self.form.focus_first_problem()
            return False
        name = self.name_field.text()
        url = self.base_url_field.text()
        token = self.form.typed_token()
        try:
            if self.current_profile_id is None:
                profile = self.profiles.add(name, url)
            else:
                existing = self.profiles.get(self.current_profile_id)
                if existing is None:
                    raise ProfileError("This connection no longer exists.")
                existing.name = name
                existing.base_url = url
                profile = self.profiles.update(existing)
        except (InsecureUrlError, InvalidBaseUrl) as exc:
            self.form.show_field_error(self.form.base_url_error, self.base_url_field, str(exc))
            return False
        except ProfileError as exc:
            if exc.field == "name":
                self.form.show_field_error(self.form.name_error, self.name_field, exc.message)
            else:
                self.status_label.setText(exc.message)
            return False
        if token:
            register_secret(token)
            self.tokens.set(profile.id, token)
        where = self.form.token_location()
        self._update_banner()
        self._reload_list()
        self._select(profile.id)
        self.status_label.setText(
            f"Saved “{profile.name}”." + (f" Token {where}." if token else "")
        )
        self.sig_profiles_changed.emit()
        self.sig_saved.emit(profile.id, self.tokens.get(profile.id) is not None)
        return True

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
        self.sig_saved.emit(profile.id, self.tokens.get(profile.id) is not None)
        return True

    async def test_connection(self) -> Any:
        """Test the form's URL and token (typed, else stored) and show the answer inline.

        Returns:
            The ``IntegrationStatus``, the ``MakiniError``, or None if the form is not
            testable or the test was cancelled.
        """
        return await self.form.test_connection()

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
            self.form.update_token_hint(reconnect=self.current_profile_id is not None)
            self.token_field.setFocus(Qt.FocusReason.OtherFocusReason)
        elif self.current_profile_id is None:
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
        self.form.cancel_test()
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
        if self.current_profile_id is not None:
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
                shown = self.current_profile_id
                current = self.profiles.get(shown) if shown else None
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
        if self.current_profile_id is None:
            self._select(None)  # abandon the new connection being entered
            return
        profile = self.profiles.get(self.current_profile_id)
        if profile is None:
            return
        box = QMessageBox(self)
        box.setObjectName("removeConfirmBox")
        box.setIcon(QMessageBox.Icon.Question)
        box.setWindowTitle("Remove connection")
        box.setText(f"Remove the connection “{profile.name}”?")
        where = self.tokens.backend_name
        info = (f"Its token is deleted from {where} and its offline data from this computer. "
                "This cannot be undone.")
        unsent = remove_warning(unsent_in_connection(profile.id), profile.name)
        if unsent:
            # Changes the user made and the server never got: said first, with a warning.
            box.setIcon(QMessageBox.Icon.Warning)
            info = f"{unsent}\n\n{info}"
        box.setInformativeText(info)
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
        if self.form.is_dirty() and not self.save():
            return
        profile_id = self.current_profile_id
        if profile_id is None:
            return
        if self.tokens.get(profile_id) is None:
            self.form.show_field_error(
                self.token_error, self.token_field, "Paste the connection's API token."
            )
            return
        self.sig_activate.emit(profile_id)
        self.accept()

    @Slot(bool, bool)
    def _on_form_sig_validated(self, can_save: bool, can_connect: bool) -> None:
        self.save_button.setEnabled(can_save)
        self.connect_button.setEnabled(can_connect)
        self.remove_button.setEnabled(self.current_profile_id is not None)
