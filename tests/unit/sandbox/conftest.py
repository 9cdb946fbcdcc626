"""Fixtures for the sandbox tests: fixed-time data and servers on loopback."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from makini_desktop.sandbox.data import SandboxData, generate
from makini_desktop.sandbox.server import SandboxServer
from tests.unit.sandbox.support import AUTH, NOW, make_server


@pytest.fixture(scope="module")
def small_data() -> SandboxData:
    """Small-scale data at the fixed NOW (read-only: do not mutate)."""
    return generate("small", 42, now=NOW)


@pytest.fixture(scope="module")
def shared_server() -> Iterator[SandboxServer]:
    """A server shared by the read-only tests of a module."""
    srv = make_server()
    yield srv
    srv.stop()


@pytest.fixture
def server() -> Iterator[SandboxServer]:
    """A fresh server for a test that changes state."""
    srv = make_server()
    yield srv
    srv.stop()


@pytest.fixture
def client(server: SandboxServer) -> Iterator[httpx.Client]:
    """An authenticated client of the fresh server."""
    with httpx.Client(base_url=server.url, headers=AUTH, timeout=10) as c:
        yield c


@pytest.fixture
def shared_client(shared_server: SandboxServer) -> Iterator[httpx.Client]:
    """An authenticated client of the shared read-only server."""
    with httpx.Client(base_url=shared_server.url, headers=AUTH, timeout=10) as c:
        yield c
