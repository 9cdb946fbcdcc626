"""The front desk and the move desk in the window, against the sandbox over loopback.

Each action changes the sandbox's record and the row shows it; the row changes at once,
marked "Sending…" until the server answers; a 409, a 422 and a 405 each end where the user
looks; changes made offline queue and are sent when the connection is back; a refresh
landing while a change is on its way does not undo it.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
from PySide6.QtCore import QCoreApplication
from PySide6.QtWidgets import QInputDialog, QMessageBox

from makini_desktop.api import resources as res
from makini_desktop.sync.session import ConnectionInfo
from makini_desktop.ui.outbox_panel import OutboxModel
from tests.helpers.qt import wait_loaded

TOKEN = "sandbox-token"
WAIT_MS = 20_000


def connect(qtbot, window, sandbox) -> None:
    window.open_connection(ConnectionInfo.adhoc(sandbox.url, TOKEN), TOKEN)
    wait_loaded(qtbot, window)
    qtbot.waitUntil(lambda: window.workspace.core.outboxes.current is not None, timeout=WAIT_MS)


def server_visits(sandbox, status: str) -> list[dict[str, Any]]:
    """The sandbox's own visits in a status (not through the app)."""
    return [dict(r) for r in sandbox.data.visible(res.VISITS.name)
            if r.get("status") == status and r.get("deletedAt") is None]


def server_moves(sandbox, status: str) -> list[dict[str, Any]]:
    return [dict(r) for r in sandbox.data.visible(res.MOVES.name)
            if r.get("status") == status and r.get("deletedAt") is None]


def record(sandbox, dataset: str, key: str) -> dict[str, Any]:
    rec = sandbox.data.get(dataset, key)
    assert rec is not None
    return dict(rec)


def select(window, tab_name: str, keys: list[str]) -> None:
    tab = window.tabs[tab_name]
    window.resource_tabs.setCurrentWidget(tab)
    tab.table.clearSelection()
    model = tab.model
    selection = tab.table.selectionModel()
    for key in keys:
        row = model.row_of_key(key)
        assert row >= 0, key
        selection.select(model.index(row, 0),
                         selection.SelectionFlag.Select | selection.SelectionFlag.Rows)


def shown_status(window, tab_name: str, key: str) -> Any:
    row = window.tabs[tab_name].model.row_by_key(key)
    return None if row is None else row.get("status")


def test_check_in_changes_the_row_at_once_then_the_server_confirms(qtbot, window, sandbox):
    """The row says checked in with "Sending…" before any answer; then the sandbox's
    record is checked in and the row carries the server's check-in time."""
    connect(qtbot, window, sandbox)
    visit = server_visits(sandbox, "expected")[0]
    key = str(visit["key"])
    select(window, "visitors", [key])
    action = window.desk.actions["check_in"]
    assert action.objectName() == "checkInAction"
    assert action.isEnabled()
    assert not window.desk.actions["check_out"].isEnabled()  # an expected visitor
    action.trigger()
    model = window.tabs["visitors"].model
    assert shown_status(window, "visitors", key) == "checked_in"  # before any answer
    assert (model.pending_tooltip(key) or "").startswith("Sending…")
    qtbot.waitUntil(lambda: record(sandbox, "visits", key)["status"] == "checked_in",
                    timeout=WAIT_MS)
    qtbot.waitUntil(lambda: model.pending_tooltip(key) is None, timeout=WAIT_MS)
    assert model.row_by_key(key)["checkedInAt"] == record(sandbox, "visits", key)["checkedInAt"]
    assert window.desk.actions["check_out"].isEnabled()  # the selection is on site now


def test_several_selected_visitors_are_checked_out_at_once(qtbot, window, sandbox):
    connect(qtbot, window, sandbox)
    on_site = server_visits(sandbox, "checked_in")[:3]
    assert len(on_site) == 3
    keys = [str(v["key"]) for v in on_site]
    select(window, "visitors", keys)
    window.desk.actions["check_out"].trigger()
    qtbot.waitUntil(lambda: all(record(sandbox, "visits", k)["status"] == "checked_out"
                                for k in keys), timeout=WAIT_MS)
    qtbot.waitUntil(lambda: all(shown_status(window, "visitors", k) == "checked_out"
                                for k in keys), timeout=WAIT_MS)


