"""The connection manager's warning that tokens cannot be kept across restarts.

Shown only when there is no usable system keychain: tokens then live in memory for this
session and are asked again next time.
"""

from __future__ import annotations

import sys

from PySide6.QtCore import Qt
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QStyle, QWidget

from makini_desktop.store.secrets import SESSION_ONLY_NAME, TokenStore

__all__ = ["NO_KEYCHAIN_TEXT", "KeyringBanner"]

NO_KEYCHAIN_TEXT = (
    "No system keychain was found: the token will be kept for this session only "
    "and asked again next time."
) + (
    " To keep tokens, install and unlock a keychain such as GNOME Keyring or KWallet."
    if sys.platform.startswith("linux") else ""
)


class KeyringBanner(QFrame):
    """A warning strip: tokens are kept for this session only, and why.

    Args:
        parent: the connection manager.

    Attributes:
        label: the warning's text.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("keyringBanner")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setAutoFillBackground(True)
        icon = QLabel(self)
        size = self.style().pixelMetric(QStyle.PixelMetric.PM_SmallIconSize)
        icon.setPixmap(
            self.style().standardIcon(QStyle.StandardPixmap.SP_MessageBoxWarning).pixmap(size)
        )
        self.label = QLabel(self)
        self.label.setObjectName("keyringBannerText")
        self.label.setWordWrap(True)
        self.label.setAccessibleName("Token storage warning")
        layout = QHBoxLayout(self)
        layout.addWidget(icon, 0, Qt.AlignmentFlag.AlignTop)
        layout.addWidget(self.label, 1)

    def follow(self, tokens: TokenStore) -> None:
        """Hide while tokens persist; otherwise say why they do not."""
        if tokens.persistent:
            self.hide()
            return
        if tokens.backend_name == SESSION_ONLY_NAME or not tokens.last_problem:
            text = NO_KEYCHAIN_TEXT
        else:
            text = tokens.last_problem
        self.label.setText(text)
        self.show()

    def apply_colors(self, base: QPalette) -> None:
        """Tooltip colours of the dialog's palette (light and dark mode both read well)."""
        palette = self.palette()
        palette.setColor(QPalette.ColorRole.Window, base.color(QPalette.ColorRole.ToolTipBase))
        palette.setColor(
            QPalette.ColorRole.WindowText, base.color(QPalette.ColorRole.ToolTipText)
        )
        self.setPalette(palette)
