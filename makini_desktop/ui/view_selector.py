"""Saved views in the window: a selector per tab, Save / Export / Import, the column chooser.

:class:`ViewSelector` is a tab's combo box (``visitorsViewSelector``): "Default view", the
built-in views, then the views the user saved. :class:`SavedViews` puts one in each tab's
top row with a Columns button, owns the window's view actions (``saveViewAction``,
``exportViewAction``, ``importViewAction``, ``chooseColumnsAction``) and applies a
:class:`~makini_desktop.store.views.ViewState` to a tab: columns, filters, search, sort.
What is kept and how a shared file is checked is :mod:`makini_desktop.store.views`'s.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol

from PySide6.QtCore import QCoreApplication, QObject, QSettings, Qt, Slot
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QComboBox,
    QLabel,
    QMainWindow,
    QToolButton,
    QWidget,
)

from makini_desktop.store.views import (
    ViewFileError,
    ViewState,
    ViewStore,
    export_views,
    import_views,
    presets_for,
)
from makini_desktop.sync.notify import Level
from makini_desktop.table.criteria import CRITERIA_IDS, criterion, own_filters
from makini_desktop.ui.resource_tab import ResourceTab
from makini_desktop.ui.tab_export import documents_folder

__all__ = ["DEFAULT_VIEW_TEXT", "SavedViews", "ViewSelector", "apply_view", "capture_view"]

DEFAULT_VIEW_TEXT = "Default view"
_K_VIEWS_FOLDER = "views/lastFolder"


def _tr(text: str) -> str:
    return QCoreApplication.translate("SavedViews", text)


class _Window(Protocol):
    tabs: dict[str, ResourceTab]
    settings: QSettings

    def current_tab(self) -> ResourceTab: ...

    def tell(self, text: str, *, level: Level = ..., lasting: bool = ...) -> None: ...


class ViewSelector(QComboBox):
    """A tab's choice of view: "Default view", the built-in views, the saved ones.

    Each item's data is its :class:`ViewState` (None for the default view).
    """

    def __init__(self, tab: str, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.tab = tab
        self.setObjectName(f"{tab}ViewSelector")
        self.setAccessibleName(_tr("View of {title}").format(title=title.lower()))
        self.setToolTip(_tr("Show a saved view: its search, filters, sort and columns"))
        self.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.setMinimumContentsLength(14)

    def fill(self, presets: list[ViewState], saved: list[ViewState], current: str = "") -> None:
        """List the views and select ``current`` (by name; else the default view), without
        emitting a signal."""
        self.blockSignals(True)
        self.clear()
        self.addItem(_tr(DEFAULT_VIEW_TEXT), None)
        for view in presets:
            self.addItem(view.name, view)
            self.setItemData(self.count() - 1, _tr("Built-in view"), Qt.ItemDataRole.ToolTipRole)
        if saved:
            self.insertSeparator(self.count())
            for view in saved:
                self.addItem(view.name, view)
        index = self.find_view(current) if current else 0
        self.setCurrentIndex(max(index, 0))
        self.blockSignals(False)

    def find_view(self, name: str) -> int:
        """The index of the view of that name (case-insensitive), else -1; a saved view is
        found before a built-in one."""
        wanted = name.casefold()
        found = -1
        for i in range(self.count()):
            view = self.itemData(i)
            if isinstance(view, ViewState) and view.name.casefold() == wanted:
                found = i if found < 0 or not view.builtin else found
        return found

    def current_view(self) -> ViewState | None:
        data = self.currentData()
        return data if isinstance(data, ViewState) else None


def capture_view(tab: ResourceTab, name: str, criteria: Mapping[str, str]) -> ViewState:
    """What a tab shows now as a view named ``name``.

    Args:
        tab: the tab.
        name: the view's name.
        criteria: the view criteria the tab has applied (table/criteria.py's filters).
    """
    model = tab.model
    column = model.sort_column
    sort_id = model.columns[column].id if 0 <= column < len(model.columns) else None
    filters = dict(tab.filter_state())
    filters.update(criteria)
    return ViewState(
        tab.view.name, name, tab.search.text(), filters, sort_id,
        model.sort_order == Qt.SortOrder.DescendingOrder, tuple(tab.table.column_ids()),
    )


def apply_view(tab: ResourceTab, view: ViewState | None) -> dict[str, str]:
    """Show a view in a tab (None: the tab's defaults): columns, filters, search, sort.

    Returns:
        The view criteria now applied (table/criteria.py's filters of the view).
    """
    view = view if view is not None else ViewState(tab.view.name, DEFAULT_VIEW_TEXT)
    tab.table.show_columns(view.columns)
    tab.apply_filter_state({k: v for k, v in view.filters.items() if k not in CRITERIA_IDS})
    criteria = own_filters(view.filters)
    tab.model.set_criterion(criterion(tab.view.name, criteria))
    if tab.search.text() != view.search:
        tab.search.setText(view.search)
    tab.apply_search_now()
    ids = [c.id for c in tab.model.columns]
    column = ids.index(view.sort_column) if view.sort_column in ids else 0
    order = Qt.SortOrder.DescendingOrder if view.descending else Qt.SortOrder.AscendingOrder
    header = tab.table.horizontalHeader()
    if (header.sortIndicatorSection(), header.sortIndicatorOrder()) != (column, order):
        header.setSortIndicator(column, order)  # sorts, in slices
    return criteria


class SavedViews(QObject):
    """The window's saved views: a selector and a Columns button per tab, and the actions.

    Args:
        window: the main window (its tabs, settings and ``tell``).
        store: where views are kept (default: ``views.json`` of the local profile).
    """

    def __init__(self, window: QMainWindow, store: ViewStore | None = None) -> None:
        super().__init__(window)
        self.setObjectName("savedViews")
        self._window: _Window = window  # type: ignore[assignment]  # MainWindow fits it
        self._parent = window
        self.store = store if store is not None else ViewStore()
        self.selectors: dict[str, ViewSelector] = {}
        self._criteria: dict[str, dict[str, str]] = {}
        self._setup_actions()
        for name, tab in self._window.tabs.items():
            self._add_to_tab(name, tab)

    def _setup_actions(self) -> None:
        parent = self._parent
        self.save_view_action = QAction(_tr("&Save view…"), parent)
        self.save_view_action.setObjectName("saveViewAction")
        self.save_view_action.setShortcut(QKeySequence("Ctrl+Shift+S"))
        self.save_view_action.setToolTip(
            _tr("Keep this tab's search, filters, sort and columns under a name"))
        self.save_view_action.triggered.connect(self._on_save_view_action_triggered)
        self.delete_view_action = QAction(_tr("&Delete view"), parent)
        self.delete_view_action.setObjectName("deleteViewAction")
        self.delete_view_action.setToolTip(_tr("Forget the saved view selected in this tab"))
        self.delete_view_action.triggered.connect(self._on_delete_view_action_triggered)
        self.export_view_action = QAction(_tr("E&xport views…"), parent)
        self.export_view_action.setObjectName("exportViewAction")
        self.export_view_action.setToolTip(
            _tr("Save this tab's saved views to a file to share with colleagues"))
        self.export_view_action.triggered.connect(self._on_export_view_action_triggered)
        self.import_view_action = QAction(_tr("&Import views…"), parent)
        self.import_view_action.setObjectName("importViewAction")
        self.import_view_action.setToolTip(_tr("Add the views of a shared view file"))
        self.import_view_action.triggered.connect(self._on_import_view_action_triggered)
        self.choose_columns_action = QAction(_tr("Choose &columns…"), parent)
        self.choose_columns_action.setObjectName("chooseColumnsAction")
        self.choose_columns_action.setShortcut(QKeySequence("Ctrl+Shift+C"))
        self.choose_columns_action.setToolTip(_tr("Show, hide and reorder this tab's columns"))
        self.choose_columns_action.triggered.connect(self._on_choose_columns_action_triggered)

    def actions(self) -> list[QAction]:
        """The actions for the View menu, in order (None-free)."""
        return [self.choose_columns_action, self.save_view_action, self.delete_view_action,
                self.export_view_action, self.import_view_action]

    def _add_to_tab(self, name: str, tab: ResourceTab) -> None:
        selector = ViewSelector(name, tab.view.title, tab)
        selector.activated.connect(lambda _i, t=name: self._on_selector_activated(t))
        self.selectors[name] = selector
        self._fill(name)
        caption = QLabel(_tr("Vie&w:"), tab)  # Alt+V is the View menu
        caption.setBuddy(selector)
        columns = QToolButton(tab)
        columns.setObjectName(f"{name}ColumnsButton")
        columns.setText(_tr("Columns…"))
        columns.setAccessibleName(_tr("Choose columns of {title}").format(
            title=tab.view.title.lower()))
        columns.setToolTip(_tr("Show, hide and reorder the columns"))
        columns.clicked.connect(tab.table.choose_columns)
        row = tab.top_row
        row.insertWidget(0, caption)
        row.insertWidget(1, selector)
        row.insertSpacing(2, tab.fontMetrics().averageCharWidth() * 2)
        row.insertWidget(row.indexOf(tab.count) + 1, columns)  # after the row count

    def _fill(self, tab: str, current: str = "") -> None:
        self.selectors[tab].fill(presets_for(tab), self.store.views(tab), current)

    # -- what the actions do (tests call these directly) --------------------------------------

    def select(self, tab: str, name: str) -> ViewState | None:
        """Show the view of that name in a tab (its selector follows); "Default view"
        gives the tab's defaults (and None).

        Raises:
            KeyError: the tab has no view of that name.
        """
        selector = self.selectors[tab]
        index = selector.find_view(name)
        if index < 0 and name.casefold() == _tr(DEFAULT_VIEW_TEXT).casefold():
            index = 0
        if index < 0:
            raise KeyError(name)
        selector.setCurrentIndex(index)
        view = selector.current_view()
        self._criteria[tab] = apply_view(self._window.tabs[tab], view)
        return view

    def save_current(self, name: str, tab: str | None = None) -> ViewState | None:
        """Keep what a tab (default: the current one) shows as a view named ``name``.

        Returns:
            The view saved, or None when it could not be (the user has been told why).
        """
        tab_widget = self._window.tabs[tab] if tab else self._window.current_tab()
        tab_name = tab_widget.view.name
        name = " ".join(name.split())
        if not name:
            self._window.tell(_tr("A view needs a name."), level=Level.WARNING)
            return None
        if any(p.name.casefold() == name.casefold() for p in presets_for(tab_name)):
            self._window.tell(_tr("“{name}” is a built-in view; choose another name.").format(
                name=name), level=Level.WARNING)
            return None
        view = capture_view(tab_widget, name, self._criteria.get(tab_name, {}))
        try:
            self.store.put(view)
        except OSError as exc:
            self._window.tell(_tr("The view could not be saved to {path}: {reason}.").format(
                path=self.store.path, reason=exc.strerror or exc), level=Level.ERROR)
            return None
        self._fill(tab_name, name)
        self._window.tell(_tr("Saved the view “{name}”.").format(name=name))
        return view

    def delete_current(self, tab: str | None = None) -> bool:
        """Forget the saved view selected in a tab (built-in views cannot be deleted)."""
        tab_name = tab or self._window.current_tab().view.name
        view = self.selectors[tab_name].current_view()
        if view is None or view.builtin:
            self._window.tell(_tr("Select a view you saved to delete it."), level=Level.WARNING)
            return False
        try:
            removed = self.store.remove(tab_name, view.name)
        except OSError as exc:
            self._window.tell(_tr("The view could not be deleted: {reason}.").format(
                reason=exc.strerror or exc), level=Level.ERROR)
            return False
        self._fill(tab_name)
        if removed:
            self._window.tell(_tr("Deleted the view “{name}”.").format(name=view.name))
        return removed

    def export_to(self, path: str, tab: str | None = None) -> bool:
        """Write a tab's saved views to a file to share; False (the user told why) if not."""
        tab_name = tab or self._window.current_tab().view.name
        views = self.store.views(tab_name)
        if not views:
            self._window.tell(_tr("There is no saved view to export: save one first "
                                  "(View → Save view…)."), level=Level.WARNING)
            return False
        try:
            export_views(path, views)
        except OSError as exc:
            self._window.tell(_tr("Could not write {path}: {reason}.").format(
                path=path, reason=exc.strerror or exc), level=Level.ERROR)
            return False
        self._remember_folder(path)
        count = _tr("1 view") if len(views) == 1 else _tr("{n} views").format(n=len(views))
        self._window.tell(_tr("Exported {count} to {path}").format(count=count, path=path))
        return True

    def import_from(self, path: str) -> list[ViewState] | None:
        """Add the views of a shared file; None when the file is not a valid view file
        (a message box says what is wrong with it)."""
        try:
            views = import_views(path)
            for view in views:
                self.store.put(view)
        except ViewFileError as exc:
            self._refuse_import(str(exc))
            return None
        except OSError as exc:
            self._refuse_import(_tr("The views could not be saved: {reason}.").format(
                reason=exc.strerror or exc))
            return None
        self._remember_folder(path)
        for tab in {v.tab for v in views} & set(self.selectors):
            current = self.selectors[tab].currentText()
            self._fill(tab, current)
        names = ", ".join(f"“{v.name}”" for v in views)
        if views:
            self._window.tell(_tr("Imported {n} view(s): {names}").format(
                n=len(views), names=names))
        else:
            self._window.tell(_tr("{file} holds no view.").format(file=Path(path).name),
                              level=Level.WARNING)
        return views

    def _refuse_import(self, reason: str) -> None:
        from PySide6.QtWidgets import QMessageBox

        box = QMessageBox(QMessageBox.Icon.Warning, _tr("Import failed"),
                          _tr("Could not import views."), parent=self._parent)
        box.setObjectName("importViewsFailedBox")
        box.setInformativeText(reason)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()
        self._window.tell(reason, level=Level.WARNING)

    def _folder(self) -> str:
        kept = self._window.settings.value(_K_VIEWS_FOLDER)
        if isinstance(kept, str) and kept and Path(kept).is_dir():
            return kept
        return str(documents_folder())

    def _remember_folder(self, path: str) -> None:
        self._window.settings.setValue(_K_VIEWS_FOLDER, str(Path(path).resolve().parent))

    # -- slots ------------------------------------------------------------------------------

    def _on_selector_activated(self, tab: str) -> None:
        view = self.selectors[tab].current_view()
        self._criteria[tab] = apply_view(self._window.tabs[tab], view)

    @Slot()
    def _on_save_view_action_triggered(self) -> Any:
        tab = self._window.current_tab()
        current = self.selectors[tab.view.name].current_view()
        from PySide6.QtWidgets import QInputDialog

        dialog = QInputDialog(self._parent)
        dialog.setObjectName("saveViewDialog")
        dialog.setWindowTitle(_tr("Save view"))
        dialog.setLabelText(_tr("Name of the view of {title}:").format(
            title=tab.view.title.lower()))
        dialog.setTextValue(current.name if current is not None and not current.builtin else "")
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.textValueSelected.connect(
            lambda text, t=tab.view.name: self.save_current(text, t))
        dialog.open()
        return dialog

    @Slot()
    def _on_delete_view_action_triggered(self) -> None:
        self.delete_current()

    @Slot()
    def _on_export_view_action_triggered(self) -> Any:
        tab = self._window.current_tab().view
        from PySide6.QtWidgets import QFileDialog

        dialog = QFileDialog(self._parent, _tr("Export views of {title}").format(
            title=tab.title.lower()))
        dialog.setObjectName("exportViewsDialog")
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        dialog.setNameFilters([_tr("View files (*.json)")])
        dialog.setDefaultSuffix("json")
        dialog.setDirectory(self._folder())
        dialog.selectFile(_tr("{title} views.json").format(title=tab.title))
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.fileSelected.connect(lambda path, t=tab.name: self.export_to(path, t))
        dialog.open()
        return dialog

    @Slot()
    def _on_import_view_action_triggered(self) -> Any:
        from PySide6.QtWidgets import QFileDialog

        dialog = QFileDialog(self._parent, _tr("Import views"))
        dialog.setObjectName("importViewsDialog")
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptOpen)
        dialog.setFileMode(QFileDialog.FileMode.ExistingFile)
        dialog.setNameFilters([_tr("View files (*.json)"), _tr("All files (*)")])
        dialog.setDirectory(self._folder())
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.fileSelected.connect(self.import_from)
        dialog.open()
        return dialog

    @Slot()
    def _on_choose_columns_action_triggered(self) -> Any:
        return self._window.current_tab().table.choose_columns()