def test_rejecting_a_move_asks_why_and_the_server_keeps_the_reason(
    qtbot, window, sandbox, monkeypatch
):
    connect(qtbot, window, sandbox)
    move = server_moves(sandbox, "pending")[0]
    key = str(move["key"])
    select(window, "moves", [key])
    assert window.desk.actions["approve_move"].isEnabled()
    assert not window.desk.actions["complete_move"].isEnabled()
    monkeypatch.setattr(QInputDialog, "getMultiLineText",
                        staticmethod(lambda *a, **k: ("Budget frozen until Q3", True)))
    window.desk.actions["reject_move"].trigger()
    qtbot.waitUntil(lambda: record(sandbox, "moves", key)["status"] == "rejected",
                    timeout=WAIT_MS)
    assert record(sandbox, "moves", key)["statusReason"] == "Budget frozen until Q3"
    qtbot.waitUntil(lambda: shown_status(window, "moves", key) == "rejected", timeout=WAIT_MS)


def test_approve_then_start_then_complete_a_move(qtbot, window, sandbox):
    connect(qtbot, window, sandbox)
    key = str(server_moves(sandbox, "pending")[1]["key"])
    for action_id, status in (("approve_move", "approved"), ("start_move", "in_progress"),
                              ("complete_move", "completed")):
        select(window, "moves", [key])
        assert window.desk.actions[action_id].isEnabled(), action_id
        window.desk.actions[action_id].trigger()
        qtbot.waitUntil(lambda s=status: record(sandbox, "moves", key)["status"] == s,
                        timeout=WAIT_MS)
        qtbot.waitUntil(lambda s=status: shown_status(window, "moves", key) == s,
                        timeout=WAIT_MS)
    assert record(sandbox, "moves", key)["completedAt"]


def test_a_stale_check_in_is_a_conflict_shown_in_the_tab_with_the_server_record(
    qtbot, window, sandbox
):
    """Another desk checked the visitor in and out meanwhile: the app's check-in is
    refused (409), the tab says what the server has and the row takes it."""
    connect(qtbot, window, sandbox)
    key = str(server_visits(sandbox, "expected")[2]["key"])
    headers = {"Authorization": f"Bearer {TOKEN}"}
    for status in ("checked_in", "checked_out"):
        answer = httpx.put(f"{sandbox.url}{res.VISITS.record_path(key)}",
                           json={"status": status},
                           headers={**headers, "Idempotency-Key": str(uuid.uuid4())})
        assert answer.status_code == 200, answer.text
    out_at = datetime.fromisoformat(
        record(sandbox, "visits", key)["checkedOutAt"].replace("Z", "+00:00"))
    select(window, "visitors", [key])
    window.desk.actions["check_in"].trigger()
    tab = window.tabs["visitors"]
    qtbot.waitUntil(lambda: tab.notice.isVisible(), timeout=WAIT_MS)
    text = tab.notice.label.text()
    assert "already Checked out" in text
    assert out_at.astimezone().strftime("%H:%M") in text
    qtbot.waitUntil(lambda: shown_status(window, "visitors", key) == "checked_out",
                    timeout=WAIT_MS)
    assert record(sandbox, "visits", key)["status"] == "checked_out"  # nothing undone


def test_a_system_without_visitor_writes_turns_the_action_off(qtbot, window, sandbox):
    sandbox.set_read_only(["visitors"])
    connect(qtbot, window, sandbox)
    key = str(server_visits(sandbox, "expected")[0]["key"])
    select(window, "visitors", [key])
    window.desk.actions["check_in"].trigger()
    action = window.desk.actions["check_in"]
    qtbot.waitUntil(lambda: "check_in" in window.desk.not_offered, timeout=WAIT_MS)
    select(window, "visitors", [key])
    assert not action.isEnabled()
    assert "does not offer" in action.toolTip()
    assert shown_status(window, "visitors", key) == "expected"  # rolled back
    assert record(sandbox, "visits", key)["status"] == "expected"


def test_check_in_made_offline_waits_and_is_sent_when_work_offline_is_turned_off(
    qtbot, window, sandbox
):
    connect(qtbot, window, sandbox)
    key = str(server_visits(sandbox, "expected")[3]["key"])
    window.work_offline_action.setChecked(True)
    select(window, "visitors", [key])
    acted = datetime.now(UTC).replace(microsecond=0)
    window.desk.actions["check_in"].trigger()
    status = window.desk.status
    assert status is not None
    qtbot.waitUntil(lambda: status.isVisible(), timeout=WAIT_MS)
    assert status.objectName() == "outboxStatus"
    assert status.text() == "1 change waiting to be sent"
    assert record(sandbox, "visits", key)["status"] == "expected"  # nothing was sent
    assert shown_status(window, "visitors", key) == "checked_in"
    window.work_offline_action.setChecked(False)
    qtbot.waitUntil(lambda: record(sandbox, "visits", key)["status"] == "checked_in",
                    timeout=WAIT_MS)
    checked_in = datetime.fromisoformat(
        record(sandbox, "visits", key)["checkedInAt"].replace("Z", "+00:00"))
    assert abs((checked_in - acted).total_seconds()) <= 2  # the time the user acted
    qtbot.waitUntil(lambda: not status.isVisible(), timeout=WAIT_MS)


