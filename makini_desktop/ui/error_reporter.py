"""The one way the rest of the UI shows an API error: :class:`ErrorReporter`.

Apart from :mod:`~makini_desktop.ui.error_dialog` (which still names it) so that the window
can have its reporter without building the dialog's widget classes before its first paint:
the dialog is imported when the first error is shown.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import shiboken6
from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QWidget

from makini_desktop.api.errors import MakiniError
from makini_desktop.redact import scrub

if TYPE_CHECKING:
    from makini_desktop.ui.error_dialog import ErrorDialog

__all__ = ["ErrorReporter"]

log = logging.getLogger("makini_desktop.ui.error_dialog")  # where its lines were logged


def _error_key(err: MakiniError, connection_name: str) -> tuple[str, int, str, str, str]:
    # The query is left out: the same failure on page 3 and on page 4 of one list is one
    # problem for the user, not two dialogs.
    path = err.path.split("?", 1)[0]
    return (connection_name, err.status, err.code, err.method.upper(), path)


class ErrorReporter(QObject):
    """Shows API errors in :class:`ErrorDialog` windows, one at a time per connection.

    The same error again is counted on the open dialog; another error of the same
    connection replaces the open dialog's content, so no stale error is ever left under
    a newer one.

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
        # Per connection name: the open dialog and the key of the error it shows.
        self._dialogs: dict[str, ErrorDialog] = {}
        self._shown: dict[str, tuple[str, int, str, str, str]] = {}

    def report(
        self, err: MakiniError, *, connection_name: str, base_url: str
    ) -> ErrorDialog | None:
        """Show an error in its connection's dialog: counted when it is the error already
        shown, replacing it otherwise, in a new dialog when none is open.

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
        dialog = self._dialogs.get(connection_name)
        if dialog is not None and shiboken6.isValid(dialog) and dialog.isVisible():
            if self._shown.get(connection_name) == key:
                dialog.add_occurrence(err)
            else:
                dialog.replace_error(err, base_url=base_url)
            self._shown[connection_name] = key
            # Already open, maybe behind the main window: bring it forward. A new dialog
            # is shown on top anyway.
            dialog.raise_()
            dialog.activateWindow()
        else:
            from makini_desktop.ui.error_dialog import ErrorDialog

            dialog = ErrorDialog(
                err, connection_name=connection_name, base_url=base_url, parent=self._parent()
            )
            self._dialogs[connection_name] = dialog
            self._shown[connection_name] = key
            dialog.finished.connect(
                lambda _result, k=connection_name, d=dialog: self._forget(k, d)
            )
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
        for name, dialog in list(self._dialogs.items()):
            if connection_name is None or name == connection_name:
                if shiboken6.isValid(dialog):
                    dialog.reject()
                self._dialogs.pop(name, None)
                self._shown.pop(name, None)

    def _parent(self) -> QWidget | None:
        if self._window is not None and shiboken6.isValid(self._window):
            return self._window
        return None

    def _forget(self, connection_name: str, dialog: ErrorDialog) -> None:
        if self._dialogs.get(connection_name) is dialog:
            del self._dialogs[connection_name]
            self._shown.pop(connection_name, None)
        if shiboken6.isValid(dialog):
            dialog.deleteLater()
