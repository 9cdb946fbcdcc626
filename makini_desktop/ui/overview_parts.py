"""The Overview's pieces: a copyable figure table, a card (chart ⇄ table) and the bars and
table rows each chart is made of, from :mod:`makini_desktop.table.overview`'s figures.

The same functions give a chart its bars and its table twin its rows, so the numbers a
screen reader reads in the table are the numbers drawn.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QCoreApplication, QLocale, QPoint, Qt
from PySide6.QtGui import QGuiApplication, QKeyEvent, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMenu,
    QSizePolicy,
    QStackedWidget,
    QTableWidget,
    QTableWidgetItem,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from makini_desktop.api import resources as res
from makini_desktop.table import overview as ov
from makini_desktop.ui.charts import Bar, Segment

__all__ = [
    "Card",
    "FigureTable",
    "asset_bars",
    "asset_rows",
    "building_bars",
    "building_rows",
    "day_bars",
    "day_rows",
    "hour_bars",
    "hour_rows",
    "move_bars",
    "move_rows",
    "stack_bars",
    "stack_rows",
    "status_bars",
    "status_rows",
    "tr",
]

Cells = list[list[str]]


def tr(text: str) -> str:
    return QCoreApplication.translate("Overview", text)


def n(value: int) -> str:
    """A count with the locale's digit grouping."""
    return QLocale().toString(int(value))


VISIT_STATUS_LABELS = {
    "expected": "Expected", "on_site": "On site", "left": "Left", "no_show": "No-show",
}
VISIT_STATUS_TONES = {"expected": 1, "on_site": 0, "left": 3, "no_show": 2}
MOVE_STATUS_TONES = {"pending": 1, "approved": 0, "in_progress": 0, "completed": 3,
                     "rejected": 2, "cancelled": 3}


def move_status_label(code: str) -> str:
    return tr(code.replace("_", " ").capitalize()) if code else tr("No status")