def test_a_refresh_landing_while_a_change_waits_does_not_undo_it(qtbot, window, sandbox):
    """The list fetched again still has the visitor expected; the row stays checked in
    while the change waits (working offline keeps it waiting)."""
    connect(qtbot, window, sandbox)
    key = str(server_visits(sandbox, "expected")[4]["key"])
    select(window, "visitors", [key])
    window.work_offline_action.setChecked(True)
    window.desk.actions["check_in"].trigger()
    sink = window.workspace.core.tabs["visitors"].model  # what the tab's loader feeds
    rows = [dict(r) for r in sandbox.data.visible(res.VISITS.name)]
    assert any(str(r["key"]) == key and r["status"] == "expected" for r in rows)
    seen: set[str] = set()
    upserts = sink.changed_rows(rows, seen)  # the end of a full refresh, as the loader does
    sink.apply_changes(upserts, sink.keys_not_in(seen))
    assert shown_status(window, "visitors", key) == "checked_in"
    sink.set_rows(rows)  # a refresh that replaces every row
    assert shown_status(window, "visitors", key) == "checked_in"
    sink.apply_changes(rows[:50] + [r for r in rows if str(r["key"]) == key], [])
    assert shown_status(window, "visitors", key) == "checked_in"


def test_register_visitor_shows_the_servers_field_errors_then_registers(
    qtbot, window, sandbox
):
    connect(qtbot, window, sandbox)
    before = len(sandbox.data.visible(res.VISITS.name))
    dialog = window.desk.open_register_dialog()
    assert dialog is not None and dialog.objectName() == "registerVisitorDialog"
    dialog.name_field.setText("Zoë Ngata")
    dialog.register_button.click()  # no host yet: said before anything is sent
    host_error = dialog.findChild(type(dialog.general_error), "hostNameError")
    assert host_error.isVisible()
    qtbot.keyClicks(dialog.host_field, "Priya Okafor")  # a message goes as it is corrected
    assert not host_error.isVisible()
    dialog.email_field.setText("not an email")
    dialog.register_button.click()
    email_error = dialog.findChild(type(dialog.general_error), "visitorEmailError")
    qtbot.waitUntil(lambda: email_error.isVisible(), timeout=WAIT_MS)
    assert "email" in email_error.text().lower()
    assert dialog.isVisible()
    assert not window.reporter.reported  # said in the form, not in an error dialog
    assert len(sandbox.data.visible(res.VISITS.name)) == before
    dialog.email_field.selectAll()
    qtbot.keyClicks(dialog.email_field, "zoe@example.com")
    assert not email_error.isVisible() and dialog.email_field.text() == "zoe@example.com"
    dialog.walk_in_field.setChecked(True)
    dialog.register_button.click()
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=WAIT_MS)
    made = [r for r in sandbox.data.visible(res.VISITS.name) if r.get("visitorName") ==
            "Zoë Ngata"]
    assert len(made) == 1 and made[0]["status"] == "checked_in"
    qtbot.waitUntil(lambda: window.tabs["visitors"].model.row_by_key(str(made[0]["key"]))
                    is not None, timeout=WAIT_MS)


