"""The sandbox's API routes (sandbox/routes.py) over real HTTP on loopback: the
Integration, lists (paging, links, filters, sorting, incremental), single records, 404/405,
unavailable modules and status changes (contract §1-§4)."""

from __future__ import annotations

import httpx
import pytest

from makini_desktop.api import resources as res
from makini_desktop.sandbox.server import SandboxServer
from tests.unit.sandbox.support import assert_error, walk


def test_integration_reports_a_ready_connection(shared_client: httpx.Client) -> None:
    """GET /api/integrations/current answers the Integration object with sync_status done."""
    response = shared_client.get(res.INTEGRATION_PATH)
    assert response.status_code == 200
    data = response.json()["data"]
    assert set(data) == {"id", "company_name", "email", "provider", "updated_at",
                         "sync_status", "sync_updated_at"}
    assert data["sync_status"] == "done"
    assert res.connection_state(data["sync_status"]) == "Ready"


@pytest.mark.parametrize("dataset", list(res.DATASETS))
def test_full_walk_equals_visible(shared_client: httpx.Client, shared_server: SandboxServer,
                                  dataset: str) -> None:
    """Following links.next with per_page=100 returns visible() exactly, in key order."""
    path = res.DATASETS[dataset].path
    records = walk(shared_client, path, {"per_page": 100})
    assert records == shared_server.data.visible(dataset)


