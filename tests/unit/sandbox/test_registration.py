"""Visitor registration on the sandbox (contract §6.3): 201 with a new key, walk-ins, 422
with messages per field, and a replayed registration that creates no second visit."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest

from makini_desktop.api import resources as res
from makini_desktop.sandbox.server import SandboxServer
from tests.unit.sandbox.support import assert_error, walk
from tests.unit.sandbox.writes_support import fix_clock, iso, new_key, newest_stamp


@pytest.fixture(autouse=True)
def _fixed_clock(server: SandboxServer) -> None:
    fix_clock(server)


def _space(server: SandboxServer) -> tuple[str, str]:
    """A (site key, space key) pair: a visible space of a visible site."""
    sites = {s["key"] for s in server.data.visible("sites")}
    space = next(r for r in server.data.visible("locations")
                 if r["type"] != "floor" and r["siteKey"] in sites)
    return space["siteKey"], space["key"]


def _fields(server: SandboxServer, **extra: Any) -> dict[str, Any]:
    site, space = _space(server)
    fields = {
        "visitorName": "  Amara Okafor ", "visitorType": "interview", "hostName": "Lena Fischer",
        "siteKey": site, "locationKey": space, "expectedAt": iso(timedelta(hours=2)),
        "visitorEmail": "amara.okafor@example.org", "company": "Northwind",
        "notes": "Interview for the data team",
    }
    fields.update(extra)
    return fields


def _post(client: httpx.Client, body: dict[str, Any], idem: str | None = None
          ) -> httpx.Response:
    return client.post(res.VISITS.path, json=body,
                       headers={"Idempotency-Key": idem or new_key()})


def test_a_registration_creates_an_expected_visit_with_a_new_key(
    client: httpx.Client, server: SandboxServer
) -> None:
    """201 with the visit: a key no record had, sorting after every existing key; the
    fields as sent (trimmed); listed, readable and seen by an incremental sync."""
    all_keys = {r["key"] for name in res.DATASETS for r in server.data.dataset(name)}
    before = newest_stamp(server)
    fields = _fields(server)
    response = _post(client, fields)
    assert response.status_code == 201, response.text
    visit = response.json()["data"]
    assert visit["key"] not in all_keys and visit["key"] > max(all_keys)
    assert visit["visitorName"] == "Amara Okafor"
    for name in ("visitorType", "hostName", "siteKey", "locationKey", "expectedAt",
                 "visitorEmail", "company", "notes"):
        assert visit[name] == fields[name], name
    assert (visit["status"], visit["checkedInAt"], visit["checkedOutAt"]) == (
        "expected", None, None)
    assert visit["createdAt"] == visit["updatedAt"] > before
    assert client.get(res.VISITS.record_path(visit["key"])).json()["data"] == visit
    changed = walk(client, res.VISITS.path, {"filter[updatedAt:gt]": before})
    assert [r["key"] for r in changed] == [visit["key"]]


def test_a_walk_in_is_registered_checked_in_at_its_arrival(
    client: httpx.Client, server: SandboxServer
) -> None:
    """status checked_in with occurredAt registers a walk-in already at the desk."""
    arrived = iso(-timedelta(minutes=3))
    fields = _fields(server, status="checked_in", occurredAt=arrived, expectedAt=arrived)
    visit = _post(client, fields).json()["data"]
    assert (visit["status"], visit["checkedInAt"]) == ("checked_in", arrived)


def test_missing_required_fields_are_422_per_field_and_nothing_is_created(
    client: httpx.Client, server: SandboxServer
) -> None:
    """Each required field that is missing or blank has its own message."""
    count = len(server.data.visits)
    body = assert_error(_post(client, {"visitorName": "   ", "company": "Acme"}), 422,
                        "VALIDATION_FAILED")
    assert set(body["errors"]) == set(res.REGISTRATION_REQUIRED)
    assert body["errors"]["visitorName"] == ["The visitor's name field is required."]
    assert body["errors"]["siteKey"] == ["The building field is required."]
    assert body["message"].startswith("The visitor's name field is required. (and 4 more")
    assert len(server.data.visits) == count


@pytest.mark.parametrize(("override", "field", "words"), [
    ({"visitorType": "tourist"}, "visitorType", "visitor type is invalid"),
    ({"visitorEmail": "not-an-address"}, "visitorEmail", "valid email"),
    ({"siteKey": "11111111111111"}, "siteKey", "building does not exist"),
    ({"expectedAt": "tomorrow morning"}, "expectedAt", "ISO-8601"),
    ({"status": "checked_out"}, "status", "expected or checked in"),
    ({"occurredAt": "2026-01-01T09:00:00Z", "status": "checked_in"}, "occurredAt",
     "7 days in the past"),
    ({"hostName": 17}, "hostName", "must be text"),
    ({"notes": "x" * 2001}, "notes", "2000 characters"),
])
def test_an_invalid_field_is_422_on_that_field(
    client: httpx.Client, server: SandboxServer, override: dict, field: str, words: str
) -> None:
    """A wrong value is refused with a message on its field only."""
    body = assert_error(_post(client, _fields(server, **override)), 422, "VALIDATION_FAILED")
    assert list(body["errors"]) == [field]
    assert words in body["errors"][field][0]


def test_a_space_must_be_a_space_of_that_building(
    client: httpx.Client, server: SandboxServer
) -> None:
    """A space of another building, or a floor, is refused on locationKey."""
    site, _ = _space(server)
    other = next(r for r in server.data.visible("locations")
                 if r["type"] != "floor" and r["siteKey"] != site)
    floor = next(r for r in server.data.visible("locations") if r["type"] == "floor")
    body = assert_error(_post(client, _fields(server, locationKey=other["key"])), 422,
                        "VALIDATION_FAILED")
    assert body["errors"]["locationKey"] == ["The selected space is not in that building."]
    body = assert_error(_post(client, _fields(server, locationKey=floor["key"])), 422,
                        "VALIDATION_FAILED")
    assert body["errors"]["locationKey"] == ["The selected space does not exist."]


def test_a_replayed_registration_creates_no_second_visit(
    client: httpx.Client, server: SandboxServer
) -> None:
    """The same key and body again: the same 201 and the same key; one visit more, not two."""
    count = len(server.data.visits)
    idem = new_key()
    fields = _fields(server)
    first = _post(client, fields, idem)
    again = _post(client, fields, idem)
    assert (again.status_code, again.content) == (201, first.content)
    assert len(server.data.visits) == count + 1
    (entry,) = [e for e in server.idempotency_log() if e["idempotencyKey"] == idem]
    assert (entry["record"], entry["applied"], entry["replays"]) == (
        first.json()["data"]["key"], 1, 1)


def test_registration_is_refused_with_405_when_visitors_are_read_only(
    client: httpx.Client, server: SandboxServer
) -> None:
    """--read-only visitors: POST is 405 (not offered); nothing is created."""
    server.set_read_only(["visitors"])
    count = len(server.data.visits)
    response = _post(client, _fields(server))
    body = assert_error(response, 405, "METHOD_NOT_ALLOWED")
    assert body["error"]["type"] == "not_supported"
    assert response.headers["allow"] == "GET, HEAD"
    assert len(server.data.visits) == count


def test_moves_cannot_be_created(client: httpx.Client) -> None:
    """POST on the moves collection is 405: only visits are registered."""
    response = client.post(res.MOVES.path, json={"title": "x"})
    assert_error(response, 405, "METHOD_NOT_ALLOWED")
    assert response.headers["allow"] == "GET, HEAD"
