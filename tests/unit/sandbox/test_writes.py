"""Status changes on the sandbox (contract §6.2): occurredAt and its limits, the undo steps,
"already in that status", 409 with error.current, 404 for a deleted key, statusReason."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest

from makini_desktop.api import resources as res
from makini_desktop.sandbox.server import SandboxServer
from tests.unit.sandbox.support import assert_error, walk
from tests.unit.sandbox.writes_support import fix_clock, iso, newest_stamp, pick, put


@pytest.fixture(autouse=True)
def _fixed_clock(server: SandboxServer) -> None:
    fix_clock(server)


def test_check_in_records_occurred_at_and_advances_updated_at(
    client: httpx.Client, server: SandboxServer
) -> None:
    """A check-in made at 11:00 and sent later records 11:00 as checkedInAt; updatedAt is
    newer than every earlier stamp, so an incremental sync picks it up."""
    visit = pick(server, "visits", "expected")
    before = newest_stamp(server)
    at = iso(-timedelta(hours=1))
    response = put(client, res.VISITS, visit["key"],
                   {"status": "checked_in", "expectedStatus": "expected", "occurredAt": at})
    assert response.status_code == 200, response.text
    data = response.json()["data"]
    assert (data["status"], data["checkedInAt"]) == ("checked_in", at)
    assert data["updatedAt"] > before
    changed = walk(client, res.VISITS.path, {"filter[updatedAt:gt]": before})
    assert [r["key"] for r in changed] == [visit["key"]]
    assert client.get(res.VISITS.record_path(visit["key"])).json()["data"] == data


def test_without_occurred_at_the_server_time_is_recorded(
    client: httpx.Client, server: SandboxServer
) -> None:
    """No occurredAt: checkedInAt is the server's time of the change (its updatedAt)."""
    visit = pick(server, "visits", "expected")
    data = put(client, res.VISITS, visit["key"], {"status": "checked_in"}).json()["data"]
    assert data["checkedInAt"] == data["updatedAt"]


def test_check_out_records_checked_out_at_and_keeps_the_arrival(
    client: httpx.Client, server: SandboxServer
) -> None:
    """checked_in -> checked_out sets checkedOutAt to occurredAt; checkedInAt stays."""
    visit = pick(server, "visits", "checked_in")
    at = iso(-timedelta(minutes=5))
    data = put(client, res.VISITS, visit["key"], {
        "status": "checked_out", "expectedStatus": "checked_in", "occurredAt": at,
    }).json()["data"]
    assert (data["status"], data["checkedOutAt"]) == ("checked_out", at)
    assert data["checkedInAt"] == visit["checkedInAt"]


def test_undo_arrival_clears_checked_in_at(client: httpx.Client, server: SandboxServer) -> None:
    """checked_in -> expected (arrival undone) clears checkedInAt."""
    visit = pick(server, "visits", "checked_in")
    assert visit["checkedInAt"]
    data = put(client, res.VISITS, visit["key"],
               {"status": "expected", "expectedStatus": "checked_in"}).json()["data"]
    assert (data["status"], data["checkedInAt"]) == ("expected", None)


def test_undo_departure_clears_checked_out_at_only(
    client: httpx.Client, server: SandboxServer
) -> None:
    """checked_out -> checked_in (departure undone) clears checkedOutAt, keeps checkedInAt."""
    visit = pick(server, "visits", "checked_out")
    data = put(client, res.VISITS, visit["key"],
               {"status": "checked_in", "expectedStatus": "checked_out",
                "occurredAt": iso()}).json()["data"]
    assert data["status"] == "checked_in"
    assert data["checkedOutAt"] is None
    assert data["checkedInAt"] == visit["checkedInAt"]


