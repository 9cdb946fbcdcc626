"""The filter combo boxes beside a tab's search box, and the search box itself.

:class:`FilterBar` holds one :class:`FilterCombo` per filter of the tab's view (the ids and
values are :mod:`makini_desktop.table.filters`'), keeps their lists current (a floor list
follows the toolbar's building and the lookups; asset categories are read when the list
opens) and says when the user changes one (:attr:`FilterBar.filters_changed`). A filter
state is a ``dict[str, str]``: filter id → chosen value id, "All" being absent.

:class:`SearchBox` is the search field: Escape clears it, its tooltip explains the syntax
(:data:`SEARCH_HELP`), and the window's shortcuts that a line edit would take for itself
(Ctrl+E) still reach the window while it has focus.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from PySide6.QtCore import QCoreApplication, QEvent, QSize, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QKeyEvent, QKeySequence, QShowEvent
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QLineEdit, QWidget

from makini_desktop.api import resources as res
from makini_desktop.table import filters
from makini_desktop.ui.table_model import Lookups, ResourceTableModel

__all__ = ["SEARCH_HELP", "FilterBar", "FilterCombo", "SearchBox"]

def _tr(text: str) -> str:
    return QCoreApplication.translate("FilterBar", text)

SEARCH_HELP = (
    "<p><b>Search</b> finds rows where every word starts a word of a shown column "
    "(case and accents do not matter: <i>zoe</i> finds Zoë).</p>"
    "<table>"
    "<tr><td><tt>3.001</tt></td><td>words starting so (not 13.001)</td></tr>"
    "<tr><td><tt>\"level 3\"</tt></td><td>these whole words, in this order</td></tr>"
    "<tr><td><tt>floor:3</tt></td><td>only in the column headed Floor "
    "(the start of a heading is enough: <tt>host:okafor</tt>, <tt>status:pending</tt>)</td></tr>"
    "<tr><td><tt>-storage</tt></td><td>leave out rows with this word</td></tr>"
    "</table><p>Escape clears the search.</p>"
)
"""The search box's tooltip (its syntax, see :mod:`makini_desktop.table.query`)."""

SEARCH_CHARS, SEARCH_MIN_CHARS = 32, 16
"""The search box's width in characters: wanted, and at the least."""
MIN_CHARS = {filters.FLOOR: 11, filters.CATEGORY: 11, filters.TYPE: 10, filters.VACANCY: 7,
             filters.STATUS: 10, filters.DATE: 10}
"""Characters each filter box is wide enough for."""

LIST_REFILL_MS = 300
"""The floor lists are rebuilt at most this often while the lookups change (pages arrive)."""

