"""Message strips across the top of the window: the offline banner and the cache notice.

:class:`Banner` is the strip itself (colours mixed from the palette, so it reads in light
and dark mode). :class:`OfflineBanner` is the window's one offline banner: it words why the
data shown is not live (offline, working offline, a refused token, a failed connect) and
offers Try now / Work online / Retry, or Reconnect….
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QSize, Qt
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import (
    QApplication,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QStyle,
    QWidget,
)

from makini_desktop.sync.connectivity import Reach
from makini_desktop.ui.controllers import Workspace, at_time, held_text, offline_text

__all__ = ["Banner", "OfflineBanner"]


class Banner(QFrame):
    """A message strip across the top of the window, in the manner of KMessageWidget.

    Its colours are mixed from the palette (window colour, text colour, and a tint per
    kind), so it reads well in light and dark mode and follows a theme change live.

    Args:
        name: the object name.
        accessible: the accessible name.
        kind: ``warning`` or ``information``.
        parent: the Qt parent.
    """

    TINTS = {"warning": QColor(0xF6, 0x74, 0x00), "information": QColor(0x3D, 0xAE, 0xE9)}

    def __init__(self, name: str, accessible: str, kind: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName(name)
        self.setAccessibleName(accessible)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self._kind = kind
        self.icon = QLabel(self)
        self.icon.setObjectName(f"{name}Icon")
        self.icon.setAccessibleName(f"{accessible} icon")
        self.label = QLabel(self)
        self.label.setObjectName(f"{name}Text")
        self.label.setAccessibleName(f"{accessible} text")
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.label.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self._layout = QHBoxLayout(self)
        fm = self.fontMetrics()
        self._layout.setContentsMargins(fm.averageCharWidth() * 2, fm.height() // 3,
                                        fm.averageCharWidth(), fm.height() // 3)
        self._layout.setSpacing(fm.averageCharWidth() * 2)
        self._layout.addWidget(self.icon)
        self._layout.addWidget(self.label, 1)
        self.hide()
        self._restyle()

    def add_button(self, text: str, name: str, accessible: str) -> QPushButton:
        """A button at the banner's right end."""
        button = QPushButton(text, self)
        button.setObjectName(name)
        button.setAccessibleName(accessible)
        self._layout.addWidget(button)
        return button

    def set_kind(self, kind: str) -> None:
        if kind != self._kind:
            self._kind = kind
            self._restyle()

    @property
    def kind(self) -> str:
        return self._kind

    def show_message(self, text: str, tooltip: str = "") -> None:
        self.label.setText(text)
        self.setToolTip(tooltip)
        self.setAccessibleDescription(text)
        self.show()

    def style_sheet(self) -> str:
        """The banner's colours, mixed from the application's current palette."""
        # The application palette, not the banner's own: a style sheet changes the latter.
        palette = QApplication.palette()
        window = palette.color(QPalette.ColorRole.Window)
        tint = self.TINTS.get(self._kind, self.TINTS["information"])
        background = _mix(window, tint, 0.2)
        text = palette.color(QPalette.ColorRole.WindowText)
        return (
            f"QFrame#{self.objectName()} {{ background-color: {background.name()};"
            f" border: 1px solid {tint.name()}; border-radius: 4px; }}"
            f" QLabel#{self.label.objectName()} {{ color: {text.name()}; }}"
        )

    def _restyle(self) -> None:
        sheet = self.style_sheet()
        if sheet != self.styleSheet():  # setting it again would re-polish for nothing
            self.setStyleSheet(sheet)
        pixmap = (QStyle.StandardPixmap.SP_MessageBoxWarning if self._kind == "warning"
                  else QStyle.StandardPixmap.SP_MessageBoxInformation)
        side = self.style().pixelMetric(QStyle.PixelMetric.PM_SmallIconSize, None, self)
        self.icon.setPixmap(self.style().standardIcon(pixmap, None, self).pixmap(
            QSize(side, side), self.devicePixelRatioF()))

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() in (QEvent.Type.PaletteChange, QEvent.Type.ApplicationPaletteChange):
            self._restyle()  # light and dark mode switched while the app runs


def _mix(base: QColor, tint: QColor, share: float) -> QColor:
    """``base`` with ``share`` of ``tint`` blended in (an opaque colour)."""
    return QColor(
        round(base.red() + (tint.red() - base.red()) * share),
        round(base.green() + (tint.green() - base.green()) * share),
        round(base.blue() + (tint.blue() - base.blue()) * share),
    )


class OfflineBanner(Banner):
    """The window's one offline banner: never a dialog per tab.

    Args:
        parent: the Qt parent.

    Attributes:
        try_now_button: Try now / Work online / Retry, as the state calls for.
        reconnect_button: Reconnect… (shown when a token is missing or was refused).
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("offlineBanner", "Offline", "warning", parent)
        self.try_now_button = self.add_button(
            "Try now", "tryNowButton", "Try to reach the server now")
        self.try_now_button.setToolTip("Check the connection now instead of waiting")
        self.reconnect_button = self.add_button(
            "Reconnect…", "reconnectButton", "Enter a token for this connection")
        self.reconnect_button.setToolTip("Enter a new token for this connection")
        self.reconnect_button.hide()

    def follow(self, ws: Workspace) -> None:
        """Show, word or hide the banner for the workspace's state (it names times, so the
        window calls this again every half minute)."""
        reach = ws.reach
        reason = ws.held_reason
        if ws.session is None or (reach is Reach.ONLINE and not reason
                                  and not ws.connect_failure):
            self.hide()
            return
        self.reconnect_button.setVisible(bool(reason))
        self.try_now_button.setVisible(not reason)
        if reason:
            # Nothing can be fetched until the user gives a token: that is the news, also
            # while working offline.
            self.set_kind("warning")
            self.show_message(held_text(reason, ws.cached_at()), ws.offline_message())
            return
        if reach is Reach.ONLINE:  # the connect failed: say what, and offer Retry
            name = ws.info.name if ws.info is not None else "the server"
            text = f"Could not connect to {name}: {ws.connect_failure}"
            if ws.connect_request_id:
                text += f" (request ID {ws.connect_request_id})"
            self.set_kind("warning")
            self.try_now_button.setText("Retry")
            self.try_now_button.setAccessibleName("Try to connect again")
            self.try_now_button.setToolTip("Connect again and refresh every tab")
            self.try_now_button.setEnabled(not ws.busy)
            self.show_message(text, "The cached rows stay shown; nothing was changed.")
            return
        cached_at = ws.cached_at()
        text = offline_text(reach, cached_at)
        err = (ws.session.connectivity.last_error
               if ws.session is not None and cached_at is None and reach is Reach.OFFLINE
               else None)
        if err is not None and err.message:  # nothing to show: why not is the news
            text += f". {err.message.rstrip('.')}"
        if reach is Reach.WORK_OFFLINE:
            self.set_kind("information")
            self.try_now_button.setText("Work online")
            self.try_now_button.setAccessibleName("Turn Work offline off")
            self.try_now_button.setToolTip("Turn “Work offline” off and refresh every tab")
            self.try_now_button.setEnabled(True)
        else:
            self.set_kind("warning")
            if ws.probing:
                text += " — trying to connect…"
            elif ws.probe_failed_at is not None:
                text += f" — still unreachable {at_time(ws.probe_failed_at)}"
            self.try_now_button.setText("Try now")
            self.try_now_button.setAccessibleName("Try to reach the server now")
            self.try_now_button.setToolTip(
                "Check the connection now; the app also retries by itself")
            self.try_now_button.setEnabled(not ws.probing)
        self.show_message(text, ws.offline_tooltip())
