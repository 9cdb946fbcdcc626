"""The window's glue to the connection manager and the reconnect flow.

:class:`ConnectionGlue` opens the connection manager (one, non-modal), reacts to what it
says (a connection activated, renamed, saved or about to be removed), and answers the error
dialog's and the banner's Reconnect… (the manager on the token field, or, for a connection
that was never saved, a token prompt). It was part of ``main_window.py``; it is one flow,
and the window keeps only the calls into it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import shiboken6
from PySide6.QtCore import QObject, Qt, Slot

from makini_desktop.sync.session import ConnectionInfo

if TYPE_CHECKING:  # the window imports this module; the dialog's classes, when it opens
    from PySide6.QtWidgets import QInputDialog

    from makini_desktop.ui.main_window import MainWindow

__all__ = ["ConnectionGlue"]


class ConnectionGlue(QObject):
    """Opens the connection manager and the reconnect prompts for a window.

    Args:
        window: the main window (its profiles, workspace and ``activate_profile``).

    Attributes:
        dialog: the connection manager once opened (None before).
    """

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.dialog: Any = None
        self.unsaved: tuple[ConnectionInfo, str | None] | None = None
        """The last unsaved connection opened (the demo, a --base-url), with its token, in
        memory only: the switcher offers it again after another connection was opened."""

    def show_connections(self, profile_id: str | None = None, *, focus_token: bool = False) -> Any:
        """Open the connection manager (non-modal), optionally with the token field focused."""
        from makini_desktop.ui.connection_dialog import ConnectionDialog

        dialog = self.dialog
        if dialog is None or not shiboken6.isValid(dialog):
            window = self.window
            dialog = ConnectionDialog(window.profiles, window.tokens, window)
            dialog.sig_activate.connect(self._on_connection_dialog_sig_activate)
            dialog.sig_profiles_changed.connect(self._on_connection_dialog_sig_profiles_changed)
            dialog.sig_removing.connect(self._on_connection_dialog_sig_removing)
            dialog.sig_saved.connect(self._on_connection_dialog_sig_saved)
            self.dialog = dialog
        dialog.open_on(profile_id, focus_token=focus_token)
        return dialog

    @Slot(str)
    def reconnect(self, connection_name: str) -> None:
        """Reconnect… for a connection: the manager on its token, or a token prompt."""
        window = self.window
        info = window.workspace.info
        profile_id = info.profile_id if info is not None and info.name == connection_name else None
        if profile_id is None:
            profile = window.profiles.find_by_name(connection_name)
            profile_id = profile.id if profile is not None else None
        if profile_id is None and info is not None and info.name == connection_name:
            self.ask_new_token(info)  # an unsaved (--base-url) connection has no profile
            return
        self.show_connections(profile_id, focus_token=True)

    def ask_new_token(self, info: ConnectionInfo) -> QInputDialog:
        """Ask for a new token for an unsaved connection and reconnect with it (no profile,
        nothing saved: the token stays in memory)."""
        from PySide6.QtWidgets import QInputDialog, QLineEdit

        window = self.window
        dialog = QInputDialog(window)
        dialog.setObjectName("newTokenDialog")
        dialog.setAccessibleName("New token")
        dialog.setWindowTitle("Reconnect")
        dialog.setLabelText(
            f"The token for {info.base_url} was not accepted.\nPaste a new token:"
        )
        dialog.setTextEchoMode(QLineEdit.EchoMode.Password)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)

        def reconnect(text: str) -> None:
            token = text.strip()
            if token:
                window.open_connection(ConnectionInfo.adhoc(info.base_url, token, info.name),
                                       token)

        dialog.textValueSelected.connect(reconnect)
        dialog.open()  # never exec(): the event loop keeps running
        return dialog

    @Slot(str)
    def _on_connection_dialog_sig_activate(self, profile_id: str) -> None:
        self.window.activate_profile(profile_id)

    @Slot()
    def _on_connection_dialog_sig_profiles_changed(self) -> None:
        window = self.window
        info = window.workspace.info
        if info is not None and info.profile_id is not None:
            profile = window.profiles.get(info.profile_id)
            if profile is not None and (profile.name, profile.base_url) != (
                info.name, info.base_url
            ):
                # Renamed or moved: reconnect so the session talks to the right place.
                window.activate_profile(profile.id)
                return
        window.fill_switcher()

    @Slot(str, bool)
    def _on_connection_dialog_sig_saved(self, profile_id: str, has_token: bool) -> None:
        if self.window.workspace.info is None and has_token:
            self.window.activate_profile(profile_id)  # nothing open: the saved one is wanted

    @Slot(str)
    def _on_connection_dialog_sig_removing(self, profile_id: str) -> None:
        info = self.window.workspace.info
        if info is not None and info.profile_id == profile_id:
            # Its cache file is deleted right after this signal: close it now.
            self.window.workspace.detach()
