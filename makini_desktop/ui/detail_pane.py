"""The detail pane: everything about one record, its related records as links, Copy as text.

:class:`DetailPane` is a dock on the right of the window. It shows a
:class:`~makini_desktop.table.detail.Detail` (built Qt-free by
:class:`~makini_desktop.table.detail.Describer`): a heading, a row of actions that other
code fills (:meth:`DetailPane.set_actions`: Check in, Approve…), the fields, "Other
fields", and the related records in :class:`RelatedModel`, a tree whose leaves are links.
Following a link emits ``sig_follow``; what that does (open the record's tab, keep the
history) is :mod:`~makini_desktop.ui.detail_nav`'s.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import (
    QAbstractItemModel,
    QCoreApplication,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QSize,
    Qt,
    Signal,
    Slot,
)
from PySide6.QtGui import QAction, QFont, QGuiApplication, QKeyEvent, QKeySequence, QPalette
from PySide6.QtWidgets import (
    QDockWidget,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSplitter,
    QToolBar,
    QToolButton,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from makini_desktop.table.detail import OTHER_FIELDS, Detail, Group, Link, as_plain_text
from makini_desktop.table.detail_history import Place

__all__ = ["EXPAND_MAX_LINKS", "DetailPane", "MoreRole", "PlaceRole", "RelatedModel"]

PlaceRole = Qt.ItemDataRole.UserRole + 1
"""A link's :class:`~makini_desktop.table.detail_history.Place` (None for a heading)."""
MoreRole = Qt.ItemDataRole.UserRole + 2
"""On a group's "Show all…" line: the group's title ("" elsewhere)."""
EXPAND_MAX_LINKS = 40
"""Related groups up to this size start expanded; bigger ones (a building's spaces) folded."""


def _tr(text: str) -> str:
    return QCoreApplication.translate("DetailPane", text)


class _Node:
    __slots__ = ("text", "place", "children", "parent", "row", "heading", "more_of")

    def __init__(self, text: str, place: Place | None, parent: _Node | None, row: int,
                 heading: bool = False, more_of: str = "") -> None:
        self.text = text
        self.place = place
        self.children: list[_Node] = []
        self.parent = parent
        self.row = row
        self.heading = heading
        self.more_of = more_of  # "Show all…" of the group with this title


def _add_links(parent: _Node, links: Sequence[Link]) -> None:
    for link in links:
        node = _Node(link.text, link.place, parent, len(parent.children))
        parent.children.append(node)
        _add_links(node, link.children)


