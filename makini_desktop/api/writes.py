"""The writes of contract §6, Qt-free: which actions a status allows, the bodies the client
sends, what a change does to a record, and how a failed write is classified.

* :data:`VISIT_ACTIONS`, :data:`MOVE_ACTIONS` and :func:`allowed_actions`: the front desk's
  and the move desk's actions and the statuses each is offered from, derived from the one
  transition table in :mod:`makini_desktop.api.resources` (the UI enables actions from it).
* :func:`status_body`, :func:`registration_body`, :func:`format_occurred_at`: the wire
  bodies, built the same way every time so a replay with the same ``Idempotency-Key`` sends
  the same body (the server answers ``422`` to a key reused with another body).
* :func:`apply_status`: the record after a status change, as the server makes it (the
  sandbox applies it; the outbox shows it before the server has confirmed).
* :func:`classify` and :class:`WriteFailure`: what a caller does with a failed write
  (replay it with the same key, show the server's record, disable the action ...).

Nothing here sends a request: :class:`~makini_desktop.api.client.MakiniClient` does.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum
from typing import Any

from makini_desktop.api import resources as res
from makini_desktop.api.errors import (
    ConflictError,
    MakiniError,
    NotFoundError,
    NotOfferedError,
    RateLimitedError,
    ValidationFailedError,
)

__all__ = [
    "ACTIONS",
    "MOVE_ACTIONS",
    "VISIT_ACTIONS",
    "Action",
    "WriteFailure",
    "action",
    "allowed_actions",
    "apply_status",
    "classify",
    "format_occurred_at",
    "is_allowed",
    "new_idempotency_key",
    "registration_body",
    "status_body",
]


@dataclass(frozen=True)
class Action:
    """One thing a person can do to a visit or a move.

    Attributes:
        id: stable identifier (``check_in``), also the suffix of the UI's QAction names.
        dataset: the dataset whose records it changes (:data:`~resources.VISITS` ...).
        target: the status it asks for.
        sources: the statuses it is offered from (its ``expectedStatus``).
        label: the English label (the UI translates it).
        asks_reason: the UI asks a reason, sent as ``reason`` (kept in ``statusReason``).
    """

    id: str
    dataset: res.Dataset
    target: str
    sources: tuple[str, ...]
    label: str
    asks_reason: bool = False

    def allows(self, status: object) -> bool:
        """Whether a record with this status offers the action."""
        return isinstance(status, str) and status in self.sources


def _action(
    id_: str, dataset: res.Dataset, target: str, label: str, *, sources: tuple[str, ...],
    asks_reason: bool = False,
) -> Action:
    # Each action's sources must be legal transitions of the one table: fail at import.
    for source in sources:
        if target not in dataset.transitions.get(source, ()):
            raise AssertionError(f"{id_}: {source} -> {target} is not in the contract's table")
    return Action(id_, dataset, target, sources, label, asks_reason)


CHECK_IN = _action("check_in", res.VISITS, "checked_in", "Check in", sources=("expected",))
CHECK_OUT = _action("check_out", res.VISITS, "checked_out", "Check out",
                    sources=("checked_in",))
UNDO_ARRIVAL = _action("undo_arrival", res.VISITS, "expected", "Undo arrival",
                       sources=("checked_in",))
UNDO_DEPARTURE = _action("undo_departure", res.VISITS, "checked_in", "Undo departure",
                         sources=("checked_out",))
NO_SHOW = _action("no_show", res.VISITS, "no_show", "No-show", sources=("expected",))
CANCEL_VISIT = _action("cancel_visit", res.VISITS, "cancelled", "Cancel visit",
                       sources=("expected",))

APPROVE_MOVE = _action("approve_move", res.MOVES, "approved", "Approve", sources=("pending",))
REJECT_MOVE = _action("reject_move", res.MOVES, "rejected", "Reject", sources=("pending",),
                      asks_reason=True)
START_MOVE = _action("start_move", res.MOVES, "in_progress", "Start", sources=("approved",))
COMPLETE_MOVE = _action("complete_move", res.MOVES, "completed", "Complete",
                        sources=("in_progress",))
CANCEL_MOVE = _action("cancel_move", res.MOVES, "cancelled", "Cancel move",
                      sources=("pending", "approved"), asks_reason=True)

VISIT_ACTIONS: tuple[Action, ...] = (
    CHECK_IN, CHECK_OUT, UNDO_ARRIVAL, UNDO_DEPARTURE, NO_SHOW, CANCEL_VISIT,
)
MOVE_ACTIONS: tuple[Action, ...] = (
    APPROVE_MOVE, REJECT_MOVE, START_MOVE, COMPLETE_MOVE, CANCEL_MOVE,
)
ACTIONS: Mapping[str, Action] = {a.id: a for a in (*VISIT_ACTIONS, *MOVE_ACTIONS)}
"""Every action by id."""

# Every transition of the table is reachable through exactly one action per source.
for _ds, _actions in ((res.VISITS, VISIT_ACTIONS), (res.MOVES, MOVE_ACTIONS)):
    _pairs = sorted((s, a.target) for a in _actions for s in a.sources)
    _table = sorted((s, t) for s, ts in _ds.transitions.items() for t in ts)
    if _pairs != _table:  # pragma: no cover - a contract change without an action
        raise AssertionError(f"{_ds.name}: actions {_pairs} do not cover {_table}")


def action(action_id: str) -> Action:
    """The action with that id.

    Raises:
        KeyError: no such action.
    """
    return ACTIONS[action_id]


def allowed_actions(dataset: res.Dataset, status: object) -> tuple[Action, ...]:
    """The actions a record of ``dataset`` with ``status`` offers, in toolbar order."""
    actions = VISIT_ACTIONS if dataset.name == res.VISITS.name else (
        MOVE_ACTIONS if dataset.name == res.MOVES.name else ()
    )
    return tuple(a for a in actions if a.allows(status))


def is_allowed(dataset: res.Dataset, current: object, target: str) -> bool:
    """Whether the contract's table allows ``current -> target`` for the dataset."""
    return isinstance(current, str) and target in dataset.transitions.get(current, ())


