"""The Overview tab: occupancy, the stack of floors, the front desk's day, the move pipeline
and the asset audit, for the active connection and the building filter.

Figures come from the rows the tabs hold (:mod:`makini_desktop.table.overview`, computed in
a worker thread), so the overview works offline from the cache and follows every list: a
change to a list recomputes it (debounced; while the tab is hidden, when it is next shown).
Each chart has a table twin one toggle away, and a click on a bar emits
:attr:`OverviewTab.sig_open_list`; :func:`route_to_list` opens the matching list.

:func:`install_overview` puts the tab first in the window and adds its actions; the window
calls it once (see :mod:`makini_desktop.ui.overview_actions` for export, print and the
roster).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import shiboken6
from PySide6.QtCore import QObject, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QComboBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QScrollArea,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from makini_desktop.api import resources as res
from makini_desktop.sync.tab_status import Phase
from makini_desktop.sync.tasks import TaskSlots
from makini_desktop.table import overview as ov
from makini_desktop.ui import overview_parts as parts
from makini_desktop.ui.charts import BarChart, ChartBase, StripChart
from makini_desktop.ui.overview_parts import Card, FigureTable, tr

if TYPE_CHECKING:
    from makini_desktop.ui.controllers import Workspace
    from makini_desktop.ui.main_window import MainWindow

__all__ = [
    "FIGURE_VIEWS",
    "LOADING_DELAY_MS",
    "RECOMPUTE_DELAY_MS",
    "OverviewTab",
    "install_overview",
    "known_floors",
    "overview_input",
    "route_to_list",
]

RECOMPUTE_DELAY_MS = 250
"""A burst of list changes recomputes the overview once."""
LOADING_DELAY_MS = 1500
"""While a list loads (pages arriving), the overview follows it this often, leaving the
interpreter to the load."""
LOADING_COST_SHARE = 8
"""...or, when the last recompute (figures and repaint) took longer, at most once per this
many times its cost: the figures of 175k rows cost a loaded 2-core machine 0.3-0.5 s, and
every 1.5 s that was a fifth of a first load's interpreter time."""
LOADING_MAX_DELAY_MS = 6000
"""However slow a recompute, the overview follows a loading list at least this often."""
FIGURE_VIEWS: tuple[str, ...] = ("spaces", "visitors", "moves", "assets")
"""The lists the figures are computed from."""
_PARTS = {"spaces": "spaces", "visits": "visitors", "moves": "moves", "assets": "assets"}
"""Each list of :class:`~makini_desktop.table.overview.OverviewInput` and its tab's view."""
ON_SITE_VIEW = "On site now"
"""The Visitors tab's saved view the "on site" bar opens."""


def known_floors(workspace: Workspace) -> list[ov.FloorInfo]:
    """The floors the lookups know, lowest level first."""
    lookups = workspace.lookups
    names = lookups.names(res.LOCATIONS.name)
    return [ov.FloorInfo(k, lookups.site_of(k), names.get(k, ""), lookups.level(k))
            for k in lookups.floors()]


def overview_input(workspace: Workspace, building: str | None, now: datetime | None = None,
                   floors: list[ov.FloorInfo] | None = None) -> ov.OverviewInput:
    """What the figures are computed from, for a worker thread: the lists the tables hold
    (references: :func:`~makini_desktop.table.overview.compute` copies them in the thread,
    so the GUI thread does not walk 100k rows), the floors and the building names."""
    models = workspace.models
    indexes = {part: models[view].row_index for part, view in _PARTS.items()}
    return ov.OverviewInput(
        spaces=indexes["spaces"].rows,
        floors=known_floors(workspace) if floors is None else floors,
        sites=dict(workspace.lookups.names(res.SITES.name)),
        visits=indexes["visits"].rows,
        moves=indexes["moves"].rows,
        assets=indexes["assets"].rows,
        building=building,
        now=now or datetime.now(UTC),
        versions={part: index.version for part, index in indexes.items()},
    )