def test_default_page_is_fifty_records_with_laravel_meta(shared_client: httpx.Client,
                                                         shared_server: SandboxServer) -> None:
    """The first page has 50 records and meta/links per the Laravel paginator."""
    body = shared_client.get(res.ASSETS.path).json()
    total = len(shared_server.data.visible("assets"))
    assert len(body["data"]) == 50
    meta = body["meta"]
    assert meta["current_page"] == 1 and meta["from"] == 1 and meta["to"] == 50
    assert meta["per_page"] == 50 and meta["total"] == total
    assert meta["last_page"] == -(-total // 50)
    assert meta["path"] == f"{shared_server.url}{res.ASSETS.path}"
    assert body["links"]["first"] == f"{shared_server.url}{res.ASSETS.path}?page=1"
    assert body["links"]["prev"] is None


def test_page_size_alias_and_clamp(shared_client: httpx.Client) -> None:
    """pageSize works like per_page; per_page above 100 is clamped to 100."""
    alias = shared_client.get(res.ASSETS.path, params={"pageSize": 7}).json()
    assert len(alias["data"]) == 7 and alias["meta"]["per_page"] == 7
    big = shared_client.get(res.ASSETS.path, params={"per_page": 500}).json()
    assert len(big["data"]) == 100 and big["meta"]["per_page"] == 100


def test_bad_paging_is_a_400(shared_client: httpx.Client) -> None:
    """per_page=0 or page=abc answers 400 INVALID_REQUEST."""
    assert_error(shared_client.get(res.ASSETS.path, params={"per_page": 0}), 400,
                 "INVALID_REQUEST")
    assert_error(shared_client.get(res.ASSETS.path, params={"page": "abc"}), 400,
                 "INVALID_REQUEST")
    assert_error(shared_client.get(res.ASSETS.path, params={"filter[name:like]": "x"}), 400,
                 "INVALID_REQUEST")


def test_page_past_the_end_is_empty(shared_client: httpx.Client) -> None:
    """A page after the last is empty with from/to null and no next link."""
    body = shared_client.get(res.SITES.path, params={"page": 9}).json()
    assert body["data"] == []
    assert body["meta"]["from"] is None and body["meta"]["to"] is None
    assert body["meta"]["current_page"] == 9
    assert body["links"]["next"] is None


def test_links_use_the_request_host(shared_client: httpx.Client) -> None:
    """Pagination links are built from the request's Host header."""
    body = shared_client.get(res.ASSETS.path, headers={"Host": "sandbox.test:8080"}).json()
    assert body["links"]["next"].startswith("http://sandbox.test:8080/api/eam/assets?")
    assert body["meta"]["path"] == "http://sandbox.test:8080/api/eam/assets"


def test_links_keep_filters(shared_client: httpx.Client, shared_server: SandboxServer) -> None:
    """Walking a filtered list through links.next keeps the filter on every page."""
    params = {"filter[categoryName]": "Monitor", "per_page": 10}
    records = walk(shared_client, res.ASSETS.path, params)
    expected = [a for a in shared_server.data.visible("assets") if a["categoryName"] == "Monitor"]
    assert records == expected and len(records) > 10


def test_filter_type_floor_returns_the_floors(shared_client: httpx.Client,
                                              shared_server: SandboxServer) -> None:
    """The floors view's server filter returns exactly the floors."""
    records = walk(shared_client, res.LOCATIONS.path,
                   {**res.FLOORS_VIEW.server_filter, "per_page": 100})
    floors = [r for r in shared_server.data.visible("locations") if r["type"] == "floor"]
    assert records == floors


def test_contains_filter_is_case_insensitive(shared_client: httpx.Client) -> None:
    """filter[name:contains] ignores case."""
    body = shared_client.get(res.LOCATIONS.path,
                             params={"filter[name:contains]": "WORKSTATION"}).json()
    assert body["meta"]["total"] > 50
    assert all("workstation" in r["name"].lower() for r in body["data"])


def test_numeric_filters_and_filter_match_any(shared_client: httpx.Client,
                                              shared_server: SandboxServer) -> None:
    """capacity:gteq compares numbers; filterMatch=any ORs the filters."""
    spaces = shared_server.data.visible("locations")
    big = walk(shared_client, res.LOCATIONS.path,
               {"filter[capacity:gteq]": "10", "per_page": 100})
    assert big == [r for r in spaces if (r.get("capacity") or 0) >= 10]
    either = walk(shared_client, res.LOCATIONS.path, {
        "filter[type]": "lab", "filter[occupied]": "true", "filterMatch": "any", "per_page": 100,
    })
    assert either == [r for r in spaces if r["type"] == "lab" or r.get("occupied") is True]


def test_sort_descending_with_nulls_last(shared_client: httpx.Client,
                                         shared_server: SandboxServer) -> None:
    """sort[lastAuditedAt]=1 orders newest first, never-audited assets last."""
    records = walk(shared_client, res.ASSETS.path, {"sort[lastAuditedAt]": 1, "per_page": 100})
    stamps = [r["lastAuditedAt"] for r in records]
    audited = [s for s in stamps if s is not None]
    assert audited == sorted(audited, reverse=True)
    assert stamps[len(audited):] == [None] * (len(stamps) - len(audited))
    assert sorted(r["key"] for r in records) == [r["key"] for r in
                                                 shared_server.data.visible("assets")]


def test_sort_and_filter_combine(shared_client: httpx.Client) -> None:
    """A filter and a sort apply together."""
    records = walk(shared_client, res.VISITS.path,
                   {"filter[status]": "expected", "sort[expectedAt]": 0, "per_page": 100})
    assert records and all(r["status"] == "expected" for r in records)
    assert [r["expectedAt"] for r in records] == sorted(r["expectedAt"] for r in records)


def test_single_record(shared_client: httpx.Client, shared_server: SandboxServer) -> None:
    """GET {path}/{key} answers {"data": record}."""
    for dataset in res.DATASETS.values():
        record = shared_server.data.visible(dataset.name)[-1]
        response = shared_client.get(dataset.record_path(record["key"]))
        assert response.status_code == 200
        assert response.json() == {"data": record}


@pytest.mark.parametrize("path", [
    "/api/eam/assets/00000000000000", "/api/eam/widgets", "/api/eam/assets/1/extra",
    "/api/eam/assets/", "/", "/favicon.ico",
])
def test_unknown_paths_and_keys_are_404(shared_client: httpx.Client, path: str) -> None:
    """Unknown keys and paths answer 404 NOT_FOUND with a request ID."""
    assert_error(shared_client.get(path), 404, "NOT_FOUND")


def test_wrong_methods_are_405(shared_client: httpx.Client, shared_server: SandboxServer) -> None:
    """POST on a collection, PUT on a read-only record, DELETE anywhere: 405 with Allow."""
    response = shared_client.post(res.ASSETS.path, json={})
    assert_error(response, 405, "METHOD_NOT_ALLOWED")
    assert response.headers["allow"] == "GET, HEAD"
    site = shared_server.data.sites[0]["key"]
    response = shared_client.put(res.SITES.record_path(site), json={"status": "x"})
    assert_error(response, 405, "METHOD_NOT_ALLOWED")
    visit = shared_server.data.visits[0]["key"]
    response = shared_client.delete(res.VISITS.record_path(visit))
    assert_error(response, 405, "METHOD_NOT_ALLOWED")
    assert response.headers["allow"] == "GET, HEAD, PUT"
    assert_error(shared_client.put(res.INTEGRATION_PATH, json={}), 405, "METHOD_NOT_ALLOWED")


def test_unavailable_module_is_404(client: httpx.Client, server: SandboxServer) -> None:
    """A dataset marked unavailable answers 404 NOT_FOUND on its collection (§2)."""
    server.set_unavailable(["moves"])
    assert_error(client.get(res.MOVES.path), 404, "NOT_FOUND")
    assert client.get(res.VISITS.path).status_code == 200


def _with_status(server: SandboxServer, dataset: str, status: str) -> dict:
    return next(r for r in server.data.visible(dataset) if r["status"] == status)


def test_visitor_check_in_and_out(client: httpx.Client, server: SandboxServer) -> None:
    """expected -> checked_in -> checked_out sets the timestamps and a newer updatedAt."""
    visit = _with_status(server, "visits", "expected")
    newest = max(r["updatedAt"] for r in server.data.visits)
    response = client.put(res.VISITS.record_path(visit["key"]), json={"status": "checked_in"})
    assert response.status_code == 200
    data = response.json()["data"]
    assert data["status"] == "checked_in"
    assert data["checkedInAt"] == data["updatedAt"] > newest
    response = client.put(res.VISITS.record_path(visit["key"]), json={"status": "checked_out"})
    out = response.json()["data"]
    assert out["checkedOutAt"] == out["updatedAt"] > data["updatedAt"]
    assert client.get(res.VISITS.record_path(visit["key"])).json()["data"] == out


def test_invalid_visit_transition_is_409(client: httpx.Client, server: SandboxServer) -> None:
    """Checking in a cancelled visitor answers 409 CONFLICT and changes nothing."""
    visit = _with_status(server, "visits", "cancelled")
    response = client.put(res.VISITS.record_path(visit["key"]), json={"status": "checked_in"})
    assert_error(response, 409, "CONFLICT")
    assert server.data.get("visits", visit["key"]) == visit


def test_unknown_status_is_422_with_field_errors(client: httpx.Client,
                                                 server: SandboxServer) -> None:
    """An unknown or missing status answers 422 VALIDATION_FAILED with errors.status."""
    visit = _with_status(server, "visits", "expected")
    path = res.VISITS.record_path(visit["key"])
    body = assert_error(client.put(path, json={"status": "arrived"}), 422, "VALIDATION_FAILED")
    assert body["errors"]["status"]
    body = assert_error(client.put(path, json={"note": "x"}), 422, "VALIDATION_FAILED")
    assert body["errors"]["status"] == ["The status field is required."]


def test_malformed_put_body_is_400(client: httpx.Client, server: SandboxServer) -> None:
    """A body that is not a JSON object answers 400 INVALID_REQUEST."""
    path = res.VISITS.record_path(server.data.visits[0]["key"])
    assert_error(client.put(path, content=b"{nope"), 400, "INVALID_REQUEST")
    assert_error(client.put(path, json=["checked_in"]), 400, "INVALID_REQUEST")


def test_move_goes_through_its_workflow(client: httpx.Client, server: SandboxServer) -> None:
    """pending -> approved -> in_progress -> completed sets completedAt; back is 409."""
    move = _with_status(server, "moves", "pending")
    path = res.MOVES.record_path(move["key"])
    for status in ("approved", "in_progress", "completed"):
        response = client.put(path, json={"status": status})
        assert response.status_code == 200, response.text
    done = response.json()["data"]
    assert done["completedAt"] == done["updatedAt"]
    assert_error(client.put(path, json={"status": "cancelled"}), 409, "CONFLICT")


def test_put_on_unknown_key_is_404(client: httpx.Client) -> None:
    """PUT on a key that does not exist answers 404."""
    response = client.put(res.MOVES.record_path("99999999999999"), json={"status": "approved"})
    assert_error(response, 404, "NOT_FOUND")


def test_status_change_shows_in_filtered_lists(client: httpx.Client,
                                               server: SandboxServer) -> None:
    """A cached filtered list reflects a status change made afterwards."""
    params = {"filter[status]": "checked_in", "sort[visitorName]": 0, "per_page": 100}
    before = {r["key"] for r in walk(client, res.VISITS.path, params)}
    visit = _with_status(server, "visits", "expected")
    client.put(res.VISITS.record_path(visit["key"]), json={"status": "checked_in"})
    after = {r["key"] for r in walk(client, res.VISITS.path, params)}
    assert after == before | {visit["key"]}


def test_incremental_returns_changes_including_tombstones(client: httpx.Client,
                                                          server: SandboxServer) -> None:
    """filter[updatedAt:gt] returns exactly the mutated records, soft-deleted ones too."""
    newest = max(r["updatedAt"] for r in server.data.assets)
    total = client.get(res.ASSETS.path).json()["meta"]["total"]
    keys = server.mutate("assets", 10, delete_share=0.3)
    assert len(keys) == 10
    changed = walk(client, res.ASSETS.path, {"filter[updatedAt:gt]": newest, "per_page": 100})
    assert sorted(r["key"] for r in changed) == keys
    tombstones = [r for r in changed if r["deletedAt"] is not None]
    assert len(tombstones) == 3
    assert all(r["updatedAt"] == r["deletedAt"] > newest for r in tombstones)
    assert client.get(res.ASSETS.path).json()["meta"]["total"] == total - 3
    assert_error(client.get(res.ASSETS.record_path(tombstones[0]["key"])), 404, "NOT_FOUND")
    plain = walk(client, res.ASSETS.path, {"per_page": 100})
    assert not {r["key"] for r in tombstones} & {r["key"] for r in plain}
