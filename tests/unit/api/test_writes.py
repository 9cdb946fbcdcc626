"""The Qt-free write policy (api/writes.py): which actions a status allows, what a change
does to a record, the bodies sent, and how a failed write is classified."""

from __future__ import annotations

import pickle
import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest

from makini_desktop.api import resources as res
from makini_desktop.api import writes
from makini_desktop.api.errors import (
    ConflictError,
    MakiniConnectionError,
    MakiniError,
    MalformedResponseError,
    NotFoundError,
    NotOfferedError,
    RateLimitedError,
    SlowAnswerError,
    ValidationFailedError,
    error_from_response,
)
from makini_desktop.api.writes import WriteFailure

# Contract §6.2, written out by hand: status -> the actions offered.
VISIT_OFFERS = {
    "expected": ["check_in", "no_show", "cancel_visit"],
    "checked_in": ["check_out", "undo_arrival"],
    "checked_out": ["undo_departure"],
    "cancelled": [],
    "no_show": [],
}
MOVE_OFFERS = {
    "pending": ["approve_move", "reject_move", "cancel_move"],
    "approved": ["start_move", "cancel_move"],
    "in_progress": ["complete_move"],
    "completed": [],
    "rejected": [],
    "cancelled": [],
}
CONTRACT_CHANGES = {
    "visits": {("expected", "checked_in"), ("expected", "cancelled"), ("expected", "no_show"),
               ("checked_in", "checked_out"), ("checked_in", "expected"),
               ("checked_out", "checked_in")},
    "moves": {("pending", "approved"), ("pending", "rejected"), ("pending", "cancelled"),
              ("approved", "in_progress"), ("approved", "cancelled"),
              ("in_progress", "completed")},
}


@pytest.mark.parametrize(("dataset", "offers"), [(res.VISITS, VISIT_OFFERS),
                                                 (res.MOVES, MOVE_OFFERS)])
def test_each_status_offers_the_contracts_actions(dataset: res.Dataset,
                                                   offers: dict[str, list[str]]) -> None:
    """The actions enabled for a status are exactly those §6.2 allows from it."""
    assert set(offers) == set(dataset.statuses)
    for status, expected in offers.items():
        assert [a.id for a in writes.allowed_actions(dataset, status)] == expected, status


def test_a_status_that_is_not_text_offers_nothing() -> None:
    """An unknown or mistyped status (a tolerant client shows it as text) enables nothing."""
    for odd in (None, 3, "arrived", ["expected"]):
        assert writes.allowed_actions(res.VISITS, odd) == ()
    assert writes.allowed_actions(res.ASSETS, "expected") == ()


@pytest.mark.parametrize("dataset", [res.VISITS, res.MOVES])
def test_the_transition_table_is_the_contracts(dataset: res.Dataset) -> None:
    """The one table in resources.py holds exactly §6.2's changes, each reachable by one
    action."""
    table = {(s, t) for s, ts in dataset.transitions.items() for t in ts}
    assert table == CONTRACT_CHANGES[dataset.name]
    by_action = [(s, a.target) for a in writes.ACTIONS.values() if a.dataset == dataset
                 for s in a.sources]
    assert sorted(by_action) == sorted(table)
    for current, target in table:
        assert writes.is_allowed(dataset, current, target)
    assert not writes.is_allowed(dataset, "completed", "pending")


def test_reasons_are_asked_for_rejections_and_cancellations_of_moves() -> None:
    """Reject and Cancel (moves) ask a reason; nothing else does."""
    asking = sorted(a.id for a in writes.ACTIONS.values() if a.asks_reason)
    assert asking == ["cancel_move", "reject_move"]


VISIT = {"key": "1", "status": "expected", "checkedInAt": None, "checkedOutAt": None,
         "updatedAt": "2026-03-12T08:00:00Z"}


def test_apply_status_check_in_then_out_then_the_undo_steps() -> None:
    """Check-in records when; check-out too; undo departure clears checkedOutAt only; undo
    arrival clears checkedInAt. The input record is never modified."""
    original = dict(VISIT)
    inside = writes.apply_status(res.VISITS, VISIT, "checked_in", when="2026-03-12T09:00:00Z")
    assert VISIT == original
    assert (inside["status"], inside["checkedInAt"]) == ("checked_in", "2026-03-12T09:00:00Z")
    out = writes.apply_status(res.VISITS, inside, "checked_out", when="2026-03-12T11:00:00Z")
    assert (out["checkedInAt"], out["checkedOutAt"]) == ("2026-03-12T09:00:00Z",
                                                          "2026-03-12T11:00:00Z")
    back = writes.apply_status(res.VISITS, out, "checked_in", when="2026-03-12T11:05:00Z")
    assert (back["status"], back["checkedInAt"], back["checkedOutAt"]) == (
        "checked_in", "2026-03-12T09:00:00Z", None)
    undone = writes.apply_status(res.VISITS, back, "expected", when="2026-03-12T11:06:00Z")
    assert (undone["status"], undone["checkedInAt"]) == ("expected", None)
    assert undone["updatedAt"] == VISIT["updatedAt"]  # the server's clock sets it