@pytest.mark.parametrize("target", ["no_show", "cancelled"])
def test_an_expected_visit_can_be_a_no_show_or_cancelled(
    client: httpx.Client, server: SandboxServer, target: str
) -> None:
    """expected -> no_show and expected -> cancelled change the status only."""
    visit = pick(server, "visits", "expected")
    data = put(client, res.VISITS, visit["key"],
               {"status": target, "expectedStatus": "expected"}).json()["data"]
    assert data["status"] == target
    assert (data["checkedInAt"], data["checkedOutAt"]) == (None, None)


def test_asking_for_the_current_status_is_a_success_that_changes_nothing(
    client: httpx.Client, server: SandboxServer
) -> None:
    """A replayed check-in of a visitor already checked in is 200 with the record as it is."""
    visit = pick(server, "visits", "checked_in")
    response = put(client, res.VISITS, visit["key"],
                   {"status": "checked_in", "expectedStatus": "expected", "occurredAt": iso()})
    assert response.status_code == 200
    assert response.json()["data"] == visit
    assert server.data.get("visits", visit["key"]) == visit


def test_a_stale_check_in_of_a_checked_out_visitor_is_409_with_the_current_record(
    client: httpx.Client, server: SandboxServer
) -> None:
    """expectedStatus expected, target checked_in, record checked_out: 409, never taken
    as "departure undone"; error.current is the server's record."""
    visit = pick(server, "visits", "checked_out")
    response = put(client, res.VISITS, visit["key"],
                   {"status": "checked_in", "expectedStatus": "expected"})
    body = assert_error(response, 409, "CONFLICT")
    assert body["error"]["current"] == visit
    assert "checked out" in body["message"]
    assert server.data.get("visits", visit["key"]) == visit


def test_without_expected_status_the_table_alone_decides(
    client: httpx.Client, server: SandboxServer
) -> None:
    """No expectedStatus: checked_out -> checked_in is the undo step and is allowed."""
    visit = pick(server, "visits", "checked_out")
    response = put(client, res.VISITS, visit["key"], {"status": "checked_in"})
    assert response.status_code == 200
    assert response.json()["data"]["checkedOutAt"] is None


@pytest.mark.parametrize(("dataset", "status", "target"), [
    ("visits", "cancelled", "checked_in"),
    ("visits", "no_show", "checked_out"),
    ("visits", "expected", "checked_out"),
    ("moves", "pending", "in_progress"),
    ("moves", "completed", "cancelled"),
    ("moves", "rejected", "approved"),
])
def test_a_change_the_table_does_not_allow_is_409_with_current(
    client: httpx.Client, server: SandboxServer, dataset: str, status: str, target: str
) -> None:
    """Any change outside §6.2's table is 409 CONFLICT carrying the server's record."""
    rec = pick(server, dataset, status)
    ds = res.DATASETS[dataset]
    body = assert_error(put(client, ds, rec["key"], {"status": target}), 409, "CONFLICT")
    assert body["error"]["current"] == rec
    assert server.data.get(dataset, rec["key"]) == rec


def test_a_move_goes_through_its_workflow_and_records_completion(
    client: httpx.Client, server: SandboxServer
) -> None:
    """pending -> approved -> in_progress -> completed; completedAt is occurredAt."""
    move = pick(server, "moves", "pending")
    done_at = iso(-timedelta(minutes=30))
    seen = "pending"
    for target in ("approved", "in_progress", "completed"):
        response = put(client, res.MOVES, move["key"], {
            "status": target, "expectedStatus": seen, "occurredAt": done_at,
        })
        assert response.status_code == 200, response.text
        seen = target
    data = response.json()["data"]
    assert (data["status"], data["completedAt"]) == ("completed", done_at)
    assert data["statusReason"] is None


@pytest.mark.parametrize(("status", "target"), [("pending", "rejected"),
                                                ("approved", "cancelled"),
                                                ("pending", "cancelled")])
def test_a_rejection_or_cancellation_keeps_its_reason(
    client: httpx.Client, server: SandboxServer, status: str, target: str
) -> None:
    """reason goes into the move's statusReason."""
    move = pick(server, "moves", status)
    reason = "Budget frozen until April"
    data = put(client, res.MOVES, move["key"],
               {"status": target, "expectedStatus": status, "reason": reason}).json()["data"]
    assert (data["status"], data["statusReason"]) == (target, reason)


