"""The API client's transport security: https only, the token only to its own origin."""

from __future__ import annotations

import httpx
import pytest

from makini_desktop.api.client import MakiniClient
from makini_desktop.api.errors import InsecureUrlError
from tests.helpers.mockapi import BASE, TOKEN, make_client, run


@pytest.mark.parametrize("url", ["http://api.makini.io", "http://10.0.0.5:8080", "http://example.com"])
def test_plain_http_to_a_remote_host_is_refused_before_anything_is_sent(url):
    """http:// to a host that is not loopback raises before any request exists."""
    calls = []
    with pytest.raises(InsecureUrlError):
        MakiniClient(url, TOKEN, transport=httpx.MockTransport(calls.append))
    assert calls == []


@pytest.mark.parametrize("url", ["http://127.0.0.1:8080", "http://localhost:1", "http://[::1]:9"])
def test_plain_http_to_loopback_is_allowed(url):
    """The sandbox on loopback may use http://."""
    MakiniClient(url, TOKEN, transport=httpx.MockTransport(lambda r: httpx.Response(200)))


def test_headers_sent_on_every_request():
    """Bearer token, Accept, User-Agent and a fresh X-Request-Id go with each request."""
    client, rec, _ = make_client(lambda r: httpx.Response(200, json={"data": {}}))

    async def go():
        async with client:
            await client.integration()
            await client.integration()

    run(go())
    first, second = rec.requests
    assert first.headers["authorization"] == f"Bearer {TOKEN}"
    assert first.headers["accept"] == "application/json"
    assert first.headers["user-agent"].startswith("makini-desktop/")
    assert first.headers["x-request-id"] != second.headers["x-request-id"]


def test_authorization_is_not_forwarded_on_a_redirect_to_another_host():
    """A redirect to another origin is followed without the token."""

    def handler(request):
        if request.url.host == "api.example-makini.test":
            return httpx.Response(302, headers={"Location": "https://evil.example/steal"})
        return httpx.Response(200, json={"data": {"ok": 1}})

    client, rec, _ = make_client(handler)
    run(_collect_integration(client))
    assert rec.requests[0].headers.get("authorization") == f"Bearer {TOKEN}"
    assert rec.requests[1].url.host == "evil.example"
    assert "authorization" not in rec.requests[1].headers


def test_authorization_is_kept_on_a_same_origin_redirect():
    """A redirect within the connection's own origin keeps the token."""

    def handler(request):
        if request.url.path.endswith("/current"):
            return httpx.Response(301, headers={"Location": f"{BASE}/api/v2/current2"})
        return httpx.Response(200, json={"data": {"ok": 1}})

    client, rec, _ = make_client(handler)
    run(_collect_integration(client))
    assert rec.requests[1].headers["authorization"] == f"Bearer {TOKEN}"


async def _collect_integration(client):
    async with client:
        return await client.integration()


def test_the_token_never_shows_in_the_client_repr():
    """The auth object does not print the token."""
    client, _, _ = make_client(lambda r: httpx.Response(200))
    assert TOKEN not in repr(client._http.auth)
