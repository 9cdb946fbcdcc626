"""The test-only /__sandbox__/ control endpoints."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from makini_desktop.api import resources as res
from makini_desktop.sandbox.server import SandboxServer
from tests.unit.sandbox.support import AUTH, make_server


@pytest.fixture
def admin(server: SandboxServer) -> Iterator[httpx.Client]:
    """A client without a token: admin paths need none."""
    with httpx.Client(base_url=server.url + "/__sandbox__") as c:
        yield c


def test_faults_can_be_set_listed_and_cleared(admin: httpx.Client, client: httpx.Client) -> None:
    """POST replaces the faults (specs or objects), GET lists them, DELETE clears them."""
    response = admin.post("/faults", json=["500:count=1", {"kind": "502", "every": 2}])
    assert response.status_code == 200
    assert [f["spec"] for f in response.json()["faults"]] == ["500:count=1", "502:every=2"]
    assert client.get(res.SITES.path).status_code == 500
    listed = admin.get("/faults").json()["faults"]
    assert listed[0]["fired"] == 1
    assert admin.delete("/faults").json() == {"faults": []}
    assert client.get(res.SITES.path).status_code == 200


def test_bad_fault_spec_is_400(admin: httpx.Client, server: SandboxServer) -> None:
    """An invalid spec answers 400 and leaves the faults as they were."""
    response = admin.post("/faults", json=["teapot"])
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "INVALID_REQUEST"
    assert admin.post("/faults", content=b"[oops").status_code == 400
    assert server.faults == []


def test_revoke_and_add_tokens(admin: httpx.Client, client: httpx.Client) -> None:
    """POST revoke makes a token fail; POST tokens adds one."""
    assert admin.post("/revoke", json={"token": "sandbox-token"}).status_code == 200
    assert client.get(res.SITES.path).status_code == 401
    assert admin.post("/tokens", json={"token": "new-one"}).status_code == 200
    response = client.get(res.SITES.path, headers={"Authorization": "Bearer new-one"})
    assert response.status_code == 200
    assert admin.post("/tokens", json={}).status_code == 400


def test_mutate_returns_the_changed_keys(admin: httpx.Client, server: SandboxServer) -> None:
    """POST mutate changes records and returns their keys."""
    response = admin.post("/mutate", json={"dataset": "assets", "count": 5, "delete_share": 0.4})
    keys = response.json()["keys"]
    assert len(keys) == 5
    deleted = [k for k in keys if server.data.get("assets", k)["deletedAt"] is not None]
    assert len(deleted) == 2
    assert admin.post("/mutate", json={"dataset": "nope", "count": 1}).status_code == 400
    assert admin.post("/mutate", json={"dataset": "assets", "count": "x"}).status_code == 400


def test_rate_limit_and_latency(admin: httpx.Client, client: httpx.Client,
                                server: SandboxServer) -> None:
    """POST rate-limit and latency change the server's behaviour."""
    assert admin.post("/rate-limit", json={"per_minute": 1}).json() == {"per_minute": 1}
    client.get(res.SITES.path)
    assert client.get(res.SITES.path).status_code == 429
    assert admin.post("/rate-limit", json={"per_minute": None}).json() == {"per_minute": None}
    assert client.get(res.SITES.path).status_code == 200
    assert admin.post("/latency", json={"ms": 5}).json() == {"ms": 5}
    assert admin.post("/latency", json={"ms": -1}).status_code == 400
    assert admin.post("/rate-limit", json={"per_minute": 0}).status_code == 400


def test_stats_count_api_requests(admin: httpx.Client, client: httpx.Client) -> None:
    """GET stats counts API requests by status; DELETE resets them."""
    client.get(res.SITES.path)
    client.get(res.SITES.record_path("missing"))
    stats = admin.get("/stats").json()
    assert stats["requests"] == 2
    assert stats["responses"] == {"200": 1, "404": 1}
    assert admin.delete("/stats").json()["requests"] == 0


def test_sync_status_and_unavailable(admin: httpx.Client, client: httpx.Client) -> None:
    """POST sync-status changes the Integration; POST unavailable hides a module."""
    assert admin.post("/sync-status", json={"status": "error"}).status_code == 200
    assert client.get(res.INTEGRATION_PATH).json()["data"]["sync_status"] == "error"
    assert admin.post("/sync-status", json={"status": "weird"}).status_code == 400
    assert admin.post("/unavailable", json={"datasets": ["visits"]}).status_code == 200
    assert client.get(res.VISITS.path).status_code == 404
    assert admin.post("/unavailable", json={"datasets": ["nope"]}).status_code == 400


def test_unknown_admin_path_and_method(admin: httpx.Client) -> None:
    """An unknown admin path is 404; a wrong method is 405."""
    assert admin.get("/nothing").status_code == 404
    response = admin.get("/mutate")
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"


def test_admin_disabled_hides_the_paths() -> None:
    """With admin off, /__sandbox__/ paths answer 404 like any unknown path."""
    srv = make_server(admin=False)
    try:
        response = httpx.post(srv.url + "/__sandbox__/revoke", json={"token": "sandbox-token"},
                              headers=AUTH)
        assert response.status_code == 404
        assert httpx.get(srv.url + res.SITES.path, headers=AUTH).status_code == 200
    finally:
        srv.stop()


def test_test_controls_page_lists_the_faults_in_force(server: SandboxServer) -> None:
    """GET /__sandbox__/ (the start-up guide's "Test controls" link) is an HTML page that
    lists the faults, latency and rate limit in force and how to change them."""
    server.set_faults(["503:p=0.05,retry_after=2"])
    server.set_latency(50)
    response = httpx.get(server.url + "/__sandbox__/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    page = response.text
    assert "<code>503:p=0.05,retry_after=2</code>" in page
    assert "Latency: 50 ms" in page
    assert "Rate limit: none." in page
    assert f"curl -X DELETE {server.url}/__sandbox__/faults" in page
    server.clear_faults()
    assert "<li>None</li>" in httpx.get(server.url + "/__sandbox__/").text


def test_test_controls_page_explains_every_fault_kind_and_key(server: SandboxServer) -> None:
    """The page names every fault kind and every key a spec may use, as --help does."""
    import re

    page = httpx.get(server.url + "/__sandbox__/").text
    named = set(re.findall(r"<dt><code>([^<]+)</code></dt>", page))
    for key in ("p", "every", "count", "after", "path", "retry_after", "ms", "shape",
                "bytes", "depth", "status"):
        assert key in named, key
    for kind in ("bad-data", "trickle", "surrogate", "xml-illegal", "deep", "echo-token",
                 "short-total", "429", "reset", "latency"):
        assert kind in named, kind
