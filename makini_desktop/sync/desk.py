"""The front desk's and the move desk's actions, Qt-free: what each does and when it may.

A :class:`DeskAction` is one thing a receptionist or a move coordinator does to a record
(check a visitor in, approve a move): the record's target status, whether it asks for a
reason, and the words the app uses for it. Whether a record's status allows it comes from the
contract's transition tables in :mod:`makini_desktop.api.resources` (§6.2), so the enabled
state of a button and the server's rules cannot drift apart.

:func:`plan_action` takes the selected rows and gives the ones the action applies to and the
ones it skips (with why), which is what the window shows before anything is sent.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from makini_desktop.api import resources as res

__all__ = [
    "MOVE_ACTIONS",
    "VISIT_ACTIONS",
    "ActionPlan",
    "DeskAction",
    "actions_for",
    "allows",
    "plan_action",
]


@dataclass(frozen=True)
class DeskAction:
    """One status change a desk makes.

    Attributes:
        id: stable id; the QAction's object name is ``f"{id}Action"``.
        dataset: the dataset whose records it changes.
        target: the status the record gets.
        label: the menu text ("Check in").
        done: the past tense for the status bar ("Checked in").
        shortcut: a key sequence in Qt's portable text form, or "".
        needs_reason: the user is asked why (a rejection, a cancellation).
        tip: what the action does, for its tooltip.
    """

    id: str
    dataset: res.Dataset
    target: str
    label: str
    done: str
    shortcut: str = ""
    needs_reason: bool = False
    tip: str = ""


VISIT_ACTIONS: tuple[DeskAction, ...] = (
    DeskAction("checkIn", res.VISITS, "checked_in", "Check &in", "Checked in", "Ctrl+I",
               tip="The visitor has arrived"),
    DeskAction("checkOut", res.VISITS, "checked_out", "Check &out", "Checked out",
               "Ctrl+Shift+O", tip="The visitor has left"),
    DeskAction("undoArrival", res.VISITS, "expected", "Undo &arrival", "Arrival undone",
               tip="Checked in by mistake: the visitor is expected again"),
    DeskAction("undoDeparture", res.VISITS, "checked_in", "Undo &departure",
               "Departure undone", tip="Checked out by mistake: the visitor is on site again"),
    DeskAction("noShow", res.VISITS, "no_show", "&No-show", "Marked as no-show",
               tip="The visitor did not come"),
    DeskAction("cancelVisit", res.VISITS, "cancelled", "Cance&l visit", "Visit cancelled",
               tip="The visit will not take place"),
)

MOVE_ACTIONS: tuple[DeskAction, ...] = (
    DeskAction("approveMove", res.MOVES, "approved", "&Approve", "Approved",
               tip="Approve the move request"),
    DeskAction("rejectMove", res.MOVES, "rejected", "&Reject…", "Rejected", needs_reason=True,
               tip="Refuse the move request, with a reason"),
    DeskAction("startMove", res.MOVES, "in_progress", "&Start", "Started",
               tip="The move is under way"),
    DeskAction("completeMove", res.MOVES, "completed", "&Complete", "Completed",
               tip="The move is done"),
    DeskAction("cancelMove", res.MOVES, "cancelled", "Ca&ncel move…", "Cancelled",
               needs_reason=True, tip="Call the move off, with a reason"),
)

# An undo is told apart from the forward step with the same target by where it starts.
_FROM: Mapping[str, tuple[str, ...]] = {
    "undoArrival": ("checked_in",),
    "undoDeparture": ("checked_out",),
}


def actions_for(dataset: res.Dataset) -> tuple[DeskAction, ...]:
    """The desk actions on a dataset's records (none for a read-only dataset)."""
    if dataset is res.VISITS:
        return VISIT_ACTIONS
    if dataset is res.MOVES:
        return MOVE_ACTIONS
    return ()


def allows(action: DeskAction, status: object) -> bool:
    """True if a record in ``status`` may take ``action`` (contract §6.2)."""
    status = str(status) if status is not None else ""
    starts = _FROM.get(action.id)
    if starts is not None and status not in starts:
        return False
    table = res.VISIT_TRANSITIONS if action.dataset is res.VISITS else res.MOVE_TRANSITIONS
    return action.target in table.get(status, ())


@dataclass(frozen=True)
class ActionPlan:
    """What an action would do to a selection.

    Attributes:
        apply: the rows it changes, in the selection's order.
        skipped: the rows it leaves alone, with their status.
    """

    apply: tuple[Mapping[str, Any], ...]
    skipped: tuple[Mapping[str, Any], ...]

    def skipped_text(self, noun: tuple[str, str]) -> str:
        """'2 visitors skipped: their status does not allow it', or ''."""
        n = len(self.skipped)
        if not n:
            return ""
        word = noun[0] if n == 1 else noun[1]
        return f"{n:,} {word} skipped: {'its' if n == 1 else 'their'} status does not allow it"


def plan_action(action: DeskAction, rows: Iterable[Mapping[str, Any]]) -> ActionPlan:
    """Split the selected rows into those the action applies to and those it skips."""
    apply: list[Mapping[str, Any]] = []
    skipped: list[Mapping[str, Any]] = []
    for row in rows:
        (apply if allows(action, row.get(res.F_STATUS)) else skipped).append(row)
    return ActionPlan(tuple(apply), tuple(skipped))


def enabled_actions(
    actions: Sequence[DeskAction], rows: Iterable[Mapping[str, Any]]
) -> set[str]:
    """The ids of the actions at least one of the rows allows."""
    statuses = {str(row.get(res.F_STATUS) or "") for row in rows}
    return {a.id for a in actions if any(allows(a, s) for s in statuses)}
