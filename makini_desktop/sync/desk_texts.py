"""What the front desk and the move desk say, Qt-free (one place for every sentence).

Plain functions of the records and the outbox's changes, so the words are tested without a
widget and the window, the status bar and the outbox panel say the same thing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from makini_desktop.api import resources as res
from makini_desktop.api import writes
from makini_desktop.api.values import enum_label, parse_datetime
from makini_desktop.store.outbox import Change

__all__ = [
    "NOBODY_ON_SITE",
    "NOT_OFFERED_TIP",
    "REFUSED",
    "action_tip",
    "check_out_all_question",
    "conflict_text",
    "done",
    "names_list",
    "no_outbox",
    "not_offered_text",
    "not_stored",
    "not_today",
    "nothing_to_do",
    "pending_tip",
    "reason_prompt",
    "record_name",
    "registered",
    "registered_offline",
]

NOBODY_ON_SITE = "Nobody is checked in here right now."
NOT_OFFERED_TIP = "This connection's system does not offer this change."
REFUSED = "The server refused the change."
_NAMES_SHOWN = 25  # a confirmation lists this many names, then "and N more"

_TIPS: Mapping[str, str] = {
    "check_in": "The visitor has arrived (Ctrl+I)",
    "check_out": "The visitor has left (Ctrl+Shift+O)",
    "undo_arrival": "Checked in by mistake: the visitor is expected again",
    "undo_departure": "Checked out by mistake: the visitor is on site again",
    "no_show": "The visitor did not come",
    "cancel_visit": "The visit will not take place",
    "approve_move": "Approve the move request",
    "reject_move": "Refuse the move request, with a reason",
    "start_move": "The move is under way",
    "complete_move": "The move is done",
    "cancel_move": "Call the move off, with a reason",
}
_DONE: Mapping[str, str] = {
    "check_in": "Checked in", "check_out": "Checked out", "undo_arrival": "Arrival undone for",
    "undo_departure": "Departure undone for", "no_show": "No-show:",
    "cancel_visit": "Visit cancelled:", "approve_move": "Approved", "reject_move": "Rejected",
    "start_move": "Started", "complete_move": "Completed", "cancel_move": "Cancelled",
}
# The timestamp that says when a status was reached (a conflict says "at 14:02").
_STATUS_TIME: Mapping[str, str] = {
    "checked_in": "checkedInAt", "checked_out": "checkedOutAt", "completed": "completedAt",
}


def record_name(row: Mapping[str, Any] | None) -> str:
    """A visit's visitor or a move's title, for a sentence ("Ada Lovelace")."""
    if not row:
        return "The record"
    for field_name in ("visitorName", "title", res.F_NAME):
        value = row.get(field_name)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return f"Record {row.get(res.F_KEY, '')}".strip()


def _noun(view: res.View, n: int) -> str:
    return view.noun[0] if n == 1 else view.noun[1]


def _who(rows: Sequence[Mapping[str, Any]], view: res.View) -> str:
    return record_name(rows[0]) if len(rows) == 1 else f"{len(rows):,} {_noun(view, len(rows))}"


def action_tip(action: writes.Action, *, count: int = 0, offered: bool = True) -> str:
    """An action's tooltip: what it does, and for how many of the selected rows."""
    if not offered:
        return NOT_OFFERED_TIP
    tip = _TIPS.get(action.id, action.label)
    return f"{tip} — {count:,} selected" if count > 1 else tip


_VERBS: Mapping[str, str] = {"cancel_visit": "cancel", "cancel_move": "cancel"}
"""What an action does, where its label names the record ("Cancel move")."""


def nothing_to_do(action: writes.Action, view: res.View, selected: int) -> str:
    if not selected:
        verb = _VERBS.get(action.id, action.label.lower())
        return f"Select the {view.noun[1]} to {verb} first."
    return (f"{action.label}: the selected {_noun(view, selected)}'s status does not allow it."
            if selected == 1 else
            f"{action.label}: none of the {selected:,} selected {view.noun[1]} allows it.")


def reason_prompt(action: writes.Action, view: res.View, rows: Sequence[Mapping[str, Any]]) -> str:
    return f"{action.label}: {_who(rows, view)}. Why? (optional; kept with the move)"


def done(
    action: writes.Action, view: res.View, rows: Sequence[Mapping[str, Any]], skipped: int,
    *, online: bool,
) -> str:
    """The status bar after an action: "Checked in Ada Lovelace" (+ skipped, + offline)."""
    text = f"{_DONE.get(action.id, action.label)} {_who(rows, view)}."
    if skipped:
        text += f" {skipped:,} {_noun(view, skipped)} skipped: status does not allow it."
    if not online:
        text += " Offline: it is sent when the connection is back."
    return text


def pending_tip(pending: Sequence[Change], *, online: bool) -> str:
    """The status cell's tooltip while a change is on its way."""
    if not pending:
        return ""
    change = pending[-1]
    what = _DONE.get(change.action, change.action).rstrip(":").replace(" for", "")
    if not online:
        return f"Sending… ({what}) — offline: waiting for the connection"
    if change.reason:
        return f"Sending… ({what}) — {change.reason}"
    return f"Sending… ({what}) — not yet confirmed by the server"


def _local_time(value: Any) -> str:
    when = parse_datetime(value)
    return when.astimezone().strftime("%H:%M") if when else ""


def not_today(row: Mapping[str, Any]) -> str:
    """Enter found one expected visitor, of another day: selected, not checked in."""
    when = parse_datetime(row.get(res.F_EXPECTED))
    day = f"on {when.astimezone():%a %d %b}" if when else "with no date"
    return (f"{record_name(row)} is expected {day}, not today: selected, not checked in. "
            f"Press Check in (Ctrl+I) to check them in anyway.")


def conflict_text(change: Change, current: Mapping[str, Any] | None) -> str:
    """A 409 in words: "Ada Lovelace: already Checked out at 14:02 on the server."."""
    record = current or change.server_record
    name = record_name(record or change.before)
    if not record:
        return f"{name}: someone else changed it meanwhile; the row shows the server's record."
    status = record.get(res.F_STATUS)
    label = enum_label(str(status)) if status else "changed"
    at = _local_time(record.get(_STATUS_TIME.get(str(status), ""), ""))
    when = f" at {at}" if at else ""
    return f"{name}: already {label}{when} on the server. The row shows the server's record."


def not_offered_text(change: Change, view: res.View) -> str:
    return (f"This connection's system does not offer “{change.action.replace('_', ' ')}” "
            f"for {view.noun[1]}: the action is turned off for it.")


def no_outbox(problem: str | None) -> str:
    base = "Changes cannot be made right now: this connection's offline file is not open."
    return f"{base} {problem}" if problem else base


def not_stored(message: str) -> str:
    return f"The change was not made: it could not be saved on this computer. {message}"


def check_out_all_question(rows: Sequence[Mapping[str, Any]]) -> str:
    n = len(rows)
    who = "visitor is" if n == 1 else "visitors are"
    return f"{n:,} {who} still checked in. Check them all out now?"


def names_list(rows: Sequence[Mapping[str, Any]]) -> str:
    names = [record_name(r) for r in rows[:_NAMES_SHOWN]]
    more = len(rows) - len(names)
    return "\n".join(names) + (f"\n… and {more:,} more" if more > 0 else "")


def registered(record: Mapping[str, Any]) -> str:
    if record.get(res.F_STATUS) == "checked_in":
        return f"{record_name(record)} registered and checked in."
    return f"{record_name(record)} registered."


def registered_offline(body: Mapping[str, Any]) -> str:
    return f"{record_name(body)} registered on this computer; sent when the connection is back."