def test_enter_in_the_search_box_checks_in_the_one_expected_visitor_left(
    qtbot, window, sandbox
):
    """One expected visitor left by the search: Enter checks them in when they are
    expected today; one expected another day is selected and the status bar says so,
    and nothing is sent (a receptionist typing a name must not check in next week's
    visit)."""
    connect(qtbot, window, sandbox)
    today = datetime.now().astimezone().date()
    visits = sandbox.data.visible(res.VISITS.name)
    expected = server_visits(sandbox, "expected")

    def alone(v: dict[str, Any]) -> bool:
        return sum(1 for r in visits if r.get("visitorName") == v["visitorName"]) == 1

    visit = next(v for v in expected if alone(v) and _local_day(v["expectedAt"]) == today)
    later = next(v for v in expected if alone(v) and _local_day(v["expectedAt"]) != today)
    tab = window.tabs["visitors"]
    window.resource_tabs.setCurrentWidget(tab)
    tab.search.setText(f'"{later["visitorName"]}"')
    tab.search.returnPressed.emit()
    status = window.statusBar()
    qtbot.waitUntil(lambda: "not today" in status.currentMessage(), timeout=WAIT_MS)
    assert status.currentMessage().startswith(f"{later['visitorName']} is expected on ")
    assert [tab.model.key_at(i.row()) for i in tab.table.selectionModel().selectedRows()] \
        == [str(later["key"])]
    outbox = window.desk.link.current
    assert outbox is not None and outbox.waiting_count() == 0 and not outbox.changes()

    key = str(visit["key"])
    tab.search.setText(f'"{visit["visitorName"]}"')
    tab.search.returnPressed.emit()
    qtbot.waitUntil(lambda: record(sandbox, "visits", key)["status"] == "checked_in",
                    timeout=WAIT_MS)
    assert record(sandbox, "visits", str(later["key"]))["status"] == "expected"


def test_check_out_everyone_lists_them_and_checks_them_all_out(
    qtbot, window, sandbox, monkeypatch
):
    connect(qtbot, window, sandbox)
    on_site = {str(v["key"]) for v in server_visits(sandbox, "checked_in")}
    assert on_site
    shown: list[str] = []

    def exec_(box: QMessageBox) -> int:
        shown.append(box.informativeText())
        next(b for b in box.buttons()
             if box.buttonRole(b) == QMessageBox.ButtonRole.AcceptRole).click()
        return 0

    monkeypatch.setattr(QMessageBox, "exec", exec_)
    window.desk.check_out_all_action.trigger()
    qtbot.waitUntil(lambda: all(record(sandbox, "visits", k)["status"] == "checked_out"
                                for k in on_site), timeout=WAIT_MS)
    first_name = str(record(sandbox, "visits", sorted(on_site)[0])["visitorName"])
    assert shown and (first_name in shown[0] or "more" in shown[0])


def test_outbox_panel_lists_a_refused_change_and_discard_rolls_it_back(
    qtbot, window, sandbox, monkeypatch
):
    """A 409 stays in the Outbox panel as a conflict with its request ID until it is
    discarded."""
    connect(qtbot, window, sandbox)
    key = str(server_visits(sandbox, "expected")[5]["key"])
    httpx.put(f"{sandbox.url}{res.VISITS.record_path(key)}", json={"status": "cancelled"},
              headers={"Authorization": f"Bearer {TOKEN}",
                       "Idempotency-Key": str(uuid.uuid4())}).raise_for_status()
    select(window, "visitors", [key])
    window.desk.actions["check_in"].trigger()
    panel = window.desk.panel
    assert panel is not None and panel.objectName() == "outboxPanel"
    qtbot.waitUntil(lambda: panel.model.rowCount() == 1
                    and panel.model.change_at(0).state.value == "conflict", timeout=WAIT_MS)
    assert panel.model.change_at(0).request_id
    panel.table.selectRow(0)
    monkeypatch.setattr(QMessageBox, "exec", lambda box: next(
        b for b in box.buttons()
        if box.buttonRole(b) == QMessageBox.ButtonRole.DestructiveRole).click())
    assert panel.discard_selected() == 1
    assert panel.model.rowCount() == 0
    assert shown_status(window, "visitors", key) == "cancelled"


def test_outbox_model_passes_qtmodeltester(qtmodeltester, window):
    model = OutboxModel()
    qtmodeltester.check(model)


def _local_day(value: Any) -> Any:
    if not value:
        return None
    return datetime.fromisoformat(str(value).replace("Z", "+00:00")).astimezone().date()