class RelatedModel(QAbstractItemModel):
    """The related records of a detail: one heading per group, links under it."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._root = _Node("", None, None, 0)

    def set_groups(self, groups: Sequence[Group]) -> None:
        self.beginResetModel()
        root = _Node("", None, None, 0)
        for group in groups:
            node = _Node(group.heading, None, root, len(root.children), heading=True)
            root.children.append(node)
            _add_links(node, group.links)
            if group.more:
                node.children.append(_Node(group.more_text, None, node, len(node.children),
                                           more_of=group.title))
        self._root = root
        self.endResetModel()

    def _node(self, index: QModelIndex | QPersistentModelIndex) -> _Node:
        if index.isValid():
            node = index.internalPointer()
            assert isinstance(node, _Node)
            return node
        return self._root

    def index(self, row: int, column: int,
              parent: QModelIndex | QPersistentModelIndex = QModelIndex()  # noqa: B008
              ) -> QModelIndex:
        if column != 0 or row < 0:
            return QModelIndex()
        node = self._node(parent)
        if row >= len(node.children):
            return QModelIndex()
        return self.createIndex(row, 0, node.children[row])

    def parent(self, index: QModelIndex | QPersistentModelIndex = QModelIndex()  # type: ignore[override]  # noqa: B008
               ) -> QModelIndex:
        if not index.isValid():
            return QModelIndex()
        up = self._node(index).parent
        if up is None or up is self._root:
            return QModelIndex()
        return self.createIndex(up.row, 0, up)

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        if parent.isValid() and parent.column() != 0:
            return 0
        return len(self._node(parent).children)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 1

    def flags(self, index: QModelIndex | QPersistentModelIndex) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        flags = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
        if not self._node(index).children:
            flags |= Qt.ItemFlag.ItemNeverHasChildren
        return flags

    def data(self, index: QModelIndex | QPersistentModelIndex,
             role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        node = self._node(index)
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole):
            return node.text
        if role == Qt.ItemDataRole.ToolTipRole:
            if node.more_of:
                return _tr("List every one of them")
            return _tr("Open {0}").format(node.text) if node.place is not None else node.text
        if role == PlaceRole:
            return node.place
        if role == MoreRole:
            return node.more_of
        if role == Qt.ItemDataRole.FontRole and node.heading:
            font = QFont()
            font.setBold(True)
            return font
        if role == Qt.ItemDataRole.ForegroundRole and (node.place is not None or node.more_of):
            return QGuiApplication.palette().brush(QPalette.ColorRole.Link)
        return None

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if section == 0 and orientation == Qt.Orientation.Horizontal and role in (
            Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole
        ):
            return _tr("Related")
        return None

    def groups(self) -> list[tuple[str, int]]:
        """Each heading and how many links are listed under it (for tests and the view)."""
        return [(n.text, sum(1 for c in n.children if not c.more_of))
                for n in self._root.children]


class _RelatedView(QTreeView):
    """The related records: a click or Enter on a link follows it."""

    sig_follow = Signal(object)
    sig_show_all = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.clicked.connect(self._on_self_clicked)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.matches(QKeySequence.StandardKey.Copy):
            event.ignore()  # the pane copies itself as a whole, not the current line
            return
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self._follow(
                self.currentIndex()):
            event.accept()
            return
        super().keyPressEvent(event)

    @Slot(QModelIndex)
    def _on_self_clicked(self, index: QModelIndex) -> None:
        self._follow(index)

    def _follow(self, index: QModelIndex) -> bool:
        place = index.data(PlaceRole)
        if place is not None:
            self.sig_follow.emit(place)
            return True
        more = index.data(MoreRole)
        if more:
            self.sig_show_all.emit(more)
            return True
        return False


class _Body(QWidget):
    """The pane's contents: wide enough at first for a label and a long name side by side."""

    def sizeHint(self) -> QSize:
        hint = super().sizeHint()
        return QSize(max(hint.width(), self.fontMetrics().averageCharWidth() * 60),
                     hint.height())