# ---------------------------------------------------------------------------------------
# Bodies


def new_idempotency_key() -> str:
    """A fresh ``Idempotency-Key``: a uuid4, one per user action (contract §6.1)."""
    return str(uuid.uuid4())


def format_occurred_at(when: datetime | str) -> str:
    """``occurredAt`` as the contract writes it: ISO-8601 UTC with ``Z``, whole seconds.

    A string is passed through as it is (an outbox stores the text it first sent, so a
    replay sends the very same body).

    Raises:
        ValueError: a naive datetime (its zone is unknown, so its instant is too).
    """
    if isinstance(when, str):
        return when
    if when.tzinfo is None:
        raise ValueError("occurred_at must be timezone-aware (e.g. datetime.now(UTC))")
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def status_body(
    status: str,
    *,
    expected_status: str | None,
    occurred_at: datetime | str | None,
    reason: str | None = None,
) -> dict[str, Any]:
    """The body of a status change (contract §6.2); absent parts are left out."""
    body: dict[str, Any] = {res.W_STATUS: status}
    if expected_status is not None:
        body[res.W_EXPECTED_STATUS] = expected_status
    if occurred_at is not None:
        body[res.W_OCCURRED_AT] = format_occurred_at(occurred_at)
    if reason is not None:
        body[res.W_REASON] = reason
    return body


def registration_body(
    fields: Mapping[str, Any], *, occurred_at: datetime | str | None
) -> dict[str, Any]:
    """The body of a visitor registration (contract §6.3): the given fields (None values
    left out, unknown ones kept for systems with custom fields) and ``occurredAt``."""
    body = {str(k): v for k, v in fields.items() if v is not None}
    if occurred_at is not None:
        body[res.W_OCCURRED_AT] = format_occurred_at(occurred_at)
    return body


