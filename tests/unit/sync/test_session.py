"""A session opened on its offline cache alone, and a session's shutdown while offline."""

from __future__ import annotations

import asyncio
import socket

import pytest

from makini_desktop.api.errors import MakiniError
from makini_desktop.sync.session import ConnectionInfo, Session
from tests.helpers.mockapi import run

TOKEN = "sandbox-token"
# Far longer than any of these steps takes; only there so a hang fails instead of blocking.
HANG_GUARD_SECONDS = 30


def test_a_session_without_a_token_reads_its_cache_and_sends_nothing(sandbox):
    """Opened without a token, a session shows what the cache holds and never calls the API."""
    info = ConnectionInfo("Test", sandbox.url, "cache-only")

    async def fill() -> None:
        session = Session(info, TOKEN)
        try:
            await session.repository("sites").refresh(full=True)
        finally:
            await session.aclose()

    run(fill())
    expected = [r["key"] for r in sandbox.data.visible("sites")]
    sandbox.reset_stats()

    async def use_cache_only() -> tuple[list[str], list[str]]:
        session = Session(info, None, open_cache="later")
        try:
            await session.ensure_cache()
            cached = [r["key"] for r in session.repository("sites").cached_rows()]
            codes = []
            for call in (session.check, session.probe,
                         lambda: session.repository("sites").refresh()):
                with pytest.raises(MakiniError) as caught:
                    await call()
                codes.append(caught.value.code)
            return cached, codes
        finally:
            await session.aclose()

    cached, codes = run(use_cache_only())
    assert cached == expected
    assert codes == ["NO_TOKEN", "NO_TOKEN", "WORK_OFFLINE"]
    assert sandbox.stats.requests == 0


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("first_delay", [0.0, 0.001, 2.0])
def test_closing_a_session_that_went_offline_completes(first_delay):
    """A session whose API went away (probing in the background) still closes."""
    from makini_desktop.api.client import RetryPolicy
    from makini_desktop.sync.connectivity import Reach

    async def go_offline_then_close() -> Reach:
        info = ConnectionInfo("Gone", f"http://127.0.0.1:{_closed_port()}", "gone")
        session = Session(info, TOKEN, open_cache="never")
        session.client.retry = RetryPolicy(max_attempts=1)
        session.connectivity.first_delay = first_delay
        with pytest.raises(MakiniError):
            await session.check()
        reach = session.connectivity.reach
        await asyncio.wait_for(session.aclose(), HANG_GUARD_SECONDS)
        return reach

    for _ in range(5):
        assert run(go_offline_then_close()) is Reach.OFFLINE
