"""Shared helpers of the sandbox tests: the fixed clock, auth, a list walker and the check of
a contract §4 error."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx

from makini_desktop.sandbox.server import SandboxConfig, SandboxServer

NOW = datetime(2026, 3, 12, 12, 0, 0, tzinfo=UTC)  # a Thursday
TOKEN = "sandbox-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def make_server(**overrides: Any) -> SandboxServer:
    """A started small-scale server at the fixed NOW (caller stops it)."""
    options: dict[str, Any] = {"now": NOW, "scale": "small", "seed": 42}
    options.update(overrides)
    return SandboxServer(SandboxConfig(**options)).start()


def walk(client: httpx.Client, path: str, params: dict[str, Any] | None = None) -> list[dict]:
    """Every record of a list, following links.next like a client would."""
    out: list[dict] = []
    response = client.get(path, params=params)
    pages = 0
    while True:
        assert response.status_code == 200, response.text
        body = response.json()
        out.extend(body["data"])
        pages += 1
        assert pages < 1000
        nxt = body["links"]["next"]
        if not nxt:
            return out
        response = client.get(nxt)


def assert_error(response: httpx.Response, status: int, code: str) -> dict:
    """The response is a contract §4 error with that status and code; returns the body."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert body["error"]["code"] == code
    assert body["error"]["type"]
    assert body["message"] == body["error"]["message"]
    assert body["error"]["request_id"] == response.headers["x-request-id"]
    return body
