"""The client's httpx side is built at its first request: what that changes for errors."""

from __future__ import annotations

import asyncio

import pytest

from makini_desktop.api.client import MakiniClient
from makini_desktop.api.errors import MakiniError
from tests.helpers.mockapi import TOKEN, run

REMOTE = "https://api.example-makini.test"  # never reached: each test fails before sending


def first_error(client: MakiniClient) -> MakiniError:
    """The error of the client's first request (it must fail), the client closed after."""

    async def go() -> MakiniError:
        try:
            with pytest.raises(MakiniError) as caught:
                await client.integration()
            return caught.value
        finally:
            await client.aclose()

    return run(go())


@pytest.mark.parametrize("proxy", ["ftp://proxy.example.test:3128", "http://proxy:notaport",
                                   "socks9://warden:s3cret-pass@proxy.example.test:1080"])
def test_an_unusable_proxy_variable_fails_the_first_request_with_a_clear_error(
    monkeypatch: pytest.MonkeyPatch, proxy: str
) -> None:
    """A proxy variable httpx cannot use no longer stops the client being created; its first
    request fails with PROXY_UNUSABLE (not retried; neither the token nor the proxy's
    address, which may carry a password, in the message)."""
    monkeypatch.setenv("HTTPS_PROXY", proxy)
    client = MakiniClient(REMOTE, TOKEN)  # as a session opening on its cached rows does

    err = first_error(client)
    assert err.code == "PROXY_UNUSABLE"
    assert err.status == 0
    assert err.retries == 0
    assert "proxy settings" in err.message
    assert TOKEN not in err.message
    assert "s3cret" not in err.message and "proxy.example.test" not in err.message
    assert "HTTPS_PROXY" in err.message


def test_a_client_closed_before_any_request_refuses_one_as_httpx_does() -> None:
    """Closed unused, the client reports closed and refuses a request with httpx's words."""
    client = MakiniClient(REMOTE, TOKEN)

    async def go() -> None:
        await client.aclose()
        assert client.closed
        with pytest.raises(RuntimeError, match="client has been closed"):
            await client.integration()

    run(go())


def test_the_first_requests_build_one_client_in_a_worker_thread(sandbox, monkeypatch) -> None:
    """Requests at once, before any client exists: one build, made off the caller's thread
    (its imports and trust store would stall the window otherwise), and every request gets
    its answer."""
    import threading

    builds: list[str] = []
    real = MakiniClient._new_http

    def spy(self: MakiniClient) -> object:
        builds.append(threading.current_thread().name)
        return real(self)

    monkeypatch.setattr(MakiniClient, "_new_http", spy)
    client = MakiniClient(sandbox.url, "sandbox-token")

    async def go() -> list[object]:
        try:
            return list(await asyncio.gather(*(client.integration() for _ in range(3))))
        finally:
            await client.aclose()

    answers = run(go())
    assert len(answers) == 3 and all(answers)
    assert len(builds) == 1
    assert builds[0] != threading.main_thread().name


def test_an_unreadable_certificate_store_fails_the_first_request_with_a_clear_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The system's trust store failing to load is a sentence (TLS_SETUP), not a traceback;
    a connection-class error, so changes waiting to be sent keep waiting; not retried."""
    import ssl

    from makini_desktop.api import transport

    def broken() -> ssl.SSLContext:
        raise ssl.SSLError("unreadable CA bundle")

    monkeypatch.setattr(transport, "default_ssl_context", broken)
    client = MakiniClient(REMOTE, TOKEN)

    err = first_error(client)
    assert err.code == "TLS_SETUP"
    assert err.is_connection and err.retries == 0
    assert "certificate store" in err.summary()