class OverviewTab(QWidget):
    """The Overview tab.

    Args:
        workspace: the connection's workspace (its models hold the rows).
        building_filter: the toolbar's building filter (its data: a building key or None).
        parent: the Qt parent.

    Signals:
        sig_open_list(str, object, str): open a list: the tab's view name, the filter state
            (filter id → value), and the saved view to choose ("" for none).
        sig_computed: new figures are shown.
    """

    sig_open_list = Signal(str, object, str)
    sig_computed = Signal()

    def __init__(self, workspace: Workspace, building_filter: QComboBox,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.workspace = workspace
        self.building_filter = building_filter
        self.figures: ov.Overview | None = None
        self.overview_actions: Any = None  # set by install_overview
        self.setObjectName("overviewTab")
        self.setAccessibleName(tr("Overview"))
        self._tasks = TaskSlots()
        self._dirty = True
        # Each list's figures, reused while that list is unchanged (see OverviewCache).
        self._cache = ov.OverviewCache()
        self._cost = 0.0  # seconds the last recompute took, figures and repaint
        self._setup_ui()
        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(RECOMPUTE_DELAY_MS)
        self._debounce.timeout.connect(self._on_debounce_timeout)
        self._clock = QTimer(self)
        self._clock.setInterval(30_000)
        self._clock.timeout.connect(self.refresh_freshness)
        self._clock.start()
        for name in FIGURE_VIEWS:
            model = workspace.models[name]
            for signal in (model.modelReset, model.rowsInserted, model.rowsRemoved,
                           model.dataChanged, model.sig_counts_changed):
                signal.connect(self.schedule)
            # A load that ends may have changed rows no filter shows (no row signal).
            workspace.tabs[name].sig_status_changed.connect(self._on_controller_sig_status_changed)
        workspace.lookups.sig_changed.connect(self._on_lookups_sig_changed)
        self._floors: list[ov.FloorInfo] | None = None  # known_floors(), until names change
        building_filter.currentIndexChanged.connect(self._on_building_filter_changed)
        self.refresh_freshness()
        # Its empty figures are drawn when it is first shown (showEvent): a start on another
        # tab paints its rows without them.

    # -- construction -----------------------------------------------------------------------

    def _setup_ui(self) -> None:
        self.heading = QLabel(self)
        self.heading.setObjectName("overviewHeading")
        self.heading.setAccessibleName(tr("Overview of"))
        self.freshness = QLabel(self)
        self.freshness.setObjectName("overviewFreshness")
        self.freshness.setAccessibleName(tr("How fresh the overview's data is"))
        self.tools = QHBoxLayout()
        self.tools.setSpacing(self.fontMetrics().averageCharWidth())

        self.occupancy_chart = BarChart("occupancyChart", tr("Seats per building"))
        self.occupancy_chart.empty_text = tr("No seats in the spaces held")
        self.occupancy_table = FigureTable("occupancyTable", tr("Seats per building"))
        self.stack_building = QComboBox()
        self.stack_building.setObjectName("stackBuilding")
        self.stack_building.setAccessibleName(tr("Building of the stack"))
        self.stack_building.currentIndexChanged.connect(self._on_stack_building_changed)
        self.stack_chart = BarChart("stackChart", tr("Floors, top floor first"))
        self.stack_chart.empty_text = tr("No floors known for this building")
        self.stack_table = FigureTable("stackTable", tr("Floors, top floor first"))
        self.visitors_chart = StripChart("visitorsTodayChart", tr("Visitors today by hour"))
        self.visitors_status_chart = BarChart("visitorsStatusChart",
                                              tr("Visitors today by status"))
        self.visitors_table = FigureTable("visitorsTodayTable", tr("Visitors today by hour"))
        self.visitors_status_table = FigureTable("visitorsStatusTable",
                                                 tr("Visitors today by status"))
        self.moves_chart = BarChart("movesPipelineChart", tr("Moves by status"))
        self.moves_day_chart = StripChart("movesByDayChart",
                                          tr("Open moves scheduled in the next 14 days"))
        self.moves_table = FigureTable("movesPipelineTable", tr("Moves by status"))
        self.moves_day_table = FigureTable("movesByDayTable",
                                           tr("Open moves scheduled in the next 14 days"))
        self.assets_chart = BarChart("assetsAuditChart", tr("Assets by category and audit"))
        self.assets_table = FigureTable("assetsAuditTable", tr("Assets by category and audit"))

        self.cards = {
            "occupancy": Card("occupancy", tr("Occupancy"), [self.occupancy_chart],
                              [self.occupancy_table]),
            "stack": Card("stack", tr("Stack"), [self.stack_chart], [self.stack_table],
                          extra=[self.stack_building]),
            "visitorsToday": Card("visitorsToday", tr("Visitors today"),
                                  [self.visitors_chart, self.visitors_status_chart],
                                  [self.visitors_table, self.visitors_status_table]),
            "movesPipeline": Card("movesPipeline", tr("Moves"),
                                  [self.moves_chart, self.moves_day_chart],
                                  [self.moves_table, self.moves_day_table]),
            "assetsAudit": Card("assetsAudit", tr("Assets and audits"), [self.assets_chart],
                                [self.assets_table]),
        }
        for chart in self.charts():
            chart.sig_activated.connect(self._on_chart_sig_activated)

        self.content = QWidget()
        self.content.setObjectName("overviewContent")
        self.content.setAccessibleName(tr("Overview"))
        grid = QVBoxLayout(self.content)
        top = QHBoxLayout()
        top.addWidget(self.heading)
        top.addStretch(1)
        top.addWidget(self.freshness)
        top.addLayout(self.tools)
        grid.addLayout(top)
        top_aligned = Qt.AlignmentFlag.AlignTop
        for pair in (("occupancy", "stack"), ("visitorsToday", "movesPipeline")):
            row = QHBoxLayout()
            for name in pair:
                row.addWidget(self.cards[name], 1, top_aligned)
            grid.addLayout(row)
        grid.addWidget(self.cards["assetsAudit"])
        grid.addStretch(1)
        self.scroll_area = QScrollArea(self)
        self.scroll_area.setObjectName("overviewScroll")
        self.scroll_area.setAccessibleName(tr("Overview"))
        self.scroll_area.setWidgetResizable(True)
        self.scroll_area.setFrameShape(QFrame.Shape.NoFrame)
        self.scroll_area.setWidget(self.content)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.scroll_area)

    def add_tool(self, button: QToolButton) -> None:
        """A button in the overview's heading row (export, print, the roster)."""
        button.setParent(self.content)
        self.tools.addWidget(button)

    def charts(self) -> list[ChartBase]:
        return [self.occupancy_chart, self.stack_chart, self.visitors_chart,
                self.visitors_status_chart, self.moves_chart, self.moves_day_chart,
                self.assets_chart]

    def tables(self) -> list[FigureTable]:
        return [self.occupancy_table, self.stack_table, self.visitors_table,
                self.visitors_status_table, self.moves_table, self.moves_day_table,
                self.assets_table]

    # -- computing --------------------------------------------------------------------------

    @property
    def building(self) -> str | None:
        data = self.building_filter.currentData()
        return None if data is None else str(data)

    @Slot()
    def schedule(self, *_args: Any) -> None:
        """A list changed: recompute soon (when shown), once for a burst of changes."""
        self._dirty = True
        if not self.isVisible():
            return
        tabs = self.workspace.tabs
        delay = RECOMPUTE_DELAY_MS
        if any(tabs[n].status.busy for n in FIGURE_VIEWS):
            delay = min(LOADING_MAX_DELAY_MS, max(
                LOADING_DELAY_MS, int(self._cost * 1000 * LOADING_COST_SHARE)))
        timer = self._debounce
        if not timer.isActive() or timer.remainingTime() > delay:
            timer.start(delay)

    def recompute_now(self) -> asyncio.Task[None] | None:
        """Recompute at once (in a worker thread when an event loop runs; else inline)."""
        self._debounce.stop()
        self._dirty = False
        if self._floors is None:
            self._floors = known_floors(self.workspace)
        inp = overview_input(self.workspace, self.building, floors=self._floors)
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            self._show(ov.compute(inp, self._cache))
            return None
        return self._tasks.start("compute", self._compute(inp))

    async def _compute(self, inp: ov.OverviewInput) -> None:
        started = time.perf_counter()
        figures = await asyncio.to_thread(ov.compute, inp, self._cache)
        if shiboken6.isValid(self):
            self._show(figures)
            self._cost = time.perf_counter() - started

    async def ensure_current(self) -> ov.Overview:
        """The figures for the rows held right now (an export, a print: always recomputed,
        which counts again only the lists changed since the last time)."""
        task = self.recompute_now()
        if task is not None:
            await asyncio.wait([task])
        if self.figures is None:  # never shown, and a newer call replaced this compute
            self._show(ov.compute(overview_input(self.workspace, self.building), self._cache))
        assert self.figures is not None
        return self.figures

    def _show(self, figures: ov.Overview) -> None:
        self.figures = figures
        name = self.building_filter.currentText() if figures.building else tr("All buildings")
        self.heading.setText(f"<b>{tr('Overview')}</b> — {name}")
        self.occupancy_chart.set_bars(parts.building_bars(figures), parts.OCC_LEGEND)
        self.occupancy_table.set_cells(*parts.building_rows(figures))
        self._fill_stack_building(figures)
        self._show_stack()
        self.visitors_chart.set_bars(parts.hour_bars(figures), parts.HOUR_LEGEND)
        self.visitors_table.set_cells(*parts.hour_rows(figures))
        self.visitors_status_chart.set_bars(parts.status_bars(figures), parts.STATUS_LEGEND)
        self.visitors_status_table.set_cells(*parts.status_rows(figures))
        self.moves_chart.set_bars(parts.move_bars(figures))
        self.moves_table.set_cells(*parts.move_rows(figures))
        self.moves_day_chart.set_bars(parts.day_bars(figures), parts.DAY_LEGEND)
        self.moves_day_table.set_cells(*parts.day_rows(figures))
        self.assets_chart.set_bars(parts.asset_bars(figures), parts.ASSET_LEGEND)
        self.assets_table.set_cells(*parts.asset_rows(figures))
        cutoff = figures.assets.cutoff.astimezone().date().isoformat()
        note = self.cards["assetsAudit"].note
        note.setText(tr("Not audited: no audit recorded since {0}, or none at all.").format(cutoff))
        note.show()
        self.refresh_freshness()
        self.sig_computed.emit()

    def _fill_stack_building(self, figures: ov.Overview) -> None:
        combo = self.stack_building
        keep = combo.currentData()
        combo.blockSignals(True)
        combo.clear()
        for b in figures.buildings:
            combo.addItem(b.name, b.key)
        index = combo.findData(keep) if keep is not None else -1
        combo.setCurrentIndex(max(index, 0))
        combo.blockSignals(False)
        combo.setVisible(len(figures.buildings) > 1)

    def stack_figures(self) -> ov.BuildingFigures | None:
        """The building the stack shows (the filter's, else the one chosen beside it)."""
        if self.figures is None:
            return None
        return self.figures.building_figures(self.stack_building.currentData())

    def _show_stack(self) -> None:
        building = self.stack_figures()
        self.stack_chart.set_bars(parts.stack_bars(building), parts.OCC_LEGEND)
        self.stack_table.set_cells(*parts.stack_rows(building), numeric_from=1)
        title = tr("Stack") if building is None else tr("Stack of {0}").format(building.name)
        self.cards["stack"].heading.setText(f"<b>{title}</b>")

    # -- freshness --------------------------------------------------------------------------

    @Slot()
    def refresh_freshness(self) -> None:
        """Say how fresh the lists behind the figures are: the stalest list's status text
        (the tabs' own words), every list's in the tooltip."""
        tabs = self.workspace.tabs
        statuses = [(tabs[n].view.title, tabs[n].status) for n in FIGURE_VIEWS]
        used = [(t, s) for t, s in statuses if s.phase is not Phase.UNAVAILABLE]
        if not used or all(s.phase is Phase.IDLE for _t, s in used):
            self.freshness.setText(tr("No data yet"))
            self.freshness.setToolTip("")
            return
        if all(s.phase is Phase.UP_TO_DATE for _t, s in used):
            oldest = min(used, key=lambda ts: ts[1].synced_at or datetime.min.replace(tzinfo=UTC))
            text = oldest[1].text()
        else:
            def rank(ts: tuple[str, Any]) -> tuple[int, datetime]:
                status = ts[1]
                settled = status.phase is Phase.UP_TO_DATE
                when = status.synced_at or datetime.min.replace(tzinfo=UTC)
                return (1 if settled else 0, when)

            title, status = min(used, key=rank)
            text = f"{title}: {status.text()}"
        self.freshness.setText(text)
        self.freshness.setToolTip("\n".join(f"{t}: {s.text()}" for t, s in statuses))

    # -- slots ------------------------------------------------------------------------------

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self.figures is None:  # first shown: its headings and axes until the figures
            self._show(ov.compute(ov.OverviewInput()))
        if self._dirty:
            self._debounce.start(0)

    @Slot()
    def _on_debounce_timeout(self) -> None:
        if self.isVisible():  # hidden since it was scheduled: showEvent recomputes
            self.recompute_now()

    @Slot()
    def _on_controller_sig_status_changed(self) -> None:
        self.refresh_freshness()
        self.schedule()

    @Slot(str)
    def _on_lookups_sig_changed(self, _dataset: str) -> None:
        self._floors = None
        self.schedule()

    @Slot(int)
    def _on_building_filter_changed(self, _index: int) -> None:
        self.schedule()

    @Slot(int)
    def _on_stack_building_changed(self, _index: int) -> None:
        self._show_stack()

    @Slot(str, str)
    def _on_chart_sig_activated(self, bar_id: str, segment_id: str) -> None:
        sender = self.sender()
        if sender is self.occupancy_chart:
            index = self.stack_building.findData(bar_id)
            if index >= 0:  # a building's bar: its stack of floors beside it
                self.stack_building.setCurrentIndex(index)
        elif sender is self.stack_chart:
            self.sig_open_list.emit("spaces", {"floor": bar_id, "vacancy": segment_id}, "")
        elif sender is self.visitors_status_chart:
            status = parts.ROUTABLE_VISIT_STATUS[bar_id]
            preset = ON_SITE_VIEW if bar_id == "on_site" else ""
            filters = {"status": status} if preset else {"status": status, "date": "today"}
            self.sig_open_list.emit("visitors", filters, preset)
        elif sender is self.moves_chart:
            self.sig_open_list.emit("moves", {"status": bar_id}, "")
        elif sender is self.assets_chart and bar_id != parts.OTHER_CATEGORIES:
            self.sig_open_list.emit("assets", {"category": bar_id}, "")


