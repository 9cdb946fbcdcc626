"""The Outbox panel and the status bar's "3 changes waiting to be sent".

:class:`OutboxPanel` (``outboxPanel``) is a dock listing every change of the active
connection's outbox with its state (waiting, sending, failed with the reason and the request
ID, conflict), and Retry, Discard (confirmed first) and Copy details for the selected ones.
:class:`OutboxStatus` (``outboxStatus``) is the status bar's count; a click opens the panel.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, Slot
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDockWidget,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from makini_desktop.api.values import format_utc
from makini_desktop.store.outbox import KIND_CREATE, Change, ChangeState
from makini_desktop.sync import desk_texts
from makini_desktop.sync.outbox import Outbox
from makini_desktop.sync.outbox_link import waiting_text
from makini_desktop.ui.dialog_parts import plain_label

__all__ = ["OutboxModel", "OutboxPanel", "OutboxStatus", "change_details", "state_text"]

_STATE_WORDS = {
    ChangeState.WAITING: "Waiting",
    ChangeState.SENDING: "Sending…",
    ChangeState.FAILED: "Failed",
    ChangeState.CONFLICT: "Conflict",
}
_HEADERS = ("Record", "Change", "State", "Why", "Request ID", "Made at")


def state_text(change: Change) -> str:
    """The change's state in a word or two."""
    return _STATE_WORDS.get(change.state, str(change.state))


def _record(change: Change) -> str:
    if change.kind == KIND_CREATE:
        return desk_texts.record_name(change.body)
    return desk_texts.record_name(change.before or {"key": change.record_key})


def _made_at(change: Change) -> str:
    return change.occurred_at.astimezone().strftime("%Y-%m-%d %H:%M")


def change_details(change: Change) -> str:
    """Everything support needs about one change, as text (never a token)."""
    lines = [
        f"Record: {_record(change)} ({change.dataset} {change.record_key})",
        f"Change: {change.action.replace('_', ' ')}",
        f"State: {state_text(change)}",
        f"Made at: {format_utc(change.occurred_at)}",
        f"Idempotency-Key: {change.idempotency_key}",
        f"Attempts: {change.attempts}",
    ]
    if change.reason:
        lines.append(f"Why: {change.reason}")
    if change.http_status:
        lines.append(f"HTTP status: {change.http_status} {change.error_code}".rstrip())
    if change.request_id:
        lines.append(f"Request ID: {change.request_id}")
    return "\n".join(lines)