class SearchBox(QLineEdit):
    """The search field of a tab: Escape clears it; window shortcuts keep working in it.

    Args:
        passthrough: key sequences the window handles even while the box has focus
            (a line edit would take Ctrl+E as "end of line" on some platforms).
        parent: the Qt parent.
    """

    def __init__(
        self, passthrough: tuple[str, ...] = ("Ctrl+E",), parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self._passthrough = [QKeySequence(k) for k in passthrough]
        self.setToolTip(_tr(SEARCH_HELP))

    def sizeHint(self) -> QSize:
        """Room for a few words; it gives up to :data:`SEARCH_MIN_CHARS` when the window is
        narrow (a laptop screen with the details pane open)."""
        hint = super().sizeHint()
        return QSize(self.fontMetrics().averageCharWidth() * SEARCH_CHARS, hint.height())

    def minimumSizeHint(self) -> QSize:
        hint = super().minimumSizeHint()
        return QSize(self.fontMetrics().averageCharWidth() * SEARCH_MIN_CHARS, hint.height())

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ShortcutOverride and isinstance(event, QKeyEvent):
            pressed = QKeySequence(event.keyCombination())
            if any(pressed.matches(k) == QKeySequence.SequenceMatch.ExactMatch
                   for k in self._passthrough):
                event.ignore()  # not ours: the window's shortcut fires
                return False
            if event.key() == Qt.Key.Key_Escape and self.text():
                event.accept()  # ours while there is text to clear (not a dialog's Escape)
                return True
        return super().event(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Escape and self.text():
            self.clear()
            event.accept()
            return
        super().keyPressEvent(event)

class FilterCombo(QComboBox):
    """One filter: "All …" (data None) then the choices; ``before_popup`` refreshes the list
    when it opens (asset categories are read from the rows only then)."""

    def __init__(self, filter_id: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.filter_id = filter_id
        self.before_popup: Callable[[], None] | None = None
        # As wide as its longest short choice; a long floor name ("Level 3 — Two Highgate
        # Centre") elides in the box and shows whole in the wider list.
        self.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.setMinimumContentsLength(MIN_CHARS.get(filter_id, 10))
        self.setMaxVisibleItems(20)

    def showPopup(self) -> None:
        if self.before_popup is not None:
            self.before_popup()
        view = self.view()
        view.setMinimumWidth(max(self.width(), view.sizeHintForColumn(0) + 24))
        super().showPopup()

    @property
    def value(self) -> str:
        """The chosen value id; "" for All."""
        data = self.currentData()
        return "" if data is None else str(data)

    def choose(self, value: str) -> None:
        """Select ``value`` ("" for All) without a signal; a value not listed is added (a
        state set from outside shows what it holds)."""
        index = self.findData(value) if value else 0
        if index < 0:
            listed = [filters.Choice(str(self.itemData(i)), self.itemText(i))
                      for i in range(1, self.count())]
            self.fill(listed, keep=value)
            return
        self.blockSignals(True)
        self.setCurrentIndex(index)
        self.blockSignals(False)

    def fill(self, choices: list[filters.Choice], keep: str | None = None) -> None:
        """List "All …" and ``choices``, selecting ``keep`` (default: the current value); a
        value not among the choices stays listed, so a state set from outside shows."""
        wanted = self.value if keep is None else keep
        current = [(self.itemData(i), self.itemText(i)) for i in range(self.count())]
        label_of = dict(current)
        items: list[tuple[str | None, str]] = [(None, _tr(filters.ALL_LABELS[self.filter_id]))]
        items += [(c.value, c.label) for c in choices]
        if wanted and wanted not in {v for v, _ in items}:
            items.append((wanted, str(label_of.get(wanted) or wanted)))
        self.blockSignals(True)
        if items != current:
            self.clear()
            for value, label in items:
                self.addItem(label, value)
        index = self.findData(wanted) if wanted else 0
        self.setCurrentIndex(max(index, 0))
        self.blockSignals(False)

class FilterBar(QWidget):
    """The filters of one tab, in a row.

    Args:
        model: the tab's model (its view, rows, lookups and building filter).
        parent: the Qt parent.

    Signals:
        filters_changed(dict): the user (or :meth:`set_state`) changed the filters; the new
            state.
    """

    filters_changed = Signal(dict)

    def __init__(self, model: ResourceTableModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self.view: res.View = model.view
        self.lookups: Lookups = model.lookups
        self.setObjectName(f"{self.view.name}FilterBar")
        self.setAccessibleName(_tr(f"{self.view.title} filters"))
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.combos: dict[str, FilterCombo] = {}
        for filter_id in filters.VIEW_FILTERS.get(self.view.name, ()):
            combo = FilterCombo(filter_id, self)
            name = f"{self.view.name}{filter_id.capitalize()}Filter"
            combo.setObjectName(name)
            combo.setAccessibleName(name)
            combo.setAccessibleDescription(
                _tr(f"Show only {self.view.title.lower()} of one "
                    f"{filters.LABELS[filter_id].lower()}"))
            combo.setToolTip(_tr(f"{filters.LABELS[filter_id]}: show only the "
                                 f"{self.view.title.lower()} of one choice"))
            combo.currentIndexChanged.connect(self._on_combo_current_index_changed)
            if filter_id == filters.CATEGORY:
                combo.before_popup = lambda c=combo: self._refill(c)
            if filter_id == filters.VACANCY:  # its "All" does not say what it is about
                caption = QLabel(_tr("Vacancy:"), self)
                caption.setBuddy(combo)
                layout.addWidget(caption)
            layout.addWidget(combo)
            self.combos[filter_id] = combo
        self._building = model.building_filter
        self._refill_timer = QTimer(self)
        self._refill_timer.setSingleShot(True)
        self._refill_timer.setInterval(LIST_REFILL_MS)
        self._refill_timer.timeout.connect(self._on_refill_timer_timeout)
        self._stale = False  # names changed while hidden: refilled when next shown
        self.lookups.sig_changed.connect(self._on_lookups_sig_changed)
        model.modelReset.connect(self._on_model_reset)
        self.refill()

    def state(self) -> dict[str, str]:
        """Filter id → chosen value id, for the filters not on "All"."""
        return {fid: c.value for fid, c in self.combos.items() if c.value}

    def set_state(self, state: Mapping[str, str]) -> bool:
        """Choose these values (ids this view has no filter for are ignored; absent means
        All); True when anything changed. Emits :attr:`filters_changed` once if so."""
        before = self.state()
        for fid, combo in self.combos.items():
            # The lists stay as they are (rebuilding them reads every row for the asset
            # categories, a long block on 100k rows): only the choice moves.
            combo.choose(str(state.get(fid) or ""))
        after = self.state()
        if after != before:
            self.filters_changed.emit(after)
            return True
        return False

    def refill(self) -> None:
        """Rebuild every list from the lookups and the building, keeping the choices."""
        self._refill_timer.stop()
        self._stale = False
        for combo in self.combos.values():
            self._refill(combo)

    def _refill(self, combo: FilterCombo) -> None:
        combo.fill(self._choices(combo.filter_id))

    def _choices(self, filter_id: str) -> list[filters.Choice]:
        rows = self.model.all_rows() if filter_id == filters.CATEGORY else ()
        return filters.choices(
            self.view, filter_id, self.lookups, building=self.model.building_filter, rows=rows
        )

    # -- slots ------------------------------------------------------------------------------

    @Slot(int)
    def _on_combo_current_index_changed(self, _index: int) -> None:
        self.filters_changed.emit(self.state())

    @Slot(str)
    def _on_lookups_sig_changed(self, dataset: str) -> None:
        lookups = self.lookups
        if not (lookups.is_loaded(res.SITES.name) or lookups.is_loaded(res.LOCATIONS.name)):
            # Every name forgotten: the connection closed or changed, and its floors and
            # categories mean nothing in the next one (as the search is cleared then).
            if self.state():
                self.set_state({})
            return
        if filters.FLOOR in self.combos and dataset in (res.LOCATIONS.name, res.SITES.name):
            if not self._refill_timer.isActive():
                self._refill_timer.start()

    @Slot()
    def _on_refill_timer_timeout(self) -> None:
        if self.isVisible():
            self.refill()
        else:
            # Nobody sees these lists: rebuilt once, when the tab is shown (a first load
            # changes the floors' names every few pages, 50k places each time).
            self._stale = True

    def showEvent(self, event: QShowEvent) -> None:
        if self._stale:
            self.refill()
        super().showEvent(event)

    @Slot()
    def _on_model_reset(self) -> None:
        building = self.model.building_filter
        if building == self._building:
            return
        self._building = building
        floor = self.combos.get(filters.FLOOR)
        if floor is None:
            return
        # Another building: its floors, and no floor of the last one stays chosen.
        chosen = floor.value
        keep = chosen if chosen and (
            building is None or self.lookups.site_of(chosen) == building) else ""
        floor.fill(self._choices(filters.FLOOR), keep=keep)
        if keep != chosen:
            self.filters_changed.emit(self.state())