def test_apply_status_on_moves_keeps_the_reason_and_the_completion() -> None:
    """A rejection keeps its reason in statusReason; a completion records completedAt."""
    move = {"key": "2", "status": "pending", "statusReason": None, "completedAt": None}
    rejected = writes.apply_status(res.MOVES, move, "rejected", when="x", reason="No budget")
    assert (rejected["status"], rejected["statusReason"]) == ("rejected", "No budget")
    approved = writes.apply_status(res.MOVES, move, "approved", when="x", reason="ignored")
    assert approved["statusReason"] is None
    done = writes.apply_status(res.MOVES, {**move, "status": "in_progress"}, "completed",
                               when="2026-03-12T16:00:00Z")
    assert done["completedAt"] == "2026-03-12T16:00:00Z"


def test_apply_status_to_the_current_status_changes_nothing() -> None:
    """Asking for the status a record has gives it back unchanged."""
    inside = {**VISIT, "status": "checked_in", "checkedInAt": "2026-03-12T09:00:00Z"}
    assert writes.apply_status(res.VISITS, inside, "checked_in", when="later") == inside


def test_status_body_leaves_out_what_is_absent_and_writes_utc() -> None:
    """occurredAt is UTC with Z and whole seconds; a stored text is sent as it is."""
    paris = timezone(timedelta(hours=1))
    body = writes.status_body("checked_in", expected_status="expected",
                              occurred_at=datetime(2026, 3, 12, 10, 0, 5, 999, tzinfo=paris))
    assert body == {"status": "checked_in", "expectedStatus": "expected",
                    "occurredAt": "2026-03-12T09:00:05Z"}
    assert writes.status_body("approved", expected_status=None, occurred_at=None) == {
        "status": "approved"}
    assert writes.status_body("rejected", expected_status="pending",
                              occurred_at="2026-03-12T09:00:00Z", reason="r")["reason"] == "r"
    with pytest.raises(ValueError):
        writes.format_occurred_at(datetime(2026, 3, 12, 9, 0))


def test_registration_body_drops_empty_fields_and_keeps_custom_ones() -> None:
    """None values are left out; unknown fields travel (custom field mappings)."""
    body = writes.registration_body(
        {"visitorName": "A", "company": None, "badgeColour": "blue"},
        occurred_at=datetime(2026, 3, 12, 9, 0, tzinfo=UTC),
    )
    assert body == {"visitorName": "A", "badgeColour": "blue",
                    "occurredAt": "2026-03-12T09:00:00Z"}


def test_idempotency_keys_are_fresh_uuid4s() -> None:
    """One uuid4 per user action."""
    keys = {writes.new_idempotency_key() for _ in range(100)}
    assert len(keys) == 100
    assert all(uuid.UUID(k).version == 4 for k in keys)


def _err(status: int, code: str = "") -> MakiniError:
    return error_from_response(status, "Reason", {}, b"", method="PUT", path="/api/x")


@pytest.mark.parametrize(("error", "kind", "replay"), [
    (_err(409), WriteFailure.CONFLICT, False),
    (_err(405), WriteFailure.NOT_OFFERED, False),
    (_err(422), WriteFailure.VALIDATION, False),
    (_err(404), WriteFailure.NOT_FOUND, False),
    (_err(429), WriteFailure.RATE_LIMITED, True),
    (_err(401), WriteFailure.AUTH, True),
    (_err(500), WriteFailure.SERVER, True),
    (_err(503), WriteFailure.SERVER, True),
    (_err(400), WriteFailure.REFUSED, False),
    (_err(403), WriteFailure.REFUSED, False),
    (MakiniConnectionError(0, "CONNECTION_LOST", "network", "broke"), WriteFailure.NETWORK,
     True),
    (SlowAnswerError(0, "TOO_SLOW", "network", "slow"), WriteFailure.NETWORK, True),
    (MalformedResponseError(200, "MALFORMED_RESPONSE", "api_error", "no record"),
     WriteFailure.SERVER, True),
    (NotOfferedError(404, "NOT_FOUND", "not_found", "none"), WriteFailure.NOT_OFFERED, False),
])
def test_a_failed_write_is_classified(error: MakiniError, kind: WriteFailure,
                                      replay: bool) -> None:
    """Each failure maps to what the outbox does with it."""
    assert writes.classify(error) is kind
    assert kind.replay is replay


def test_errors_are_typed_by_status() -> None:
    """404, 405, 409, 422 and 429 answers build their own error classes; 405 is the
    contract's METHOD_NOT_ALLOWED / not_supported."""
    assert isinstance(_err(404), NotFoundError)
    assert isinstance(_err(409), ConflictError)
    assert isinstance(_err(422), ValidationFailedError)
    assert isinstance(_err(429), RateLimitedError)
    not_offered = _err(405)
    assert isinstance(not_offered, NotOfferedError)
    assert (not_offered.code, not_offered.type) == ("METHOD_NOT_ALLOWED", "not_supported")
    assert "does not offer" in not_offered.summary()


def test_a_conflict_carries_the_servers_record_and_survives_pickling() -> None:
    """error.current becomes ConflictError.current (also after a pickle round trip)."""
    body = (b'{"message": "Already checked out.", "error": {"code": "CONFLICT", '
            b'"type": "conflict", "message": "Already checked out.", "request_id": "req_9", '
            b'"current": {"key": "7", "status": "checked_out"}}}')
    err = error_from_response(409, "Conflict", {}, body)
    assert isinstance(err, ConflictError)
    assert err.current == {"key": "7", "status": "checked_out"}
    assert err.request_id == "req_9"
    again = pickle.loads(pickle.dumps(err))
    assert isinstance(again, ConflictError) and again.current == err.current
    bare = error_from_response(409, "Conflict", {}, b'{"error": {"current": "nope"}}')
    assert isinstance(bare, ConflictError) and bare.current is None
