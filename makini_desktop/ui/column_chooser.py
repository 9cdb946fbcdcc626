"""The column chooser: every column of a table, checkable, in the order shown.

Reached from the tab's Columns button, View → Choose columns… and the header's menu.
Ticks show or hide a column; dragging a row or Move up / Move down reorders; Restore
defaults brings back the view's own columns. OK applies to the table (through
:meth:`ResourceTableView.show_columns`, the header menu's logic); Cancel leaves it as it was.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QCoreApplication, Qt, Slot
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

if TYPE_CHECKING:  # the table opens this dialog
    from makini_desktop.ui.table_view import ResourceTableView

__all__ = ["ColumnChooser"]

_ID_ROLE = Qt.ItemDataRole.UserRole


def _tr(text: str) -> str:
    return QCoreApplication.translate("ColumnChooser", text)


class ColumnChooser(QDialog):
    """A non-modal dialog choosing a table's columns and their order.

    Args:
        table: the table whose columns are chosen (also the dialog's parent).
    """

    def __init__(self, table: ResourceTableView, parent: QWidget | None = None) -> None:
        super().__init__(parent if parent is not None else table)
        self.table = table
        view = table.resource_model.view
        self.setObjectName("columnChooser")
        self.setWindowTitle(_tr("Columns of {title}").format(title=view.title.lower()))
        self.setAccessibleName(self.windowTitle())
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self._setup_ui()
        self._fill(table.column_ids())

    def _setup_ui(self) -> None:
        hint = QLabel(_tr("Tick the columns to show; drag or use the buttons to reorder."), self)
        hint.setWordWrap(True)
        self.list = QListWidget(self)
        self.list.setObjectName("columnChooserList")
        self.list.setAccessibleName(_tr("Columns"))
        self.list.setDragDropMode(QAbstractItemView.DragDropMode.InternalMove)
        self.list.setDefaultDropAction(Qt.DropAction.MoveAction)
        self.list.currentRowChanged.connect(self._on_list_current_row_changed)
        self.list.itemChanged.connect(self._on_list_item_changed)
        hint.setBuddy(self.list)

        self.up_button = QPushButton(_tr("Move &up"), self)
        self.up_button.setObjectName("columnUpButton")
        self.up_button.clicked.connect(lambda: self.move_current(-1))
        self.down_button = QPushButton(_tr("Move &down"), self)
        self.down_button.setObjectName("columnDownButton")
        self.down_button.clicked.connect(lambda: self.move_current(1))
        self.defaults_button = QPushButton(_tr("&Restore defaults"), self)
        self.defaults_button.setObjectName("columnDefaultsButton")
        self.defaults_button.clicked.connect(self._on_defaults_button_clicked)
        side = QVBoxLayout()
        side.addWidget(self.up_button)
        side.addWidget(self.down_button)
        side.addStretch(1)
        side.addWidget(self.defaults_button)

        middle = QHBoxLayout()
        middle.addWidget(self.list, 1)
        middle.addLayout(side)

        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self)
        self.buttons.setObjectName("columnChooserButtons")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addWidget(hint)
        layout.addLayout(middle, 1)
        layout.addWidget(self.buttons)
        self.accepted.connect(self.apply)

    def _fill(self, shown: list[str]) -> None:
        """List the shown columns in order, then the hidden ones in the view's order."""
        columns = self.table.resource_model.columns
        by_id = {c.id: c for c in columns}
        order = shown + [c.id for c in columns if c.id not in shown]
        self.list.blockSignals(True)
        self.list.clear()
        for column_id in order:
            item = QListWidgetItem(by_id[column_id].header)
            item.setData(_ID_ROLE, column_id)
            item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
                          | Qt.ItemFlag.ItemIsUserCheckable | Qt.ItemFlag.ItemIsDragEnabled)
            item.setCheckState(
                Qt.CheckState.Checked if column_id in shown else Qt.CheckState.Unchecked)
            self.list.addItem(item)
        self.list.blockSignals(False)
        self.list.setCurrentRow(0)
        self._update_buttons()

    def chosen(self) -> list[str]:
        """The ids of the ticked columns, in the list's order."""
        items = (self.list.item(i) for i in range(self.list.count()))
        return [str(item.data(_ID_ROLE)) for item in items
                if item.checkState() == Qt.CheckState.Checked]

    def move_current(self, step: int) -> None:
        """Move the selected column up (-1) or down (+1)."""
        row = self.list.currentRow()
        target = row + step
        if row < 0 or not 0 <= target < self.list.count():
            return
        item = self.list.takeItem(row)
        self.list.insertItem(target, item)
        self.list.setCurrentRow(target)

    @Slot()
    def apply(self) -> None:
        """Show the ticked columns, in the list's order."""
        chosen = self.chosen()
        if chosen:
            self.table.show_columns(chosen)

    def _update_buttons(self) -> None:
        row = self.list.currentRow()
        self.up_button.setEnabled(row > 0)
        self.down_button.setEnabled(0 <= row < self.list.count() - 1)
        # A table with no column would be blank.
        ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        ok.setEnabled(bool(self.chosen()))

    @Slot(int)
    def _on_list_current_row_changed(self, _row: int) -> None:
        self._update_buttons()

    @Slot(QListWidgetItem)
    def _on_list_item_changed(self, _item: QListWidgetItem) -> None:
        self._update_buttons()

    @Slot()
    def _on_defaults_button_clicked(self) -> None:
        self._fill([c.id for c in self.table.resource_model.columns if not c.hidden])