class FigureTable(QTableWidget):
    """A read-only table of figures; Ctrl+C (and its menu) copies the selection as
    tab-separated text with the headers, ready to paste into a spreadsheet."""

    def __init__(self, object_name: str, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName(object_name)
        self.setAccessibleName(title)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setAlternatingRowColors(True)
        self.verticalHeader().hide()
        self.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.horizontalHeader().setStretchLastSection(True)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.customContextMenuRequested.connect(self._on_self_context_menu)

    def set_cells(self, headers: Sequence[str], rows: Cells, numeric_from: int = 1) -> None:
        """Show ``rows`` under ``headers``; columns from ``numeric_from`` on are right-aligned.

        The cells are updated in place: a recompute (every few seconds while lists load)
        keeps the user's selection and scroll position, and an unchanged header is not
        laid out again (its sections are sized to their contents).
        """
        if self.columnCount() != len(headers):
            self.setColumnCount(len(headers))
        if [self._header(c) for c in range(len(headers))] != list(headers):
            self.setHorizontalHeaderLabels(list(headers))
        if self.rowCount() != len(rows):
            self.setRowCount(len(rows))
        right = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
        for r, row in enumerate(rows):
            for c in range(len(headers)):
                text = row[c] if c < len(row) else ""
                item = self.item(r, c)
                if item is None:
                    item = QTableWidgetItem(text)
                    if c >= numeric_from:
                        item.setTextAlignment(right)
                    self.setItem(r, c, item)
                elif item.text() != text:
                    item.setText(text)

    def cells(self) -> Cells:
        """Every cell's text, row by row (what a copy of the whole table gives)."""
        return [[self._text(r, c) for c in range(self.columnCount())]
                for r in range(self.rowCount())]

    def copy_text(self) -> str:
        """The selection (or the whole table) as tab-separated lines, headers first."""
        ranges = self.selectedRanges()
        if ranges:
            rows = sorted({r for rg in ranges for r in range(rg.topRow(), rg.bottomRow() + 1)})
            cols = sorted({c for rg in ranges
                           for c in range(rg.leftColumn(), rg.rightColumn() + 1)})
        else:
            rows, cols = list(range(self.rowCount())), list(range(self.columnCount()))
        header = [self._header(c) for c in cols]
        lines = ["\t".join(header)]
        lines += ["\t".join(self._text(r, c) for c in cols) for r in rows]
        return "\n".join(lines)

    def copy(self) -> None:
        QGuiApplication.clipboard().setText(self.copy_text())

    def _header(self, column: int) -> str:
        item = self.horizontalHeaderItem(column)
        return "" if item is None else item.text()

    def _text(self, row: int, column: int) -> str:
        item = self.item(row, column)
        return "" if item is None else item.text()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.matches(QKeySequence.StandardKey.Copy):
            self.copy()
            event.accept()
            return
        super().keyPressEvent(event)

    def _on_self_context_menu(self, pos: QPoint) -> None:
        menu = QMenu(self)
        menu.addAction(tr("Copy"), self.copy)
        menu.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        menu.popup(self.viewport().mapToGlobal(pos))


class Card(QWidget):
    """A titled card: its charts, or (one toggle away) their tables with the same numbers.

    Args:
        name: the card's id (``occupancy``): the toggle is ``<name>Toggle``.
        title: the heading.
        charts: the chart widgets, top to bottom.
        tables: the tables, top to bottom.
        extra: widgets for the heading's row (a building chooser).
    """

    def __init__(self, name: str, title: str, charts: Sequence[QWidget],
                 tables: Sequence[QWidget], parent: QWidget | None = None,
                 extra: Sequence[QWidget] = ()) -> None:
        super().__init__(parent)
        self.setObjectName(f"{name}Card")
        self.setAccessibleName(title)
        self.heading = QLabel(f"<b>{title}</b>", self)
        self.heading.setObjectName(f"{name}Heading")
        self.heading.setAccessibleName(title)
        self.toggle = QToolButton(self)
        self.toggle.setObjectName(f"{name}Toggle")
        self.toggle.setCheckable(True)
        self.toggle.setText(tr("Show as table"))
        self.toggle.setAccessibleName(tr("Show {0} as a table").format(title.lower()))
        self.toggle.setToolTip(tr("Switch between the chart and a table of the same numbers"))
        self.toggle.toggled.connect(self._on_toggle_toggled)
        self.note = QLabel(self)
        self.note.setObjectName(f"{name}Note")
        self.note.setAccessibleName(tr("About {0}").format(title.lower()))
        self.note.setWordWrap(True)
        self.note.setEnabled(False)  # the dimmed text colour
        self.note.hide()
        top = QHBoxLayout()
        top.addWidget(self.heading)
        for widget in extra:
            top.addWidget(widget)
        top.addStretch(1)
        top.addWidget(self.toggle)
        self.pages = QStackedWidget(self)
        self.pages.setObjectName(f"{name}Pages")
        self.pages.setAccessibleName(title)
        chart_page, table_page = QWidget(self.pages), QWidget(self.pages)
        for page, widgets in ((chart_page, charts), (table_page, tables)):
            column = QVBoxLayout(page)
            column.setContentsMargins(0, 0, 0, 0)
            for widget in widgets:
                widget.setParent(page)
                column.addWidget(widget)
            self.pages.addWidget(page)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.note)
        layout.addWidget(self.pages)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)

    @property
    def showing_table(self) -> bool:
        return self.pages.currentIndex() == 1

    def _on_toggle_toggled(self, on: bool) -> None:
        self.pages.setCurrentIndex(1 if on else 0)
        self.toggle.setText(tr("Show as chart") if on else tr("Show as table"))


# -- occupancy --------------------------------------------------------------------------------

OCC_HEADERS = ("Seats", "Occupied", "Vacant", "% occupied", "Rooms", "Room places")


def _occ_cells(occ: ov.Occupancy) -> list[str]:
    return [n(occ.seats), n(occ.occupied), n(occ.vacant), occ.percent_text(),
            n(occ.rooms), n(occ.room_capacity)]


