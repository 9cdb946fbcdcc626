"""The connection manager's list of saved connections: each drawn as its name over a
dimmer line (host, "active")."""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import urlsplit

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRect, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QListWidget,
    QListWidgetItem,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QWidget,
)

from makini_desktop.store.profiles import ConnectionProfile

__all__ = [
    "DETAIL_ROLE",
    "ID_ROLE",
    "NAME_ROLE",
    "ConnectionDelegate",
    "ConnectionList",
    "connection_item",
    "host_of",
]

ID_ROLE = Qt.ItemDataRole.UserRole
NAME_ROLE = Qt.ItemDataRole.UserRole + 1
DETAIL_ROLE = Qt.ItemDataRole.UserRole + 2


def host_of(base_url: str) -> str:
    """The host (and port) of a base URL, as the list's second line shows it."""
    return urlsplit(base_url).netloc or base_url


def connection_item(profile: ConnectionProfile, *, active: bool) -> QListWidgetItem:
    """One saved connection's list item (the active one in bold)."""
    host = host_of(profile.base_url)
    second = f"{host} · active" if active else host
    item = QListWidgetItem(f"{profile.name}\n{second}")
    item.setData(ID_ROLE, profile.id)
    item.setData(NAME_ROLE, profile.name)
    item.setData(DETAIL_ROLE, second)
    item.setToolTip(profile.base_url)
    if active:
        font = item.font()
        font.setBold(True)
        item.setFont(font)
    return item


class ConnectionDelegate(QStyledItemDelegate):
    """Draws a connection as its name over a dimmer second line (host, "active").

    The item's display text stays "name\\nhost" for screen readers and tests; only the
    painting differs, so the two lines read as one entry instead of four equal lines.
    """

    def _metrics(self, option: QStyleOptionViewItem) -> tuple[int, int]:
        line = option.fontMetrics.lineSpacing()
        return line, max(2, line // 3)

    def sizeHint(
        self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> QSize:
        size = super().sizeHint(option, index)
        line, pad = self._metrics(option)
        return QSize(size.width(), line * 2 + pad * 2)

    def paint(
        self,
        painter: QPainter,
        option: QStyleOptionViewItem,
        index: QModelIndex | QPersistentModelIndex,
    ) -> None:
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        opt.text = ""
        widget = opt.widget
        style = widget.style() if widget is not None else QApplication.style()
        style.drawControl(QStyle.ControlElement.CE_ItemViewItem, opt, painter, widget)

        line, pad = self._metrics(option)
        margin = style.pixelMetric(QStyle.PixelMetric.PM_FocusFrameHMargin, opt, widget) + 2
        rect = option.rect.adjusted(margin * 2, pad, -margin * 2, -pad)
        selected = bool(opt.state & QStyle.StateFlag.State_Selected)
        group = (
            QPalette.ColorGroup.Active
            if opt.state & QStyle.StateFlag.State_Active
            else QPalette.ColorGroup.Inactive
        )
        main_color = opt.palette.color(
            group,
            QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text,
        )
        dim_color = QColor(main_color)
        if not selected:
            dim_color = opt.palette.color(group, QPalette.ColorRole.PlaceholderText)

        name = str(index.data(NAME_ROLE) or "")
        detail = str(index.data(DETAIL_ROLE) or "")
        painter.save()
        painter.setFont(opt.font)  # bold for the active connection (the item's FontRole)
        painter.setPen(main_color)
        top = QRect(rect.left(), rect.top(), rect.width(), line)
        elide = Qt.TextElideMode.ElideRight
        painter.drawText(
            top, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
            opt.fontMetrics.elidedText(name, elide, rect.width()),
        )
        detail_font = QApplication.font(widget) if widget is not None else QApplication.font()
        painter.setFont(detail_font)
        painter.setPen(dim_color)
        bottom = QRect(rect.left(), rect.top() + line, rect.width(), line)
        painter.drawText(
            bottom, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
            painter.fontMetrics().elidedText(detail, elide, rect.width()),
        )
        painter.restore()


class ConnectionList(QListWidget):
    """The saved connections, one item each (its data under :data:`ID_ROLE` is the id).

    Args:
        parent: the connection manager.
        min_chars: the narrowest the list gets, in average characters.
    """

    def __init__(self, parent: QWidget | None = None, *, min_chars: int = 26) -> None:
        super().__init__(parent)
        self.setObjectName("connectionList")
        self.setAccessibleName("Saved connections")
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setUniformItemSizes(False)
        self.setWordWrap(False)
        self.setMinimumWidth(self.fontMetrics().averageCharWidth() * min_chars)
        self.setItemDelegate(ConnectionDelegate(self))

    def reload(self, profiles: Sequence[ConnectionProfile], active_id: str | None) -> None:
        """List the profiles (no signal is emitted); the active one is in bold."""
        self.blockSignals(True)
        try:
            self.clear()
            for profile in profiles:
                self.addItem(connection_item(profile, active=profile.id == active_id))
        finally:
            self.blockSignals(False)

    def item_for(self, profile_id: str | None) -> QListWidgetItem | None:
        """The item of a profile id, or None."""
        for row in range(self.count()):
            item = self.item(row)
            if item.data(ID_ROLE) == profile_id:
                return item
        return None