class OutboxModel(QAbstractTableModel):
    """The changes of one outbox, in the order they were made."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._changes: list[Change] = []

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._changes)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(_HEADERS)

    def data(self, index: QModelIndex | QPersistentModelIndex,
             role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._changes):
            return None
        change = self._changes[index.row()]
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            column = index.column()
            if column == 0:
                return _record(change)
            if column == 1:
                return change.action.replace("_", " ").capitalize()
            if column == 2:
                return state_text(change)
            if column == 3:
                return change.reason
            if column == 4:
                return change.request_id
            if column == 5:
                return _made_at(change)
        return None

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if (role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal
                and 0 <= section < len(_HEADERS)):
            return _HEADERS[section]
        return None

    def set_changes(self, changes: Sequence[Change]) -> None:
        self.beginResetModel()
        self._changes = list(changes)
        self.endResetModel()

    def change_at(self, row: int) -> Change:
        return self._changes[row]


class OutboxPanel(QDockWidget):
    """The Outbox dock: every change on its way or refused, with Retry, Discard and Copy.

    Args:
        parent: the main window.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(self.tr("Outbox"), parent)
        self.setObjectName("outboxPanel")
        self.setAccessibleName(self.tr("Outbox"))
        self.outbox: Outbox | None = None
        body = QWidget(self)
        self.summary = QLabel(body)
        self.summary.setObjectName("outboxSummary")
        self.summary.setAccessibleName(self.tr("Outbox summary"))
        self.summary.setWordWrap(True)
        self.model = OutboxModel(self)
        self.table = QTableView(body)
        self.table.setObjectName("outboxTable")
        self.table.setAccessibleName(self.tr("Changes in the outbox"))
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.selectionModel().selectionChanged.connect(self._update_buttons)
        self.retry_button = self._button(self.tr("&Retry"), "outboxRetry",
                                         self.tr("Send the selected changes again"))
        self.discard_button = self._button(self.tr("&Discard…"), "outboxDiscard",
                                           self.tr("Drop the selected changes; the rows go "
                                                   "back to what the server has"))
        self.copy_button = self._button(self.tr("&Copy details"), "outboxCopy",
                                        self.tr("Copy the selected changes' details for "
                                                "support"))
        self.retry_button.clicked.connect(self.retry_selected)
        self.discard_button.clicked.connect(self.discard_selected)
        self.copy_button.clicked.connect(self.copy_selected)
        buttons = QHBoxLayout()
        buttons.addWidget(self.retry_button)
        buttons.addWidget(self.discard_button)
        buttons.addStretch(1)
        buttons.addWidget(self.copy_button)
        layout = QVBoxLayout(body)
        layout.addWidget(self.summary)
        layout.addWidget(self.table, 1)
        layout.addLayout(buttons)
        self.setWidget(body)
        self.reload()

    def _button(self, text: str, name: str, tip: str) -> QPushButton:
        button = QPushButton(text, self)
        button.setObjectName(name)
        button.setToolTip(tip)
        button.setAccessibleName(plain_label(text))
        return button

    # -- contents -------------------------------------------------------------------------

    def set_outbox(self, outbox: Outbox | None) -> None:
        """Show another connection's outbox (None: no connection open)."""
        self.outbox = outbox
        self.reload()

    def set_count(self, _count: int) -> None:
        self.reload()

    def reload(self) -> None:
        keep = {c.seq for c in self.selected()}
        changes = self.outbox.changes() if self.outbox is not None else []
        self.model.set_changes(changes)
        selection = self.table.selectionModel()
        for row, change in enumerate(changes):
            if change.seq in keep:
                selection.select(self.model.index(row, 0),
                                 selection.SelectionFlag.Select | selection.SelectionFlag.Rows)
        waiting = sum(1 for c in changes if c.pending)
        refused = len(changes) - waiting
        if self.outbox is None:
            text = self.tr("No connection is open.")
        elif not changes:
            text = self.tr("Every change has reached the server.")
        else:
            parts = [waiting_text(waiting)] if waiting else []
            if refused:
                parts.append(f"{refused:,} refused: retry or discard")
            text = "; ".join(parts) + "."
        self.summary.setText(text[0].upper() + text[1:])
        self._update_buttons()

    def selected(self) -> list[Change]:
        selection = self.table.selectionModel()
        rows = sorted({i.row() for i in selection.selectedRows()}) if selection else []
        return [self.model.change_at(r) for r in rows if r < self.model.rowCount()]

    @Slot()
    def _update_buttons(self, *_args: Any) -> None:
        chosen = self.selected()
        self.retry_button.setEnabled(any(not c.pending for c in chosen))
        self.discard_button.setEnabled(bool(chosen))
        self.copy_button.setEnabled(bool(chosen))

    # -- actions --------------------------------------------------------------------------

    @Slot()
    def retry_selected(self) -> None:
        if self.outbox is None:
            return
        for change in self.selected():
            if not change.pending:
                self.outbox.retry(change.seq)
        self.reload()

    @Slot()
    def discard_selected(self, *, confirm: bool = True) -> int:
        """Drop the selected changes after asking; returns how many were discarded."""
        chosen = self.selected()
        if self.outbox is None or not chosen:
            return 0
        if confirm:
            from PySide6.QtWidgets import QMessageBox  # its first use creates its Python type

            box = QMessageBox(
                QMessageBox.Icon.Warning, self.tr("Discard changes"),
                f"Discard {len(chosen):,} change{'s' if len(chosen) != 1 else ''}? "
                "They will never be sent, and the rows go back to what the server has.",
                parent=self)
            box.setObjectName("outboxDiscardConfirm")
            drop = box.addButton(self.tr("Discard"), QMessageBox.ButtonRole.DestructiveRole)
            box.addButton(QMessageBox.StandardButton.Cancel)
            box.setDefaultButton(QMessageBox.StandardButton.Cancel)
            box.exec()
            if box.clickedButton() is not drop:
                return 0
        done = sum(1 for c in chosen if self.outbox.discard(c.seq) is not None)
        self.reload()
        return done

    @Slot()
    def copy_selected(self) -> None:
        chosen = self.selected()
        if chosen:
            QGuiApplication.clipboard().setText(
                "\n\n".join(change_details(c) for c in chosen))


class OutboxStatus(QPushButton):
    """The status bar's "3 changes waiting to be sent"; hidden when nothing waits; a click
    opens the Outbox panel."""

    def __init__(self, panel: OutboxPanel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("outboxStatus")
        self.setAccessibleName(self.tr("Outbox"))
        self.setFlat(True)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setToolTip(self.tr("Open the Outbox"))
        self._panel = panel
        self.clicked.connect(self._on_clicked)
        self.hide()

    def set_count(self, count: int, refused: int = 0) -> None:
        parts = [waiting_text(count)] if count else []
        if refused:
            parts.append(f"{refused:,} refused")
        self.setText("; ".join(parts))
        self.setAccessibleDescription(self.text())
        self.setVisible(bool(parts))

    @Slot()
    def _on_clicked(self) -> None:
        self._panel.show()
        self._panel.raise_()
