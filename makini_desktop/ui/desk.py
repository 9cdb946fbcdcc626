"""The front desk and the move desk: the actions on visits and moves, at once and honest.

:class:`Desk` owns the QActions of contract §6's writes (Check in, Check out, Undo arrival,
Undo departure, No-show, Cancel visit; Approve, Reject, Start, Complete, Cancel move; Check
out everyone still on site; Register visitor), puts them in a toolbar on the Visitors and
Moves tabs and in the rows' context menu, and enables each for what the selected rows'
statuses allow (:mod:`makini_desktop.api.writes`).

An action goes to the active connection's outbox (:mod:`makini_desktop.sync.outbox`): it is
stored first, then the row changes at once, marked "Sending…" in its status cell until the
server's record replaces it. A refusal rolls the row back and says why: a 409 as a line in
the tab with what the server has, a 405 by disabling the action for the connection, anything
else in the error dialog with its request ID. A list refresh landing meanwhile passes through
the outbox's overlay (the workspace feeds these tabs through
:class:`~makini_desktop.sync.outbox_sink.OverlaySink`), so it never undoes a change that is
still on its way.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import shiboken6
from PySide6.QtCore import QObject, Qt, Slot
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMenu, QToolBar

from makini_desktop.api import resources as res
from makini_desktop.api import writes
from makini_desktop.api.errors import MakiniError
from makini_desktop.store.cache_errors import CacheError
from makini_desktop.store.outbox import KIND_CREATE, Change, ChangeState
from makini_desktop.sync import desk_texts as texts
from makini_desktop.sync.notify import Level
from makini_desktop.sync.outbox import Outbox, is_not_offered
from makini_desktop.sync.outbox_link import OutboxListeners, quit_text
from makini_desktop.sync.tasks import TaskSlots
from makini_desktop.ui.front_desk import FrontDeskDay
from makini_desktop.ui.outbox_panel import OutboxPanel, OutboxStatus

if TYPE_CHECKING:
    # The dialogs (and the roster's filter) are imported where they open: each Qt class
    # costs its first use the creation of its Python type and enums, and none of them is
    # needed before the window's first paint.
    from PySide6.QtWidgets import QMessageBox

    from makini_desktop.ui.main_window import MainWindow
    from makini_desktop.ui.register_visitor import RegisterVisitorDialog  # when first opened
    from makini_desktop.ui.resource_tab import ResourceTab
    from makini_desktop.ui.table_model import ResourceTableModel

__all__ = ["SHORTCUTS", "Desk", "action_object_name", "change_error", "install"]

SHORTCUTS: Mapping[str, str] = {"check_in": "Ctrl+I", "check_out": "Ctrl+Shift+O"}
"""The front desk's keys (issue: Check in Ctrl+I, Check out Ctrl+Shift+O)."""

_TAB_OF: Mapping[str, str] = {res.VISITS.name: "visitors", res.MOVES.name: "moves"}


def action_object_name(action_id: str) -> str:
    """``check_in`` → ``checkInAction`` (the QAction's object name)."""
    head, *rest = action_id.split("_")
    return head + "".join(part.title() for part in rest) + "Action"


