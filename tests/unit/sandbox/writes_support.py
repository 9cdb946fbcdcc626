"""Shared helpers of the sandbox's write tests: a fixed server clock, picking records by
status, and sending a status change."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import httpx

from makini_desktop.api import resources as res
from makini_desktop.sandbox.server import SandboxServer
from tests.unit.sandbox.support import NOW

SERVER_NOW = NOW.timestamp()
"""The server's clock in these tests (``occurredAt``'s limits are measured from it)."""


def iso(delta: timedelta = timedelta()) -> str:
    """NOW + delta in the contract's form."""
    return (NOW + delta).strftime("%Y-%m-%dT%H:%M:%SZ")


def fix_clock(server: SandboxServer) -> None:
    """Pin the server's clock for ``occurredAt`` to NOW."""
    server.writes.clock = lambda: SERVER_NOW


def pick(server: SandboxServer, dataset: str, status: str, n: int = 0) -> dict[str, Any]:
    """The n-th visible record of a dataset with that status."""
    return [r for r in server.data.visible(dataset) if r["status"] == status][n]


def put(
    client: httpx.Client,
    ds: res.Dataset,
    key: str,
    body: dict[str, Any],
    *,
    idem: str | None = None,
) -> httpx.Response:
    """A status change, with ``Idempotency-Key: idem`` when given."""
    headers = {} if idem is None else {"Idempotency-Key": idem}
    return client.put(ds.record_path(key), json=body, headers=headers)


def new_key() -> str:
    return str(uuid.uuid4())


def newest_stamp(server: SandboxServer) -> str:
    """The newest updatedAt of every record (what an incremental sync last saw)."""
    return max(r["updatedAt"] for name in ("sites", "locations", "assets", "moves", "visits")
               for r in server.data.dataset(name))