class DetailPane(QDockWidget):
    """The dock that shows one record.

    Signals:
        sig_follow(Place): a related record's link was followed.
        sig_show_all(str): "Show all…" of the group with that title was chosen.
    """

    sig_follow = Signal(object)
    sig_show_all = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(_tr("Details"), parent)
        self.setObjectName("detailPane")
        self.setAccessibleName(_tr("Details"))
        self.setAllowedAreas(Qt.DockWidgetArea.LeftDockWidgetArea
                             | Qt.DockWidgetArea.RightDockWidgetArea)
        self.detail: Detail | None = None
        self._setup_ui()
        self.show_message(_tr("Select a row and press Enter (or double-click it) to see "
                              "everything about it here."))

    def _setup_ui(self) -> None:
        body = _Body(self)
        body.setObjectName("detailBody")
        body.setAccessibleName(_tr("Details of the selected record"))
        column = QVBoxLayout(body)

        self.nav_bar = QHBoxLayout()
        self.back_button = QToolButton(body)
        self.back_button.setObjectName("detailBackButton")
        self.back_button.setAccessibleName(_tr("Back"))
        self.forward_button = QToolButton(body)
        self.forward_button.setObjectName("detailForwardButton")
        self.forward_button.setAccessibleName(_tr("Forward"))
        self.copy_button = QPushButton(_tr("Copy as text"), body)
        self.copy_button.setObjectName("detailCopyButton")
        self.copy_button.setAccessibleName(_tr("Copy the details as text"))
        self.copy_button.setToolTip(_tr("Put everything this pane shows on the clipboard "
                                        "as text (Ctrl+C here)"))
        self.copy_button.clicked.connect(self.copy_as_text)
        self.nav_bar.addWidget(self.back_button)
        self.nav_bar.addWidget(self.forward_button)
        self.nav_bar.addStretch(1)
        self.nav_bar.addWidget(self.copy_button)
        column.addLayout(self.nav_bar)

        self.kind_label = QLabel(body)
        self.kind_label.setObjectName("detailKind")
        self.kind_label.setAccessibleName(_tr("Kind of record"))
        self.title_label = QLabel(body)
        self.title_label.setObjectName("detailTitle")
        self.title_label.setAccessibleName(_tr("Record"))
        self.title_label.setWordWrap(True)
        self.title_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        font = self.title_label.font()
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.25)
        self.title_label.setFont(font)
        self.note_label = QLabel(body)
        self.note_label.setObjectName("detailNote")
        self.note_label.setAccessibleName(_tr("Where the data comes from"))
        self.note_label.setWordWrap(True)
        self.note_label.setEnabled(False)  # dimmed: a remark about the data, not data
        column.addWidget(self.kind_label)
        column.addWidget(self.title_label)
        column.addWidget(self.note_label)

        # Where other parts of the app put what can be done with the record (Check in…).
        self.actions_bar = QToolBar(_tr("Record actions"), body)
        self.actions_bar.setObjectName("detailActions")
        self.actions_bar.setAccessibleName(_tr("Record actions"))
        self.actions_bar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self.actions_bar.hide()
        column.addWidget(self.actions_bar)

        self.fields_widget = QWidget()
        self.fields_widget.setObjectName("detailFields")
        self.fields_widget.setAccessibleName(_tr("Fields"))
        self.fields_column = QVBoxLayout(self.fields_widget)
        # One form for both parts, so every label lines up; "Other fields" is a row of it.
        self.fields_form = QFormLayout()
        self.fields_form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop)
        self.fields_form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.fields_column.addLayout(self.fields_form)
        self.fields_column.addStretch(1)
        scroll = QScrollArea()
        scroll.setObjectName("detailFieldsScroll")
        scroll.setAccessibleName(_tr("Fields"))
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.fields_widget)

        self.related_model = RelatedModel(self)
        self.related = _RelatedView()
        self.related.setObjectName("detailRelated")
        self.related.setAccessibleName(_tr("Related records"))
        self.related.setHeaderHidden(True)
        self.related.setModel(self.related_model)
        self.related.setUniformRowHeights(True)
        self.related.sig_follow.connect(self.sig_follow.emit)
        self.related.sig_show_all.connect(self.sig_show_all.emit)

        splitter = QSplitter(Qt.Orientation.Vertical, body)
        splitter.setObjectName("detailSplitter")
        splitter.setAccessibleName(_tr("Fields and related records"))
        splitter.setChildrenCollapsible(False)
        splitter.addWidget(scroll)
        splitter.addWidget(self.related)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        splitter.setSizes([3000, 2000])  # proportions: the fields first, then the links
        column.addWidget(splitter, 1)
        body.setMinimumWidth(self.fontMetrics().averageCharWidth() * 36)
        body.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Expanding)
        self.setWidget(body)

    # -- what other code calls ------------------------------------------------------------------

    def set_nav_actions(self, back: QAction, forward: QAction) -> None:
        """Show the window's Back and Forward actions as the pane's arrows."""
        self.back_button.setDefaultAction(back)
        self.forward_button.setDefaultAction(forward)
        for button in (self.back_button, self.forward_button):
            button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonIconOnly)

    def set_actions(self, actions: Sequence[QAction]) -> None:
        """Put what can be done with the record shown (Check in, Approve…) above its fields.

        Called by whoever knows the record's actions, after each :meth:`show_detail`
        (which clears them); no actions hides the row.
        """
        self.actions_bar.clear()
        for action in actions:
            self.actions_bar.addAction(action)
        self.actions_bar.setVisible(bool(actions))

    def show_detail(self, detail: Detail, note: str = "") -> None:
        """Show a record's fields and related records (the record actions are cleared)."""
        previous, self.detail = self.detail, detail
        self.set_actions(())
        self.kind_label.setText(detail.kind)
        self.kind_label.show()
        self.title_label.setText(detail.title)
        self._set_note(note)
        _fill_form(self.fields_form, detail.fields, detail.other)
        # The same record again (its rows changed, or Show all): keep what the user opened.
        same = previous is not None and previous.place == detail.place
        kept = self._expanded(previous.related) if previous is not None and same else None
        scroll = self.related.verticalScrollBar().value()
        self.related_model.set_groups(detail.related)
        self.related.show()
        if kept is None:
            self._expand_small_groups()
        else:
            model = self.related_model
            for row, group in enumerate(detail.related):
                self.related.setExpanded(model.index(row, 0), group.title in kept)
            self.related.verticalScrollBar().setValue(scroll)
        self.copy_button.setEnabled(True)

    def show_message(self, text: str) -> None:
        """Show no record, only a sentence (nothing selected, the record is gone)."""
        self.detail = None
        self.set_actions(())
        self.kind_label.hide()
        self.title_label.setText("")
        self._set_note(text)
        self.note_label.setEnabled(True)
        _fill_form(self.fields_form, [], [])
        self.related_model.set_groups([])
        self.copy_button.setEnabled(False)

    def text(self) -> str:
        """What Copy as text puts on the clipboard ("" with no record shown)."""
        return as_plain_text(self.detail) if self.detail is not None else ""

    @Slot()
    def copy_as_text(self) -> None:
        """Copy the record shown, its fields and related records, as plain text."""
        text = self.text()
        if text:
            QGuiApplication.clipboard().setText(text)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.matches(QKeySequence.StandardKey.Copy):
            self.copy_as_text()
            event.accept()
            return
        super().keyPressEvent(event)

    # -- internals ------------------------------------------------------------------------------

    def _set_note(self, note: str) -> None:
        self.note_label.setText(note)
        self.note_label.setEnabled(False)
        self.note_label.setVisible(bool(note))

    def _expanded(self, shown: Sequence[Group]) -> set[str]:
        """Titles of the related groups ``shown`` now that are expanded."""
        model = self.related_model
        return {group.title for row, group in enumerate(shown)
                if self.related.isExpanded(model.index(row, 0))}

    def _expand_small_groups(self) -> None:
        model = self.related_model
        for row in range(model.rowCount()):
            index = model.index(row, 0)
            small = model.rowCount(index) <= EXPAND_MAX_LINKS
            self.related.setExpanded(index, small)
            if small:
                for child in range(model.rowCount(index)):
                    self.related.setExpanded(model.index(child, 0, index), True)


def _fill_form(form: QFormLayout, rows: Sequence[tuple[str, str]],
               other: Sequence[tuple[str, str]]) -> None:
    while form.rowCount():
        form.removeRow(0)
    for label, text in rows:
        _add_row(form, label, text)
    if other:
        heading = QLabel(_tr(OTHER_FIELDS))
        heading.setObjectName("detailOtherHeading")
        heading.setAccessibleName(_tr(OTHER_FIELDS))
        font = heading.font()
        font.setBold(True)
        heading.setFont(font)
        heading.setContentsMargins(0, heading.fontMetrics().height() // 2, 0, 0)
        form.addRow(heading)
        for label, text in other:
            _add_row(form, label, text)


def _add_row(form: QFormLayout, label: str, text: str) -> None:
    value = QLabel(text)
    value.setWordWrap(True)
    value.setTextFormat(Qt.TextFormat.PlainText)  # a record's text is never markup
    value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse
                                  | Qt.TextInteractionFlag.TextSelectableByKeyboard)
    value.setAccessibleName(label)
    caption = QLabel(_tr("{0}:").format(label))
    caption.setTextFormat(Qt.TextFormat.PlainText)
    caption.setBuddy(value)
    form.addRow(caption, value)
