"""The main window: one tab per resource view, a connection switcher and a status bar.

Widgets only: loading is done by :class:`~makini_desktop.ui.controllers.Workspace` and its
tab controllers, which tests drive directly. The window assembles the rooms around it and
wires them to the workspace:

* :mod:`~makini_desktop.ui.resource_tab`: one tab (search, count, status, the table of
  :mod:`~makini_desktop.ui.table_view`);
* :mod:`~makini_desktop.ui.banner`: the offline banner and the cache notice;
* :mod:`~makini_desktop.ui.window_actions`: the actions, menus and toolbar;
* :mod:`~makini_desktop.ui.window_layout`: the layout kept in QSettings between sessions;
* :mod:`~makini_desktop.ui.tab_export`: File → Export;
* :mod:`~makini_desktop.ui.detail_pane` and :mod:`~makini_desktop.ui.detail_nav`: the
  detail pane, its links, Back and Forward;
* :mod:`~makini_desktop.ui.connection_glue`: the connection manager and Reconnect….

What stays here is the window itself: switching connections (the switcher), the building
filter, the status bar, and closing.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

import shiboken6
from PySide6.QtCore import QEvent, QSettings, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QLabel,
    QMainWindow,
    QStyle,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from makini_desktop.api import resources as res
from makini_desktop.api.errors import MakiniError
from makini_desktop.store.profiles import ProfileError, ProfileStore
from makini_desktop.store.secrets import TokenStore
from makini_desktop.sync.connectivity import Reach
from makini_desktop.sync.notify import Level, Message
from makini_desktop.sync.session import ConnectionInfo, Session
from makini_desktop.ui import desk
from makini_desktop.ui.banner import Banner, OfflineBanner
from makini_desktop.ui.connection_glue import ConnectionGlue
from makini_desktop.ui.controllers import Workspace
from makini_desktop.ui.detail_nav import DetailNavigator
from makini_desktop.ui.detail_pane import DetailPane
from makini_desktop.ui.error_reporter import ErrorReporter
from makini_desktop.ui.notifier import weak_listener
from makini_desktop.ui.overview_tab import install_overview
from makini_desktop.ui.resource_tab import ResourceTab
from makini_desktop.ui.tab_export import TabExporter
from makini_desktop.ui.table_view import ResourceTableView
from makini_desktop.ui.window_actions import UNSAVED_DATA, WindowActions, open_about_box
from makini_desktop.ui.window_layout import (
    WORK_OFFLINE_KEY,
    open_settings,
    restore_layout,
    save_layout,
)

log = logging.getLogger(__name__)

APP_TITLE = "makini-desktop"
DEMO_BADGE_TEXT = "Demo data"
RELATIVE_TIME_REFRESH_MS = 30_000


STATUS_MESSAGE_MS = {Level.INFO: 8_000, Level.WARNING: 10_000, Level.ERROR: 15_000}
"""How long the status bar shows a message that is not lasting."""


class MainWindow(QMainWindow):
    """The main window.

    Args:
        profiles: the saved connections.
        tokens: where their tokens are.
        settings: where the layout is kept (default: :func:`open_settings`).
        session_factory: builds sessions (tests may substitute one).
        show_error_dialogs: False to only record errors (headless runs).
        parent: the Qt parent.

    Signals:
        sig_closed: the window was closed (the app shuts down).
    """

    sig_closed = Signal()

    def __init__(
        self,
        profiles: ProfileStore,
        tokens: TokenStore,
        *,
        settings: QSettings | None = None,
        session_factory: Callable[..., Session] = Session,
        show_error_dialogs: bool = True,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.profiles = profiles
        self.tokens = tokens
        self.settings = settings if settings is not None else open_settings()
        self.views = [res.VIEWS[name] for name in res.TAB_VIEWS]
        self.workspace = Workspace(self.views, session_factory=session_factory, parent=self)
        self.reporter = ErrorReporter(self, show_dialogs=show_error_dialogs)
        self.connections = ConnectionGlue(self)
        self.tabs: dict[str, ResourceTab] = {}
        self.exporter = TabExporter(self, self.workspace.models, self.tell)
        self._quit_confirmed = False  # the manager's unsaved connection was dealt with
        self.setObjectName("mainWindow")
        self.setAccessibleName("makini-desktop")
        self._setup_ui()
        self._setup_actions()
        self.desk = desk.install(self)  # front desk, move desk, the outbox
        self.overview = install_overview(self)  # first tab; its actions in the menus
        restore_layout(self)
        self.resource_tabs.currentChanged.connect(self._on_resource_tabs_current_changed)
        self._on_resource_tabs_current_changed(self.resource_tabs.currentIndex())
        self.workspace.sig_state_changed.connect(self._on_workspace_sig_state_changed)
        self.workspace.sig_error.connect(self._on_workspace_sig_error)
        self.workspace.sig_connection_changed.connect(self._on_workspace_sig_connection_changed)
        self.workspace.sig_reach_changed.connect(self._on_workspace_sig_reach_changed)
        for controller in self.workspace.tabs.values():
            # The banner names when the data shown was cached: it follows the tabs.
            controller.sig_status_changed.connect(self._on_controller_sig_status_changed)
        self.workspace.sig_notice.connect(self._on_workspace_sig_notice)
        # The status bar shows what the window has to say: it hears the bus, like the
        # banner (the workspace's notices) and the error dialogs (its errors).
        self._status_listener = weak_listener(self, self.workspace.notifier)
        self.workspace.lookups.sig_changed.connect(self._on_lookups_sig_changed)
        self.reporter.sig_reconnect.connect(self.connections.reconnect)
        self._clock = QTimer(self)
        self._clock.setInterval(RELATIVE_TIME_REFRESH_MS)
        self._clock.timeout.connect(self._on_clock_timeout)
        self._clock.start()
        self._update_connection_ui()
        self._on_workspace_sig_state_changed()
        self._on_workspace_sig_reach_changed()

    # -- construction -----------------------------------------------------------------------

    def _setup_ui(self) -> None:
        self.setWindowTitle(APP_TITLE)
        self.resource_tabs = QTabWidget(self)
        self.resource_tabs.setObjectName("resourceTabs")
        self.resource_tabs.setAccessibleName("Resources")
        self.resource_tabs.setDocumentMode(True)
        for view in self.views:
            tab = ResourceTab(self.workspace.tabs[view.name], self.resource_tabs)
            self.tabs[view.name] = tab
            self.resource_tabs.addTab(tab, view.title)

        # Offline is said here, once for the whole window; never a dialog per tab.
        self.offline_banner = OfflineBanner(self)
        self.try_now_button = self.offline_banner.try_now_button
        self.try_now_button.clicked.connect(self._on_try_now_button_clicked)
        self.reconnect_button = self.offline_banner.reconnect_button
        self.reconnect_button.clicked.connect(self._on_reconnect_button_clicked)
        self.cache_notice = Banner("cacheNotice", "Offline copy notice", "information", self)
        dismiss = self.cache_notice.add_button("Dismiss", "cacheNoticeDismiss", "Dismiss notice")
        dismiss.clicked.connect(self.cache_notice.hide)
        dismiss.clicked.connect(self._update_banner_area)

        self.banner_area = QWidget(self)
        self.banner_area.setObjectName("bannerArea")
        self.banner_area.setAccessibleName("Messages")
        banners = QVBoxLayout(self.banner_area)
        margin = self.style().pixelMetric(QStyle.PixelMetric.PM_LayoutTopMargin) // 2
        banners.setContentsMargins(margin, margin, margin, 0)
        banners.setSpacing(margin)
        banners.addWidget(self.offline_banner)
        banners.addWidget(self.cache_notice)
        self.banner_area.hide()

        central = QWidget(self)
        central.setObjectName("central")
        central.setAccessibleName("Workspace")
        column = QVBoxLayout(central)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(0)
        column.addWidget(self.banner_area)
        column.addWidget(self.resource_tabs, 1)
        self.setCentralWidget(central)
        # Everything about the selected row, on the right (ui.detail_nav keeps it current).
        self.detail_pane = DetailPane(self)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.detail_pane)
        self.detail_pane.hide()

        status_bar = self.statusBar()
        status_bar.setObjectName("statusBar")
        status_bar.setAccessibleName("Status")
        self.sync_status = QLabel(self)
        self.sync_status.setObjectName("syncStatus")
        self.sync_status.setAccessibleName("Connection state")
        self.connection_label = QLabel(self)
        self.connection_label.setObjectName("connectionName")
        self.connection_label.setAccessibleName("Connection")
        self.demo_badge = QLabel(DEMO_BADGE_TEXT, self)
        self.demo_badge.setObjectName("demoBadge")
        self.demo_badge.setAccessibleName("Demo data: this connection shows generated data")
        self.demo_badge.setToolTip("Generated data from the built-in sandbox, not a real system")
        # Palette roles, not colours: the badge follows light and dark mode.
        self.demo_badge.setStyleSheet(
            "QLabel#demoBadge { background: palette(highlight); color: palette(highlighted-text);"
            " border-radius: 4px; padding: 1px 8px; font-weight: bold; }"
        )
        self.demo_badge.hide()
        status_bar.addWidget(self.sync_status)
        # A message takes the state's place (Qt leaves a label shown before the window was).
        status_bar.messageChanged.connect(lambda text: self.sync_status.setHidden(bool(text)))
        status_bar.addPermanentWidget(self.demo_badge)
        status_bar.addPermanentWidget(self.connection_label)

    def _setup_actions(self) -> None:
        actions = WindowActions(self, self.views, self._show_tab,
                                detail_pane_action=self.detail_pane.toggleViewAction())
        self.refresh_action = actions.refresh_action
        self.full_refresh_action = actions.full_refresh_action
        self.work_offline_action = actions.work_offline_action
        self.connections_action = actions.connections_action
        self.export_action = actions.export_action
        self.quit_action = actions.quit_action
        self.find_action = actions.find_action
        self.about_action = actions.about_action
        # What acts on one list's table: nothing to act on while the Overview is shown.
        self._list_actions = [self.find_action, *actions.saved_views.actions()]
        self._tooltips = {  # what they say on a list, and on the Overview
            self.refresh_action: (self.refresh_action.toolTip(),
                                  self.tr("Fetch what changed in every list (F5)")),
            self.full_refresh_action: (self.full_refresh_action.toolTip(),
                                       self.tr("Download every list again")),
            self.export_action: (self.export_action.toolTip(),
                                 self.tr("Save the overview as a PNG picture or a PDF")),
        }
        self.tab_actions = actions.tab_actions
        self.connection_switcher = actions.connection_switcher
        self.building_filter = actions.building_filter
        self.refresh_action.triggered.connect(self._on_refresh_action_triggered)
        self.full_refresh_action.triggered.connect(self._on_full_refresh_action_triggered)
        self.work_offline_action.toggled.connect(self._on_work_offline_action_toggled)
        self.connections_action.triggered.connect(self._on_connections_action_triggered)
        self.export_action.triggered.connect(self._on_export_action_triggered)
        self.find_action.triggered.connect(self._on_find_action_triggered)
        self.about_action.triggered.connect(self._on_about_action_triggered)
        self.connection_switcher.activated.connect(self._on_connection_switcher_activated)
        self.building_filter.currentIndexChanged.connect(self._on_building_filter_changed)
        actions.fill_menu_bar(self.menuBar())
        self.addToolBar(actions.make_toolbar(self))
        self.back_action = actions.back_action
        self.forward_action = actions.forward_action
        self.detail = DetailNavigator(self, self.detail_pane, self.back_action,
                                      self.forward_action)

    # -- settings ---------------------------------------------------------------------------

    def save_settings(self) -> None:
        """Keep the window's geometry, the active tab and every table's columns."""
        save_layout(self)

    # -- connections ------------------------------------------------------------------------

    def open_connection(self, info: ConnectionInfo, token: str | None) -> asyncio.Task[None]:
        """Switch to a connection and load every tab (returns the loading task).

        Without a token (None) the tabs show the connection's cached rows under a banner
        that says why and offers Reconnect….
        """
        self.reporter.close_all(info.name)
        self.cache_notice.hide()
        if info.profile_id is None:
            self.connections.unsaved = (info, token)
        before = self.workspace.info
        self.workspace.open(info, token)
        for tab in self.tabs.values():  # a new token for the same connection keeps them
            if before is None or not before.same_connection(info):
                tab.search.clear()
                tab.apply_search_now()
        # A demo's sandbox is new at each start: its cached lists describe the last one.
        return self.workspace.start_all(full=info.demo)

    def activate_profile(self, profile_id: str) -> asyncio.Task[None] | None:
        """Open a saved connection; without a stored token, on its cached rows alone (the
        banner says so and offers Reconnect…)."""
        profile = self.profiles.get(profile_id)
        if profile is None:
            return None
        token = self.tokens.get(profile_id) or None
        try:
            task = self.open_connection(ConnectionInfo.from_profile(profile), token)
        except ValueError as exc:  # a malformed token or URL: let the user fix it
            self.tell(f"Cannot open “{profile.name}”: {exc}", level=Level.WARNING)
            self.show_connections(profile_id, focus_token=True)
            return None
        try:
            self.profiles.set_active(profile_id)
            self.profiles.touch(profile_id)
        except ProfileError as exc:  # a profile file that cannot be written must not stop work
            log.warning("could not record the active connection: %s", exc)
        return task

    def show_connections(self, profile_id: str | None = None, *, focus_token: bool = False) -> Any:
        """Open the connection manager (non-modal), optionally with the token field focused."""
        return self.connections.show_connections(profile_id, focus_token=focus_token)

    @property
    def connection_dialog(self) -> Any:
        """The connection manager once opened (None before)."""
        return self.connections.dialog

    async def shutdown(self) -> None:
        """Cancel every load and close the session; the window may be deleted afterwards."""
        self._clock.stop()
        for tab in self.tabs.values():
            tab.cancel_search()
            tab.table.cancel_sort()
        await self.exporter.wait()  # never leave a half-written file behind
        self.reporter.close_all()
        await self.workspace.close()

    def overview_shown(self) -> bool:
        """True while the Overview is the tab shown."""
        return self.resource_tabs.currentWidget() is self.overview

    def current_tab(self) -> ResourceTab:
        """The list shown; on the Overview, the first list (the one the workspace loads
        first). Refresh and Export act on the Overview's own terms (see their slots)."""
        widget = self.resource_tabs.currentWidget()
        return widget if isinstance(widget, ResourceTab) else self.tabs[self.views[0].name]

    def _show_tab(self, index: int) -> None:
        self.resource_tabs.setCurrentWidget(self.tabs[self.views[index].name])

    def _update_connection_ui(self) -> None:
        info = self.workspace.info
        demo = info is not None and info.demo
        if info is None:
            self.setWindowTitle(APP_TITLE)
            self.connection_label.setText("Not connected")
        else:
            title = f"{info.name} — {APP_TITLE}"
            self.setWindowTitle(f"{title} — {DEMO_BADGE_TEXT}" if demo else title)
            self.connection_label.setText(info.name)
            self.connection_label.setToolTip(info.base_url)
        self.demo_badge.setVisible(demo)
        self.fill_switcher()
        self._fill_building_filter()

    def fill_switcher(self) -> None:
        unsaved = self.connections.unsaved
        self.connection_switcher.fill(self.profiles.list(), self.workspace.info,
                                      unsaved[0] if unsaved else None)

    def _fill_building_filter(self) -> None:
        if not self.building_filter.fill(self.workspace.lookups.names(res.SITES.name)):
            self._apply_building_filter(None)

    def _apply_building_filter(self, key: str | None) -> None:
        for model in self.workspace.models.values():
            model.set_building_filter(key)

    # -- Qt overrides -----------------------------------------------------------------------

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() in (QEvent.Type.PaletteChange, QEvent.Type.ApplicationPaletteChange):
            # A banner's style sheet pins its palette, so a switch between light and dark
            # mode reaches the window but not the banners inside it.
            for banner in (self.offline_banner, self.cache_notice):
                banner.changeEvent(event)

    def closeEvent(self, event: QCloseEvent) -> None:
        dialog = self.connection_dialog
        dialog_alive = dialog is not None and shiboken6.isValid(dialog)
        if dialog_alive and not self._quit_confirmed:
            assert dialog is not None
            # A half-filled connection in the manager is never dropped without asking.
            if dialog.ask_before_quit(self._quit_after_asking):
                event.ignore()
                return
        if not self._quit_confirmed and self.desk.ask_before_quit(self._quit_after_asking):
            event.ignore()  # changes still on their way: kept, said once
            return
        self._quit_confirmed = False
        self.save_settings()
        if dialog_alive:
            assert dialog is not None
            dialog.close()
        self.reporter.close_all()
        event.accept()
        self.sig_closed.emit()

    # -- slots ------------------------------------------------------------------------------

    def _quit_after_asking(self) -> None:
        """The manager's unsaved connection was saved or discarded: quit as asked."""
        if shiboken6.isValid(self):
            self._quit_confirmed = True
            self.close()

    @Slot()
    def _on_workspace_sig_state_changed(self) -> None:
        ws = self.workspace
        state = ws.current_state()
        self.sync_status.setText(ws.state_text())
        self.sync_status.setToolTip(ws.state_tooltip())
        self.sync_status.setProperty("state", state.name.lower())
        self.refresh_action.setEnabled(ws.session is not None)
        self.full_refresh_action.setEnabled(ws.session is not None)
        if ws.held_reason or ws.connect_failure or not self.offline_banner.isHidden():
            self._update_offline_banner()  # a refused token, a failed connect, or over

    @Slot()
    def _on_workspace_sig_reach_changed(self) -> None:
        ws = self.workspace
        reach = ws.reach
        action = self.work_offline_action
        if action.isChecked() != (reach is Reach.WORK_OFFLINE):
            action.blockSignals(True)
            action.setChecked(reach is Reach.WORK_OFFLINE)
            action.blockSignals(False)
        self._update_offline_banner()

    @Slot(int)
    def _on_resource_tabs_current_changed(self, _index: int) -> None:
        self.workspace.focus = self.current_tab().view.name
        overview = self.overview_shown()
        for action in self._list_actions:
            action.setEnabled(not overview)
        for action, (on_list, on_overview) in self._tooltips.items():
            action.setToolTip(on_overview if overview else on_list)

    @Slot()
    def _on_controller_sig_status_changed(self) -> None:
        if not self.offline_banner.isHidden() or not self.workspace.online:
            self._update_offline_banner()

    def _update_offline_banner(self) -> None:
        """Show, word or hide the offline banner (also every half minute: it names times)."""
        self.offline_banner.follow(self.workspace)
        self._update_banner_area()

    def tell(self, text: str, *, level: Level = Level.INFO, lasting: bool = False) -> None:
        """Say something to the user: published on the bus; the status bar shows it.

        Args:
            text: the sentence.
            level: how much it matters.
            lasting: keep it until the next message (work under way, or a result that
                differs from what the table shows); else it fades after a few seconds.
        """
        self.workspace.notifier.publish(level, text, source="window", origin=self,
                                        lasting=lasting)

    def _on_notifier_message(self, message: Message) -> None:
        if message.origin is self:
            fade_ms = 0 if message.lasting else STATUS_MESSAGE_MS[message.level]
            self.statusBar().showMessage(message.text, fade_ms)

    def _update_banner_area(self) -> None:
        shown = not self.offline_banner.isHidden() or not self.cache_notice.isHidden()
        self.banner_area.setVisible(shown)

    @Slot(str)
    def _on_workspace_sig_notice(self, text: str) -> None:
        self.cache_notice.show_message(text)
        self._update_banner_area()

    @Slot()
    def _on_try_now_button_clicked(self) -> None:
        if self.workspace.reach is Reach.WORK_OFFLINE:
            self.work_offline_action.setChecked(False)
        elif self.workspace.reach is Reach.ONLINE and self.workspace.connect_failure:
            self.workspace.retry()
        else:
            self.workspace.try_now()

    @Slot()
    def _on_reconnect_button_clicked(self) -> None:
        info = self.workspace.info
        if info is not None:
            self.connections.reconnect(info.name)

    @Slot(bool)
    def _on_work_offline_action_toggled(self, on: bool) -> None:
        self.workspace.set_work_offline(on)
        self.settings.setValue(WORK_OFFLINE_KEY, on)

    def _refuse_while_working_offline(self) -> bool:
        """True (and says why) when Work offline or a missing token keeps a refresh from
        running."""
        if self.workspace.token_missing:
            self.tell("No token for this connection: choose Reconnect… to enter one.")
            return True
        if self.workspace.reach is not Reach.WORK_OFFLINE:
            return False
        self.tell("Working offline: turn “Work offline” off to refresh.")
        return True

    @Slot(object)
    def _on_workspace_sig_error(self, err: MakiniError) -> None:
        info = self.workspace.info
        if info is None:
            return
        self.reporter.report(err, connection_name=info.name, base_url=info.base_url)

    @Slot()
    def _on_workspace_sig_connection_changed(self) -> None:
        self._update_connection_ui()

    @Slot(str)
    def _on_lookups_sig_changed(self, dataset: str) -> None:
        if dataset == res.SITES.name:
            self._fill_building_filter()

    @Slot(int)
    def _on_connection_switcher_activated(self, index: int) -> None:
        profile_id = self.connection_switcher.itemData(index)
        info = self.workspace.info
        if profile_id == UNSAVED_DATA and self.connections.unsaved is not None:
            self.open_connection(*self.connections.unsaved)
        elif profile_id and (info is None or info.profile_id != profile_id):
            self.activate_profile(profile_id)

    @Slot(int)
    def _on_building_filter_changed(self, index: int) -> None:
        self._apply_building_filter(self.building_filter.itemData(index))

    @Slot()
    def _on_refresh_action_triggered(self) -> None:
        self._refresh(full=False)

    @Slot()
    def _on_full_refresh_action_triggered(self) -> None:
        self._refresh(full=True)

    def _refresh(self, *, full: bool) -> None:
        """Refresh the list shown; on the Overview every list (its figures count them all).
        Offline, one refresh tries the connection once (then every list follows)."""
        if self.workspace.session is None or self._refuse_while_working_offline():
            return
        names = [self.current_tab().view.name]
        if self.overview_shown() and self.workspace.online:
            names = [view.name for view in self.views]
        for name in names:
            self.workspace.refresh_tab(name, full=full)

    @Slot()
    def _on_connections_action_triggered(self) -> None:
        info = self.workspace.info
        self.show_connections(info.profile_id if info is not None else None)

    @Slot()
    def _on_find_action_triggered(self) -> None:
        search = self.current_tab().search
        search.setFocus(Qt.FocusReason.ShortcutFocusReason)
        search.selectAll()

    @Slot()
    def _on_about_action_triggered(self) -> None:
        open_about_box(self)

    @Slot()
    def _on_clock_timeout(self) -> None:
        for tab in self.tabs.values():
            tab.refresh_status_text()
        self._update_offline_banner()

    @Slot()
    def _on_export_action_triggered(self) -> None:
        if self.overview_shown():
            self.overview.overview_actions.export_action.trigger()
            return
        self.exporter.ask_path(self.current_tab().view)

    async def export_tab(self, view_name: str, path: str) -> bool:
        """Write the rows shown in a tab (search and filter applied) to ``path``.

        The format follows the file's extension (CSV when unknown). Works offline: it only
        reads the table.

        Returns:
            True when the file was written.
        """
        return await self.exporter.export(view_name, path)


__all__ = [
    "Banner",
    "MainWindow",
    "OfflineBanner",
    "ResourceTab",
    "ResourceTableView",
    "open_settings",
]