def test_today_shows_todays_visits_with_the_days_counts_and_is_remembered(
    qtbot, make_window, sandbox
):
    """Today: the visits expected today (local time), and a line counting expected, on
    site and left; the building and Today come back after a restart."""
    window = make_window()
    connect(qtbot, window, sandbox)
    sites = sorted({str(r["siteKey"]) for r in sandbox.data.visible(res.VISITS.name)})
    site = sites[0]
    box = window.building_filter
    box.setCurrentIndex(box.findData(site))
    today = datetime.now().astimezone().date()
    todays = [r for r in sandbox.data.visible(res.VISITS.name)
              if r.get("deletedAt") is None and r.get("siteKey") == site
              and _local_day(r.get("expectedAt")) == today]
    assert todays, "the sandbox has visits today"
    window.desk.day.today_action.setChecked(True)
    tab = window.tabs["visitors"]
    qtbot.waitUntil(lambda: tab.model.rowCount() == len(todays), timeout=WAIT_MS)
    by = {s: sum(1 for r in todays if r["status"] == s)
          for s in ("expected", "checked_in", "checked_out")}
    summary = window.desk.day.summary
    qtbot.waitUntil(lambda: summary.text() == (
        f"Today: {by['expected']:,} expected · {by['checked_in']:,} on site · "
        f"{by['checked_out']:,} left"), timeout=WAIT_MS)
    window.resource_tabs.setCurrentWidget(tab)
    qtbot.waitUntil(summary.isVisible, timeout=WAIT_MS)
    window.save_settings()
    window.close()

    again = make_window()
    connect(qtbot, again, sandbox)
    qtbot.waitUntil(lambda: again.building_filter.currentData() == site, timeout=WAIT_MS)
    assert again.desk.day.today_action.isChecked()
    qtbot.waitUntil(lambda: again.tabs["visitors"].model.rowCount() == len(todays),
                    timeout=WAIT_MS)


def test_the_days_counts_ignore_the_search_and_follow_a_refresh(qtbot, window, sandbox):
    """The line says how the building's day stands whatever the search narrows the list
    to; a refresh that removes visits and changes others at once (a resync after the
    server lost a visit) recounts it, never reading a row that is gone."""
    connect(qtbot, window, sandbox)
    today = datetime.now().astimezone().date()
    todays = [r for r in sandbox.data.visible(res.VISITS.name)
              if r.get("deletedAt") is None and _local_day(r.get("expectedAt")) == today]
    site = max({str(r["siteKey"]) for r in todays},
               key=lambda k: sum(r["siteKey"] == k for r in todays))
    todays = [r for r in todays if r["siteKey"] == site]
    box = window.building_filter
    box.setCurrentIndex(box.findData(site))
    window.desk.day.today_action.setChecked(True)
    tab = window.tabs["visitors"]
    qtbot.waitUntil(lambda: tab.model.rowCount() == len(todays), timeout=WAIT_MS)
    summary = window.desk.day.summary

    def line(rows: list[dict[str, Any]]) -> str:
        by = {s: sum(1 for r in rows if r["status"] == s)
              for s in ("expected", "checked_in", "checked_out")}
        return (f"Today: {by['expected']:,} expected · {by['checked_in']:,} on site · "
                f"{by['checked_out']:,} left")

    qtbot.waitUntil(lambda: summary.text() == line(todays), timeout=WAIT_MS)
    one = todays[0]
    tab.search.setText(str(one["visitorName"]))
    tab.apply_search_now()
    qtbot.waitUntil(lambda: 0 < tab.model.rowCount() < len(todays), timeout=WAIT_MS)
    assert summary.text() == line(todays)
    tab.search.clear()
    tab.apply_search_now()
    qtbot.waitUntil(lambda: tab.model.rowCount() == len(todays), timeout=WAIT_MS)

    # One change set: the last two of today's visits gone, the first checked out.
    gone = [str(r["key"]) for r in todays[-2:]]
    changed = dict(tab.model.row_at(tab.model.row_of_key(str(one["key"]))),
                   status="checked_out")
    tab.model.apply_changes([changed], gone)
    left = [changed if r["key"] == one["key"] else r for r in todays[:-2]]
    for _ in range(3):  # recounted on the next turn of the loop, not later
        QCoreApplication.processEvents()
    assert summary.text() == line(left)
    assert tab.model.rowCount() == len(left)


def test_the_detail_pane_of_a_visit_offers_its_desk_actions(qtbot, window, sandbox):
    connect(qtbot, window, sandbox)
    key = str(server_visits(sandbox, "expected")[6]["key"])
    tab = window.tabs["visitors"]
    window.resource_tabs.setCurrentWidget(tab)
    tab.table.selectRow(tab.model.row_of_key(key))  # current and selected, as a click
    window.detail_pane.show()
    pane = window.detail_pane
    qtbot.waitUntil(lambda: pane.detail is not None and pane.detail.place.key == key,
                    timeout=WAIT_MS)
    bar = pane.actions_bar
    names = [a.objectName() for a in bar.actions()]
    assert "checkInAction" in names and "approveMoveAction" not in names
    check_in = next(a for a in bar.actions() if a.objectName() == "checkInAction")
    assert check_in.isEnabled()
    check_in.trigger()
    qtbot.waitUntil(lambda: record(sandbox, "visits", key)["status"] == "checked_in",
                    timeout=WAIT_MS)