class Desk(QObject):
    """The desk actions of the main window.

    Args:
        window: the main window (its tabs, workspace, reporter and bus).

    Attributes:
        actions: every status action by its :mod:`~makini_desktop.api.writes` id.
        check_out_all_action: Check out everyone still on site.
        register_action: Register visitor (Ctrl+N).
        not_offered: the action ids the active connection's system does not offer (405).
    """

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.link = window.workspace.core.outboxes
        self.not_offered: set[str] = set()
        self.actions: dict[str, QAction] = {}
        for action in (*writes.VISIT_ACTIONS, *writes.MOVE_ACTIONS):
            qaction = QAction(self.tr(action.label) + ("…" if action.asks_reason else ""),
                              window)
            qaction.setObjectName(action_object_name(action.id))
            if action.id in SHORTCUTS:
                qaction.setShortcut(QKeySequence(SHORTCUTS[action.id]))
            qaction.setToolTip(texts.action_tip(action))
            qaction.triggered.connect(lambda _c=False, a=action: self.run(a))
            self.actions[action.id] = qaction
        self.check_out_all_action = QAction(self.tr("Check out everyone still on site…"), window)
        self.check_out_all_action.setObjectName("checkOutAllAction")
        self.check_out_all_action.setToolTip(
            self.tr("End of the day: check out every visitor still on site in this building"))
        self.check_out_all_action.triggered.connect(self.check_out_all)
        self.register_action = QAction(self.tr("&Register visitor…"), window)
        self.register_action.setObjectName("registerVisitorAction")
        self.register_action.setShortcut(QKeySequence("Ctrl+N"))
        self.register_action.setToolTip(self.tr("Announce a visitor, or register a walk-in"))
        self.register_action.triggered.connect(self.open_register_dialog)
        for qaction in self.all_actions():
            qaction.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            window.addAction(qaction)
        self.panel: OutboxPanel | None = None
        self.status: OutboxStatus | None = None
        self._quit_box: QMessageBox | None = None
        self._slots = TaskSlots()
        self._register_dialog: RegisterVisitorDialog | None = None
        self._registering: int | None = None  # the registration the dialog waits for

        self.day = FrontDeskDay(window)
        self.link.listeners = OutboxListeners(
            on_change=self._on_outbox_change,
            on_confirmed=self._on_outbox_confirmed,
            on_rolled_back=self._on_outbox_rolled_back,
            on_count=self._on_outbox_count,
            on_opened=self._on_outbox_opened,
        )
        for dataset, tab_name in _TAB_OF.items():
            tab = window.tabs.get(tab_name)
            if tab is None:
                continue
            tab.add_toolbar(self._toolbar(tab, dataset))
            tab.table.extra_actions = self.actions_for(dataset)
            tab.table.selectionModel().selectionChanged.connect(self.update_enabled)
            tab.model.modelReset.connect(self.update_enabled)
        visitors = window.tabs.get("visitors")
        if visitors is not None:
            visitors.sig_search_entered.connect(self._on_visitors_search_entered)
        window.detail_pane.sig_shown.connect(self._on_detail_pane_shown)
        window.resource_tabs.currentChanged.connect(self.update_enabled)
        self.update_enabled()

    # -- building -------------------------------------------------------------------------

    def all_actions(self) -> list[QAction]:
        return [*self.actions.values(), self.check_out_all_action, self.register_action]

    def actions_for(self, dataset: str) -> list[QAction]:
        """The actions on a dataset's rows, in toolbar order."""
        ids = writes.VISIT_ACTIONS if dataset == res.VISITS.name else writes.MOVE_ACTIONS
        return [self.actions[a.id] for a in ids]

    def _toolbar(self, tab: ResourceTab, dataset: str) -> QToolBar:
        bar = QToolBar(tab)
        bar.setObjectName(f"{tab.view.name}DeskToolbar")
        bar.setAccessibleName(self.tr("Front desk") if dataset == res.VISITS.name
                              else self.tr("Move desk"))
        bar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        if dataset == res.VISITS.name:
            bar.addAction(self.day.today_action)
            self.day.summary_action = bar.addWidget(self.day.summary)
            bar.addSeparator()
            bar.addAction(self.register_action)
            bar.addSeparator()
        for qaction in self.actions_for(dataset):
            bar.addAction(qaction)
        if dataset == res.VISITS.name:
            bar.addSeparator()
            bar.addAction(self.check_out_all_action)
        return bar

    def _on_detail_pane_shown(self, detail: Any) -> None:
        """A visit or a move in the detail pane: its desk actions above its fields (they
        act on the tab's selection, which the pane follows)."""
        dataset = next((ds for ds, tab in _TAB_OF.items() if tab == detail.place.view), None)
        if dataset is not None:
            self.window.detail_pane.set_actions(self.actions_for(dataset))

    # -- which actions apply --------------------------------------------------------------

    def _tab(self, dataset: str) -> ResourceTab | None:
        tab = self.window.tabs.get(_TAB_OF.get(dataset, ""))
        return tab if tab is not None and shiboken6.isValid(tab) else None

    def selected_rows(self, dataset: str) -> list[Mapping[str, Any]]:
        """The selected rows of the dataset's tab, in display order."""
        tab = self._tab(dataset)
        if tab is None:
            return []
        return [tab.model.row_at(i) for i in tab.table.selected_rows()
                if i < tab.model.rowCount()]

    @Slot()
    def update_enabled(self, *_args: Any) -> None:
        """Enable each action for the selected rows of its tab (the tab shown or not, so
        its toolbar and context menu say the truth); a 405 disables it for the connection."""
        outbox = self.link.current
        for dataset in _TAB_OF:
            rows = self.selected_rows(dataset)
            statuses = {r.get(res.F_STATUS) for r in rows}
            ids = writes.VISIT_ACTIONS if dataset == res.VISITS.name else writes.MOVE_ACTIONS
            for action in ids:
                qaction = self.actions[action.id]
                count = sum(1 for r in rows if action.allows(r.get(res.F_STATUS)))
                offered = action.id not in self.not_offered
                qaction.setEnabled(
                    outbox is not None and offered and any(action.allows(s) for s in statuses))
                qaction.setToolTip(texts.action_tip(action, count=count, offered=offered))
        visits_offered = not ({"check_out"} & self.not_offered)
        # Enabled while visits can be changed; with nobody on site it says so.
        self.check_out_all_action.setEnabled(outbox is not None and visits_offered)
        self.register_action.setEnabled(outbox is not None and "register" not in self.not_offered)
        if "register" in self.not_offered:
            self.register_action.setToolTip(texts.NOT_OFFERED_TIP)

    def on_site_rows(self) -> list[Mapping[str, Any]]:
        """The visitors checked in now, in the building the window shows (all: every one)."""
        from makini_desktop.table.roster import on_site

        tab = self._tab(res.VISITS.name)
        if tab is None:
            return []
        return list(on_site(tab.model.all_rows(), tab.model.building_filter))

    # -- acting ---------------------------------------------------------------------------

    def run(self, action: writes.Action, rows: Sequence[Mapping[str, Any]] | None = None) -> int:
        """Do an action on the selected rows (or ``rows``) that allow it.

        Returns:
            How many changes were stored (0 when nothing was done).
        """
        dataset = action.dataset.name
        chosen = list(rows) if rows is not None else self.selected_rows(dataset)
        apply = [r for r in chosen if action.allows(r.get(res.F_STATUS))]
        skipped = len(chosen) - len(apply)
        view = res.VIEWS[_TAB_OF[dataset]]
        if not apply:
            self.window.tell(texts.nothing_to_do(action, view, len(chosen)),
                             level=Level.WARNING)
            return 0
        reason: str | None = None
        if action.asks_reason:
            from PySide6.QtWidgets import QInputDialog

            text, ok = QInputDialog.getMultiLineText(
                self.window, self.tr(action.label), texts.reason_prompt(action, view, apply))
            if not ok:
                return 0
            reason = text.strip() or None
        outbox = self.link.current
        if outbox is None:
            self.window.tell(texts.no_outbox(self.link.problem), level=Level.ERROR)
            return 0
        stored = 0
        for row in apply:
            try:
                outbox.change_status(dataset, row, action.target, action.id, reason=reason)
            except CacheError as exc:
                self.window.tell(texts.not_stored(exc.message), level=Level.ERROR,
                                 lasting=True)
                break
            stored += 1
        if stored:
            self.window.tell(texts.done(action, view, apply[:stored], skipped,
                                        online=self.window.workspace.online))
        return stored

    def check_out_all(self) -> int:
        """Check out every visitor still on site in the building shown, after a
        confirmation that lists them."""
        rows = self.on_site_rows()
        if not rows:
            self.window.tell(texts.NOBODY_ON_SITE)
            return 0
        from PySide6.QtWidgets import QMessageBox

        box = QMessageBox(QMessageBox.Icon.Question, self.tr("Check out everyone"),
                          texts.check_out_all_question(rows), parent=self.window)
        box.setObjectName("checkOutAllConfirm")
        box.setInformativeText(texts.names_list(rows))
        yes = box.addButton(self.tr("Check out %n visitor(s)", "", len(rows)),
                            QMessageBox.ButtonRole.AcceptRole)
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        box.exec()
        if box.clickedButton() is not yes:
            return 0
        return self.run(writes.action("check_out"), rows)

    def _on_visitors_search_entered(self) -> None:
        self._slots.start("enter", self.search_entered())

    async def search_entered(self) -> None:
        """Enter in the Visitors search box: one expected visitor left in the list is
        checked in when expected today (a visit of another day is selected, and the status
        bar says so); with several, the first is selected."""
        tab = self._tab(res.VISITS.name)
        if tab is None or not tab.search.text().strip():
            return
        await tab.wait_search()
        if not shiboken6.isValid(tab):
            return
        model = tab.model
        expected = [i for i in range(model.rowCount())
                    if model.row_at(i).get(res.F_STATUS) == "expected"]
        if not expected:
            return
        tab.table.selectRow(expected[0])
        tab.table.scrollTo(model.index(expected[0], 0))
        if len(expected) != 1 or not self.actions["check_in"].isEnabled():
            return
        row = model.row_at(expected[0])
        if not self.day.today_test(model)(row):  # a visit of another day: ask for it
            self.window.tell(texts.not_today(row), lasting=True)
            return
        self.run(writes.action("check_in"), [row])

    # -- registration ---------------------------------------------------------------------

    def open_register_dialog(self) -> RegisterVisitorDialog | None:
        """Register visitor (Ctrl+N): the dialog, on the window's building."""
        if self.link.current is None:
            self.window.tell(texts.no_outbox(self.link.problem), level=Level.ERROR)
            return None
        if self._register_dialog is not None and shiboken6.isValid(self._register_dialog):
            self._register_dialog.raise_()
            return self._register_dialog
        from makini_desktop.ui.register_visitor import RegisterVisitorDialog

        lookups = self.window.workspace.lookups
        dialog = RegisterVisitorDialog(
            dict(sorted(lookups.names(res.SITES.name).items(), key=lambda kv: kv[1].casefold())),
            self._spaces_of, self.window.building_filter.currentData(), self._register,
            self.window,
        )
        dialog.finished.connect(self._on_register_dialog_finished)
        self._register_dialog = dialog
        dialog.show()
        dialog.activateWindow()
        dialog.name_field.setFocus()
        return dialog

    def _spaces_of(self, site_key: str) -> list[tuple[str, str]]:
        spaces = self.window.tabs.get("spaces")
        if spaces is None:
            return []
        rows = [r for r in spaces.model.all_rows() if r.get(res.F_SITE_KEY) == site_key]
        named = [(str(r.get(res.F_KEY)), str(r.get(res.F_NAME) or r.get(res.F_CODE) or ""))
                 for r in rows]
        return sorted(named, key=lambda kv: kv[1].casefold())

    def _register(self, body: dict[str, Any]) -> None:
        outbox = self.link.current
        dialog = self._register_dialog
        if outbox is None or dialog is None:
            return
        walk_in = body.pop(res.F_STATUS, None) == "checked_in"
        try:
            change = outbox.register(body, walk_in=walk_in)
        except CacheError as exc:
            dialog.show_field_errors({}, texts.not_stored(exc.message))
            return
        if not self.window.workspace.online:
            # Nothing will answer now: the registration waits in the outbox.
            self.window.tell(texts.registered_offline(body))
            dialog.accept()
            return
        self._registering = change.seq

    def _on_register_dialog_finished(self, _result: int) -> None:
        self._register_dialog = None
        self._registering = None

    # -- quitting -------------------------------------------------------------------------

    def ask_before_quit(self, then: Callable[[], None]) -> bool:
        """Quitting with changes not yet sent: say they are kept and sent next time, with
        Quit and Cancel (``then`` is called on Quit). False when nothing waits (or the
        window shows no dialogs): quit at once."""
        outbox = self.link.current
        count = outbox.waiting_count() if outbox is not None else 0
        if not count or not self.window.reporter.show_dialogs:
            return False
        if self._quit_box is not None and shiboken6.isValid(self._quit_box):
            self._quit_box.raise_()
            return True
        from PySide6.QtWidgets import QMessageBox

        box = QMessageBox(QMessageBox.Icon.Information, self.tr("Changes not sent yet"),
                          quit_text(count), parent=self.window)
        box.setObjectName("quitWithOutboxBox")
        quit_button = box.addButton(self.tr("&Quit"), QMessageBox.ButtonRole.AcceptRole)
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(quit_button)

        def finished(_result: int) -> None:
            self._quit_box = None
            if box.clickedButton() is quit_button:
                then()

        box.finished.connect(finished)
        self._quit_box = box
        box.open()
        return True

    # -- the outbox's events --------------------------------------------------------------

    def _model(self, dataset: str) -> ResourceTableModel | None:
        tab = self._tab(dataset)
        return tab.model if tab is not None else None

    def _mark(self, dataset: str, key: str, outbox: Outbox) -> None:
        model = self._model(dataset)
        if model is None:
            return
        pending = outbox.pending_for(dataset, key)
        model.set_pending(key, texts.pending_tip(pending, online=self.window.workspace.online)
                          if pending else None)

    def _on_outbox_change(self, change: Change) -> None:
        outbox, model = self.link.current, self._model(change.dataset)
        if outbox is None or model is None:
            return
        if change.pending:
            base = model.row_by_key(change.record_key) or change.before or {}
            model.apply_changes([outbox.overlay_row(change.dataset, dict(base))]
                                if change.kind != KIND_CREATE
                                else outbox.overlay(change.dataset, []), [])
        self._mark(change.dataset, change.record_key, outbox)
        self._show_count()
        self.update_enabled()

    def _on_outbox_confirmed(self, change: Change, server: Mapping[str, Any]) -> None:
        outbox, model = self.link.current, self._model(change.dataset)
        if outbox is None or model is None:
            return
        new_key = str(server.get(res.F_KEY) or change.record_key)
        gone = [change.record_key] if new_key != change.record_key else []
        model.apply_changes([outbox.overlay_row(change.dataset, dict(server))], gone)
        if gone:
            model.set_pending(change.record_key, None)
        self._mark(change.dataset, new_key, outbox)
        if self._registering == change.seq and self._register_dialog is not None:
            self.window.tell(texts.registered(server))
            self._register_dialog.accept()
            tab = self._tab(change.dataset)
            row = model.row_of_key(new_key)
            if tab is not None and row >= 0:  # the new visitor, selected and in view
                tab.table.selectRow(row)
                tab.table.scrollTo(model.index(row, 0))
        self.update_enabled()

    def _on_outbox_rolled_back(self, change: Change, record: Mapping[str, Any] | None) -> None:
        outbox, model = self.link.current, self._model(change.dataset)
        if outbox is None or model is None:
            return
        if record is None:
            model.apply_changes([], [change.record_key])
        else:
            model.apply_changes([outbox.overlay_row(change.dataset, dict(record))], [])
        self._mark(change.dataset, change.record_key, outbox)
        if outbox.get(change.seq) is not None:  # refused; a discarded change needs no words
            self._explain(change, record)
        self._show_count()
        self.update_enabled()

    def _explain(self, change: Change, record: Mapping[str, Any] | None) -> None:
        """Say why a change did not go through, where the user looks for it."""
        view = res.VIEWS[_TAB_OF.get(change.dataset, "visitors")]
        if change.state is ChangeState.CONFLICT:
            tab = self._tab(change.dataset)
            text = texts.conflict_text(change, record)
            if tab is not None:
                tab.show_notice(text)
            self.window.tell(text, level=Level.WARNING)
            return
        if is_not_offered(change):
            self.not_offered.add(change.action)
            self.window.tell(texts.not_offered_text(change, view), level=Level.WARNING,
                             lasting=True)
            if self._registering == change.seq and self._register_dialog is not None:
                self._register_dialog.show_field_errors({}, texts.not_offered_text(change, view))
            return
        if change.state is not ChangeState.FAILED:
            return
        outbox = self.link.current
        err = (outbox.error_for(change.seq) if outbox is not None else None) or change_error(
            change)
        if self._registering == change.seq and self._register_dialog is not None:
            fields = err.field_errors or {}
            self._register_dialog.show_field_errors(fields, "" if fields else err.summary())
            self._registering = None
            if outbox is not None:
                outbox.discard(change.seq)  # the dialog is still open to correct and resend
            return
        info = self.window.workspace.info
        self.window.reporter.report(err, connection_name=info.name if info else "",
                                    base_url=info.base_url if info else "")

    def _show_count(self) -> None:
        outbox = self.link.current
        changes = outbox.changes() if outbox is not None else []
        waiting = sum(1 for c in changes if c.pending)
        if self.status is not None:
            self.status.set_count(waiting, len(changes) - waiting)
        if self.panel is not None:
            self.panel.reload()

    def _on_outbox_count(self, _count: int) -> None:
        self._show_count()

    def _on_outbox_opened(self, outbox: Outbox | None) -> None:
        self.not_offered.clear()
        if self.panel is not None:
            self.panel.set_outbox(outbox)
        self._show_count()
        if outbox is not None:
            for change in outbox.changes():
                if change.pending:
                    self._mark(change.dataset, change.record_key, outbox)
        self.update_enabled()