# -- the window's side ------------------------------------------------------------------------


def _search_words(window: MainWindow, view_name: str, filters: Mapping[str, str]) -> str:
    """What the search box can say of a filter state until the tab has filters: a floor's
    name, a status's label, a category."""
    words = []
    floor = filters.get("floor")
    if floor:
        words.append(window.workspace.lookups.name(res.LOCATIONS.name, floor) or "")
    status = filters.get("status")
    if status:
        words.append(status.replace("_", " ").capitalize())
    category = filters.get("category")
    if category:
        words.append(category)
    return " ".join(w for w in words if w)


def route_to_list(window: MainWindow, view_name: str, filters: Mapping[str, str],
                  preset: str = "") -> bool:
    """Open a list filtered as a chart's bar says: show its tab, then choose the saved view
    ``preset`` (the window's saved views, when it has that one), else apply ``filters`` with
    the tab's ``apply_filter_state``, else (a tab without filters) put what it can in the
    search box.

    Returns:
        False when the window has no such tab.
    """
    tab = window.tabs.get(view_name)
    if tab is None:
        return False
    window.resource_tabs.setCurrentWidget(tab)
    views = window.findChild(QObject, "savedViews")  # the window's saved views, if any
    select = getattr(views, "select", None)
    if preset and callable(select):
        try:
            select(view_name, preset)
            return True
        except KeyError:  # no such view (renamed, another version): the filters say it
            pass
    apply = getattr(tab, "apply_filter_state", None)
    if callable(apply):
        apply(dict(filters))
        # The rows behind the bar, no more: a search left in the box would hide some. A
        # category has no filter box: the search's field term says it.
        category = filters.get("category")
        phrase = category.replace('"', " ") if category else ""
        text = f'category:"{phrase}"' if phrase else ""
        if tab.search.text() != text:
            tab.search.setText(text)
            tab.apply_search_now()
        return True
    tab.search.setText(_search_words(window, view_name, filters))
    tab.apply_search_now()
    return True


def install_overview(window: MainWindow) -> OverviewTab:
    """Put the Overview first in the window's tabs, with its actions (export, print, the
    on-site roster) in the File menu, the overview and the Visitors tab."""
    from makini_desktop.ui.overview_actions import OverviewActions

    tab = OverviewTab(window.workspace, window.building_filter, window.resource_tabs)
    window.resource_tabs.insertTab(0, tab, tr("Overview"))
    tab.sig_open_list.connect(
        lambda view, filters, preset: route_to_list(window, view, filters, preset))
    tab.overview_actions = OverviewActions(window, tab)
    return tab
