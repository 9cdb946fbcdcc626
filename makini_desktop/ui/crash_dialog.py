"""The crash dialog: unexpected exceptions (bugs) shown in ONE dialog, so the app keeps running.

:class:`CrashDialog` and :func:`install_excepthook` catch exceptions nobody handled
(``sys.excepthook``, worker threads, asyncio tasks) and show them with a copyable,
secret-free traceback (every report goes through :func:`makini_desktop.redact.scrub`).
API errors a person can act on are :mod:`~makini_desktop.ui.error_dialog`'s.

The dialog is not modal and never ``exec()``-ed: a dialog that blocks inside a coroutine
would stall the qasync loop.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import threading
import traceback
from collections.abc import Callable
from types import TracebackType
from typing import Any

import shiboken6
from PySide6.QtCore import QObject, Qt, Signal, Slot
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QDialog,
    QLabel,
    QPushButton,
    QStyle,
    QVBoxLayout,
    QWidget,
)

from makini_desktop.redact import scrub
from makini_desktop.ui.dialog_parts import (
    CopyButton,
    bigger_bold,
    environment_lines,
    heading_row,
    iso_utc,
    message_icon,
    text_width,
    utc_now,
)

__all__ = [
    "MAX_CRASHES",
    "CrashDialog",
    "CrashHandler",
    "ExcInfo",
    "format_crash",
    "install_excepthook",
    "make_asyncio_exception_handler",
]

log = logging.getLogger(__name__)

# Crash reports kept in the crash dialog; older ones are still in the log file.
MAX_CRASHES = 20


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
    head = f"Time (UTC): {iso_utc(utc_now())}"
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
        # Imported when a dialog is first built, not with the excepthook at every start: a
        # Qt class's first use creates its Python type and enums.
        from PySide6.QtGui import QFontDatabase
        from PySide6.QtWidgets import QDialogButtonBox, QPlainTextEdit

        self.setWindowTitle("Unexpected error — makini-desktop")
        self.setAccessibleName("Unexpected error")
        self.setSizeGripEnabled(True)

        icon = message_icon(self, QStyle.StandardPixmap.SP_MessageBoxCritical, "Error")

        self.summary_label = QLabel("Something went wrong inside makini-desktop.", self)
        self.summary_label.setObjectName("crashSummary")
        self.summary_label.setWordWrap(True)
        bigger_bold(self.summary_label)
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

        top = heading_row(icon, self.summary_label, self.explain_label, self.count_label)

        self.traceback_text = QPlainTextEdit(self)
        self.traceback_text.setObjectName("crashTraceback")
        self.traceback_text.setAccessibleName("Technical details")
        self.traceback_text.setReadOnly(True)
        self.traceback_text.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.traceback_text.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.traceback_text.setMinimumHeight(self.fontMetrics().lineSpacing() * 12)

        buttons = QDialogButtonBox(self)
        self.copy_button = CopyButton("Copy details", self)
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
        self.resize(text_width(self, 100), self.fontMetrics().lineSpacing() * 26)

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
        return scrub("\n".join(environment_lines()) + rule + rule.join(self.reports))

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