def change_error(change: Change) -> MakiniError:
    """The refusal of a change stored by an earlier run, as an error the error dialog shows
    (status, code, the server's message and its request ID)."""
    return MakiniError(
        status=change.http_status or 0,
        code=change.error_code or "REFUSED",
        type="refused",
        message=change.reason or texts.REFUSED,
        request_id=change.request_id or "",
    )


def install(window: MainWindow) -> Desk:
    """Give the window its desk: the actions (in a Desk menu, the tabs' toolbars and the
    rows' context menu), the Outbox panel (View → Outbox) and the status bar's count."""
    desk = Desk(window)
    panel = OutboxPanel(window)
    window.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, panel)
    panel.hide()
    status = OutboxStatus(panel, window)
    window.statusBar().addPermanentWidget(status)
    desk.panel, desk.status = panel, status
    menu_bar = window.menuBar()
    help_menu = menu_bar.findChild(QMenu, "helpMenu")
    menu = QMenu(desk.tr("&Desk"), menu_bar)
    menu.setObjectName("deskMenu")
    menu.setAccessibleName(desk.tr("Desk"))
    menu.addAction(desk.register_action)
    menu.addSeparator()
    menu.addActions(desk.actions_for(res.VISITS.name))
    menu.addAction(desk.check_out_all_action)
    menu.addSeparator()
    menu.addActions(desk.actions_for(res.MOVES.name))
    if help_menu is not None:
        menu_bar.insertMenu(help_menu.menuAction(), menu)
    else:
        menu_bar.addMenu(menu)
    toggle = panel.toggleViewAction()
    toggle.setObjectName("outboxAction")
    toggle.setText(desk.tr("&Outbox"))
    toggle.setToolTip(desk.tr("The changes on their way to the server"))
    view_menu = menu_bar.findChild(QMenu, "viewMenu")
    if view_menu is not None:
        view_menu.addSeparator()
        view_menu.addAction(toggle)
    return desk
