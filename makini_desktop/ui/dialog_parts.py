"""Pieces both report dialogs use: the error dialog and the crash dialog.

A "Copied" button, a heading font, a width in characters, the environment lines support
needs in every report, and UTC timestamps. Kept apart so that
:mod:`~makini_desktop.ui.error_dialog` and :mod:`~makini_desktop.ui.crash_dialog` share
them without importing each other.
"""

from __future__ import annotations

import platform
from datetime import UTC, datetime

from PySide6.QtCore import Qt, QTimer, Slot
from PySide6.QtGui import QColor, QPalette, QResizeEvent
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QStyle,
    QVBoxLayout,
    QWidget,
)

from makini_desktop import __version__

__all__ = [
    "COPIED_FEEDBACK_MS",
    "CopyButton",
    "WrappingLabel",
    "bigger_bold",
    "environment_lines",
    "error_color",
    "heading_row",
    "iso_utc",
    "message_icon",
    "paint_error_labels",
    "plain_label",
    "text_width",
    "utc_now",
]

COPIED_FEEDBACK_MS = 1500


def plain_label(text: str) -> str:
    """A menu or button text as words: its mnemonic ``&`` gone (``&&`` is one ``&``), and
    the ``…`` that says it asks for more (an accessible name, a list of shortcuts)."""
    return text.replace("&&", "\0").replace("&", "").replace("\0", "&").rstrip("…")


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


def error_color(palette: QPalette) -> QColor:
    """A red that is readable on the current (light or dark) window background."""
    dark = palette.color(QPalette.ColorRole.Window).lightness() < 128
    return QColor("#ff8a80") if dark else QColor("#b3261e")


def paint_error_labels(widget: QWidget) -> None:
    """Colour every label of ``widget`` marked with the ``errorLabel`` property in
    :func:`error_color` (call again when the palette changes)."""
    red = error_color(widget.palette())
    for label in widget.findChildren(QLabel):
        if label.property("errorLabel"):
            palette = label.palette()
            palette.setColor(QPalette.ColorRole.WindowText, red)
            label.setPalette(palette)


def message_icon(parent: QWidget, pixmap: QStyle.StandardPixmap, accessible: str) -> QLabel:
    """The icon a message box shows (warning, critical), at the style's message-box size."""
    icon = QLabel(parent)
    style = parent.style()
    size = style.pixelMetric(QStyle.PixelMetric.PM_MessageBoxIconSize)
    icon.setPixmap(style.standardIcon(pixmap).pixmap(size))
    icon.setAccessibleName(accessible)
    return icon


def heading_row(icon: QLabel, *labels: QWidget, spacing: int = 0) -> QHBoxLayout:
    """A dialog's head: the icon at the top left, the labels stacked beside it."""
    column = QVBoxLayout()
    for label in labels:
        column.addWidget(label)
    row = QHBoxLayout()
    row.addWidget(icon, 0, Qt.AlignmentFlag.AlignTop)
    if spacing:
        row.addSpacing(spacing)
    row.addLayout(column, 1)
    return row


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



class WrappingLabel(QLabel):
    """A word-wrapped label that always gets the height its text needs at its width.

    A wrapped label in a form inside a top-level dialog is otherwise given the height of
    one line at its size-hint width: when the dialog is laid out again (Details opened) its
    second line ends up under the next row. Each time the label is given a width, its
    minimum height becomes the height for that width, so the layout keeps room for it.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWordWrap(True)
        # Room kept for more lines than shown must not push the text below its row's label.
        self.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        policy = QSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Minimum)
        policy.setHeightForWidth(True)
        self.setSizePolicy(policy)

    def setText(self, text: str) -> None:
        super().setText(text)
        self._keep_height(self.width())

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._keep_height(event.size().width())

    def _keep_height(self, width: int) -> None:
        needed = self.heightForWidth(width) if width > 0 else -1
        if needed > 0 and needed != self.minimumHeight():
            self.setMinimumHeight(needed)