def test_generated_moves_carry_a_status_reason_when_rejected_or_cancelled(
    server: SandboxServer,
) -> None:
    """Every move has statusReason: text when rejected or cancelled, else null."""
    for move in server.data.moves:
        reason = move["statusReason"]
        if move["status"] in ("rejected", "cancelled"):
            assert isinstance(reason, str) and reason
        else:
            assert reason is None


def test_a_deleted_or_unknown_key_is_404(client: httpx.Client, server: SandboxServer) -> None:
    """A soft-deleted visit and a key nobody has both answer 404 NOT_FOUND."""
    (gone,) = server.mutate("visits", 1, delete_share=1.0)
    assert_error(put(client, res.VISITS, gone, {"status": "cancelled"}), 404, "NOT_FOUND")
    assert_error(put(client, res.MOVES, "77777777777777", {"status": "approved"}), 404,
                 "NOT_FOUND")


@pytest.mark.parametrize(("delta", "ok"), [
    (timedelta(minutes=5), True),
    (timedelta(minutes=5, seconds=1), False),
    (-timedelta(days=7), True),
    (-timedelta(days=7, seconds=1), False),
    (timedelta(days=30), False),
])
def test_occurred_at_limits(client: httpx.Client, server: SandboxServer, delta: timedelta,
                            ok: bool) -> None:
    """occurredAt up to 5 minutes ahead and 7 days back is taken; beyond is 422 on the
    field, and nothing changes."""
    visit = pick(server, "visits", "expected")
    response = put(client, res.VISITS, visit["key"],
                   {"status": "checked_in", "occurredAt": iso(delta)})
    if ok:
        assert response.status_code == 200, response.text
        assert response.json()["data"]["checkedInAt"] == iso(delta)
    else:
        body = assert_error(response, 422, "VALIDATION_FAILED")
        assert list(body["errors"]) == ["occurredAt"]
        word = "future" if delta > timedelta() else "past"
        assert word in body["errors"]["occurredAt"][0]
        assert server.data.get("visits", visit["key"]) == visit


@pytest.mark.parametrize("value", ["yesterday", "2026-03-12", 1773316800, ""])
def test_an_occurred_at_that_is_not_a_date_time_is_422(
    client: httpx.Client, server: SandboxServer, value: object
) -> None:
    """occurredAt must be an ISO-8601 date and time."""
    visit = pick(server, "visits", "expected")
    body = assert_error(put(client, res.VISITS, visit["key"],
                            {"status": "checked_in", "occurredAt": value}),
                        422, "VALIDATION_FAILED")
    assert "ISO-8601" in body["errors"]["occurredAt"][0]


def test_an_occurred_at_with_an_offset_is_recorded_in_utc(
    client: httpx.Client, server: SandboxServer
) -> None:
    """11:30+01:00 is recorded as 10:30Z."""
    visit = pick(server, "visits", "expected")
    data = put(client, res.VISITS, visit["key"], {
        "status": "checked_in", "occurredAt": "2026-03-12T11:30:00+01:00",
    }).json()["data"]
    assert data["checkedInAt"] == "2026-03-12T10:30:00Z"


def test_bad_expected_status_and_reason_are_422_on_their_fields(
    client: httpx.Client, server: SandboxServer
) -> None:
    """An unknown expectedStatus and a reason that is not text are field errors."""
    move = pick(server, "moves", "pending")
    body = assert_error(put(client, res.MOVES, move["key"], {
        "status": "rejected", "expectedStatus": "waiting", "reason": 42,
    }), 422, "VALIDATION_FAILED")
    assert set(body["errors"]) == {"expectedStatus", "reason"}
    assert "(and 1 more error)" in body["message"]
    assert server.data.get("moves", move["key"]) == move