def _occ_text(occ: ov.Occupancy) -> str:
    """The figures beside a bar, short: the table twin and the tooltip have the rest."""
    return tr("{0} of {1} ({2})").format(n(occ.occupied), n(occ.seats), occ.percent_text())


def _occ_tip(occ: ov.Occupancy) -> str:
    rooms = tr("{0} rooms ({1} places)").format(n(occ.rooms), n(occ.room_capacity))
    return tr("{0} of {1} seats occupied ({2}), {3} vacant; {4}").format(
        n(occ.occupied), n(occ.seats), occ.percent_text(), n(occ.vacant), rooms)


def _occ_segments(occ: ov.Occupancy, hint: str) -> tuple[Segment, ...]:
    tip = _occ_tip(occ) + "\n" + hint
    return (
        Segment("occupied", tr("Occupied seats"), occ.occupied, 0, tip),
        Segment("vacant", tr("Vacant seats"), occ.vacant, 1, tip),
    )


OCC_LEGEND = ((0, "Occupied seats"), (1, "Vacant seats"))


def building_bars(figures: ov.Overview) -> list[Bar]:
    hint = tr("Click to see its floors in the stack")
    return [Bar(b.key, b.name, _occ_segments(b.occupancy, hint), _occ_text(b.occupancy))
            for b in figures.buildings]


def building_rows(figures: ov.Overview) -> tuple[list[str], Cells]:
    rows = [[b.name, *_occ_cells(b.occupancy)] for b in figures.buildings]
    if len(figures.buildings) > 1:
        rows.append([tr("All buildings"), *_occ_cells(figures.occupancy)])
    return [tr("Building"), *map(tr, OCC_HEADERS)], rows


def _floor_label(floor: ov.FloorFigures) -> str:
    return floor.name or floor.key


def stack_bars(building: ov.BuildingFigures | None) -> list[Bar]:
    if building is None:
        return []
    hint = tr("Click to list these spaces of the floor")
    return [Bar(f.key, _floor_label(f), _occ_segments(f.occupancy, hint),
                _occ_text(f.occupancy)) for f in building.stack()]


def stack_rows(building: ov.BuildingFigures | None) -> tuple[list[str], Cells]:
    floors = () if building is None else building.stack()
    rows = [[_floor_label(f), "" if f.level is None else str(f.level), *_occ_cells(f.occupancy)]
            for f in floors]
    return [tr("Floor"), tr("Level"), *map(tr, OCC_HEADERS)], rows


# -- visitors ---------------------------------------------------------------------------------

HOUR_LEGEND = ((1, "Expected"), (0, "Arrived"))
STATUS_LEGEND = ((-1, "Today by status (on site: checked in now)"),)
DAY_LEGEND = ((0, "Open moves scheduled per day, next 14 days"),)


def _hour_label(hour: int) -> str:
    return f"{hour:02d}:00"


def hour_bars(figures: ov.Overview) -> list[Bar]:
    out = []
    for hour, expected, arrived in figures.visitors.busy_hours():
        label = _hour_label(hour)
        out.append(Bar(str(hour), label, (
            Segment("expected", tr("Expected"), expected, 1,
                    tr("{0} expected {1}–{2:02d}:00").format(n(expected), label, (hour + 1) % 24)),
            Segment("arrived", tr("Arrived"), arrived, 0,
                    tr("{0} arrived {1}–{2:02d}:00").format(n(arrived), label, (hour + 1) % 24)),
        )))
    return out


def hour_rows(figures: ov.Overview) -> tuple[list[str], Cells]:
    rows = [[f"{_hour_label(h)}–{(h + 1) % 24:02d}:00", n(e), n(a)]
            for h, e, a in figures.visitors.busy_hours()]
    return [tr("Hour"), tr("Expected"), tr("Arrived")], rows


def status_bars(figures: ov.Overview) -> list[Bar]:
    out = []
    for code in ov.VISIT_STATUS_IDS:
        count = figures.visitors.by_status.get(code, 0)
        label = tr(VISIT_STATUS_LABELS[code])
        out.append(Bar(code, label, (Segment(code, label, count, VISIT_STATUS_TONES[code],
                                             f"{label}: {n(count)}"),), n(count)))
    return out