# ---------------------------------------------------------------------------------------
# What a change does to a record


def apply_status(
    dataset: res.Dataset,
    record: Mapping[str, Any],
    target: str,
    *,
    when: str,
    reason: str | None = None,
) -> dict[str, Any]:
    """The record after ``current -> target``, as the server makes it (contract §6.2).

    The status is set; a check-in, check-out or completion records ``when`` in its
    timestamp (``checkedInAt`` ...); an undo step clears the timestamp it undoes; a move's
    rejection or cancellation keeps ``reason`` in ``statusReason``. ``updatedAt`` is left
    to the caller (the server's own clock, not ``occurredAt``). Asking for the status the
    record already has returns an unchanged copy.

    Args:
        dataset: the record's dataset.
        record: the record before the change (not modified).
        target: the status asked for.
        when: ``occurredAt`` (or the server's time) as ISO-8601 UTC.
        reason: the reason given, if any.
    """
    new = dict(record)
    current = record.get(res.F_STATUS)
    if current == target:
        return new
    new[res.F_STATUS] = target
    cleared = res.UNDO_CLEARS.get(dataset.name, {}).get((str(current), target))
    if cleared is not None:
        new[cleared] = None
    else:
        stamp = res.STATUS_STAMPS.get(dataset.name, {}).get(target)
        if stamp is not None:
            new[stamp] = when
    if target in res.REASON_STATUSES.get(dataset.name, ()):
        new[res.F_STATUS_REASON] = reason
    return new


# ---------------------------------------------------------------------------------------
# A failed write


class WriteFailure(Enum):
    """What a failed write means for the change that was being sent."""

    CONFLICT = "conflict"
    """409: the server has another status; show its record (``error.current``), drop the
    change."""
    NOT_OFFERED = "not_offered"
    """405 (or 404 on a registration): the system does not offer it; disable the action."""
    VALIDATION = "validation"
    """422: the values were refused; field messages to the form. Not replayed."""
    NOT_FOUND = "not_found"
    """404: the record is gone (deleted or unknown). Not replayed."""
    RATE_LIMITED = "rate_limited"
    """429 after the client's retries: replay later with the same key."""
    NETWORK = "network"
    """No (complete) answer: the server may or may not have applied it; replay with the
    same key (the server answers a replay with its first answer)."""
    AUTH = "auth"
    """401: the connection needs a new token; replay after reconnecting."""
    SERVER = "server"
    """5xx or an unusable answer: replay later with the same key."""
    REFUSED = "refused"
    """Anything else (400, 403 ...): failed for good; show it with its request ID."""

    @property
    def replay(self) -> bool:
        """Sending the same change again (with the same key) may succeed."""
        return self in _REPLAYABLE


_REPLAYABLE = frozenset({WriteFailure.RATE_LIMITED, WriteFailure.NETWORK, WriteFailure.AUTH,
                         WriteFailure.SERVER})


def classify(err: MakiniError) -> WriteFailure:
    """What a write's error means (see :class:`WriteFailure`)."""
    if isinstance(err, ConflictError) or err.status == 409:
        return WriteFailure.CONFLICT
    if isinstance(err, NotOfferedError) or err.status == 405:
        return WriteFailure.NOT_OFFERED
    if isinstance(err, ValidationFailedError) or err.status == 422:
        return WriteFailure.VALIDATION
    if isinstance(err, NotFoundError) or err.status == 404:
        return WriteFailure.NOT_FOUND
    if isinstance(err, RateLimitedError) or err.status == 429:
        return WriteFailure.RATE_LIMITED
    if err.is_auth:
        return WriteFailure.AUTH
    if err.status == 0:
        # Offline, a timeout, a reset mid-answer, a trickled answer: the outcome is unknown.
        return WriteFailure.NETWORK
    if err.status >= 500 or 200 <= err.status < 300:
        return WriteFailure.SERVER
    return WriteFailure.REFUSED
