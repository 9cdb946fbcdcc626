"""Pieces both report dialogs use: the error dialog and the crash dialog.

A "Copied" button, a heading font, a width in characters, the environment lines support
needs in every report, and UTC timestamps. Kept apart so that
:mod:`~makini_desktop.ui.error_dialog` and :mod:`~makini_desktop.ui.crash_dialog` share
them without importing each other.
"""

from __future__ import annotations

import platform
from datetime import UTC, datetime

from PySide6.QtCore import QTimer, Slot
from PySide6.QtWidgets import QLabel, QPushButton, QWidget

from makini_desktop import __version__

__all__ = [
    "COPIED_FEEDBACK_MS",
    "CopyButton",
    "bigger_bold",
    "environment_lines",
    "iso_utc",
    "text_width",
    "utc_now",
]

COPIED_FEEDBACK_MS = 1500


def utc_now() -> datetime:
    """Now, in UTC (reports give times in UTC: support compares them with server logs)."""
    return datetime.now(UTC)


def iso_utc(moment: datetime) -> str:
    """E.g. ``2026-03-14T12:00:00Z``."""
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def environment_lines() -> list[str]:
    """App version and OS, as support needs them in every report."""
    from PySide6 import __version__ as pyside_version

    return [
        f"App version: makini-desktop {__version__}",
        f"OS: {platform.platform()}",
        f"Python: {platform.python_version()}, PySide6 {pyside_version}",
    ]


def bigger_bold(label: QLabel, factor: float = 1.15) -> None:
    """Make a heading relative to the system font, never a fixed pixel size."""
    font = label.font()
    font.setBold(True)
    if font.pointSizeF() > 0:
        font.setPointSizeF(font.pointSizeF() * factor)
    label.setFont(font)


def text_width(widget: QWidget, chars: int) -> int:
    """A width of about ``chars`` average characters in the widget's font."""
    return widget.fontMetrics().averageCharWidth() * chars


class CopyButton(QPushButton):
    """A push button that says "Copied" for a moment after it copied something."""

    def __init__(self, text: str, parent: QWidget | None = None) -> None:
        super().__init__(text, parent)
        self._text = text
        self._restore = QTimer(self)
        self._restore.setSingleShot(True)
        self._restore.setInterval(COPIED_FEEDBACK_MS)
        self._restore.timeout.connect(self._on_restore_timeout)

    def show_copied(self) -> None:
        self.setText("Copied")
        self._restore.start()

    @Slot()
    def _on_restore_timeout(self) -> None:
        self.setText(self._text)