def status_rows(figures: ov.Overview) -> tuple[list[str], Cells]:
    rows = [[tr(VISIT_STATUS_LABELS[c]), n(figures.visitors.by_status.get(c, 0))]
            for c in ov.VISIT_STATUS_IDS]
    return [tr("Status"), tr("Visitors")], rows


# -- moves ------------------------------------------------------------------------------------


def move_bars(figures: ov.Overview) -> list[Bar]:
    out = []
    for code, count in figures.moves.by_status.items():
        label = move_status_label(code)
        out.append(Bar(code, label, (Segment(code, label, count, MOVE_STATUS_TONES.get(code, 3),
                                             tr("{0}: {1} moves").format(label, n(count))),),
                       n(count)))
    return out


def move_rows(figures: ov.Overview) -> tuple[list[str], Cells]:
    rows = [[move_status_label(c), n(k)] for c, k in figures.moves.by_status.items()]
    return [tr("Status"), tr("Moves")], rows


def _day_label(day: object) -> str:
    from datetime import date

    assert isinstance(day, date)
    return f"{day.day} {QLocale().monthName(day.month, QLocale.FormatType.ShortFormat)}"


def day_bars(figures: ov.Overview) -> list[Bar]:
    return [Bar(day.isoformat(), _day_label(day), (
        Segment("scheduled", tr("Scheduled"), count, 0,
                tr("{0} open moves scheduled on {1}").format(n(count), day.isoformat())),))
            for day, count in figures.moves.by_day]


def day_rows(figures: ov.Overview) -> tuple[list[str], Cells]:
    rows = [[day.isoformat(), n(count)] for day, count in figures.moves.by_day]
    return [tr("Day"), tr("Open moves scheduled")], rows


# -- assets -----------------------------------------------------------------------------------

ASSET_LEGEND = ((0, "Audited in the last 12 months"), (2, "Not audited for 12 months or more"))


ASSET_CHART_CATEGORIES = 12
"""The chart draws the largest categories and one bar for the rest; the table has them all."""
OTHER_CATEGORIES = "\0other"


def asset_bars(figures: ov.Overview) -> list[Bar]:
    out: list[Bar] = []
    shown = list(figures.assets.by_category)
    if len(shown) > ASSET_CHART_CATEGORIES:
        rest = shown[ASSET_CHART_CATEGORIES - 1:]
        shown = shown[:ASSET_CHART_CATEGORIES - 1]
        label = tr("{0} other categories").format(len(rest))
        shown.append((label, sum(t for _c, t, _s in rest), sum(s for _c, _t, s in rest)))
    for category, total, stale in shown:
        fresh = total - stale
        key = OTHER_CATEGORIES if len(out) == ASSET_CHART_CATEGORIES - 1 else category
        out.append(Bar(key, category, (
            Segment("audited", tr("Audited"), fresh, 0,
                    tr("{0} audited in the last 12 months").format(n(fresh))),
            Segment("not_audited", tr("Not audited"), stale, 2,
                    tr("{0} not audited for 12 months or more").format(n(stale))),
        ), tr("{0} assets, {1} not audited for 12 months").format(n(total), n(stale))))
    return out


def asset_rows(figures: ov.Overview) -> tuple[list[str], Cells]:
    a = figures.assets
    rows = [[c, n(t), n(s), n(t - s)] for c, t, s in a.by_category]
    rows.append([tr("All categories"), n(a.total), n(a.not_audited), n(a.total - a.not_audited)])
    return [tr("Category"), tr("Assets"), tr("Not audited 12 months+"),
            tr("Audited in 12 months")], rows


ROUTABLE_VISIT_STATUS = {"expected": res.VISIT_EXPECTED, "on_site": res.VISIT_ON_SITE,
                         "left": res.VISIT_LEFT, "no_show": res.VISIT_NO_SHOW}
"""The front desk's statuses as the Visitors list's status codes."""
