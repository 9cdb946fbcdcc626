"""The sandbox server's gate (sandbox/server.py): bearer tokens, over real HTTP on
loopback (contract §1)."""

from __future__ import annotations

import httpx
import pytest

from makini_desktop.api import resources as res
from makini_desktop.sandbox.server import SandboxServer
from tests.unit.sandbox.support import assert_error, make_server


@pytest.mark.parametrize("headers", [
    {}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic c2FuZGJveA=="},
    {"Authorization": "Bearer"},
])
def test_missing_or_unknown_token_is_401(shared_server: SandboxServer,
                                         headers: dict[str, str]) -> None:
    """No token, an unknown token or another scheme answers 401 AUTHENTICATION_FAILED."""
    response = httpx.get(shared_server.url + res.ASSETS.path, headers=headers)
    body = assert_error(response, 401, "AUTHENTICATION_FAILED")
    assert body["error"]["type"] == "authentication"
    assert "errors" not in body


def test_revoked_token_is_401_and_added_token_works(client: httpx.Client,
                                                    server: SandboxServer) -> None:
    """revoke() makes a token's next request 401; add_token() lets a new one in."""
    assert client.get(res.SITES.path).status_code == 200
    server.revoke("sandbox-token")
    assert_error(client.get(res.SITES.path), 401, "AUTHENTICATION_FAILED")
    server.add_token("fresh")
    response = client.get(res.SITES.path, headers={"Authorization": "Bearer fresh"})
    assert response.status_code == 200
    assert server.tokens == ("fresh",)


def test_configured_tokens_are_all_accepted() -> None:
    """Every token of the config is accepted."""
    srv = make_server(tokens=("a", "b"))
    try:
        for token in ("a", "b"):
            response = httpx.get(srv.url + res.SITES.path,
                                 headers={"Authorization": f"Bearer {token}"})
            assert response.status_code == 200
    finally:
        srv.stop()
