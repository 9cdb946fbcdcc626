"""Going offline once, probing with backoff, and coming back online by itself."""

from __future__ import annotations

import asyncio

from makini_desktop.api.errors import MakiniConnectionError, MakiniError
from makini_desktop.sync.connectivity import Connectivity, Reach
from tests.helpers.mockapi import FakeTime, run

DOWN = MakiniConnectionError(0, "CONNECTION_FAILED", "network", "refused")


def test_a_connection_error_goes_offline_once_and_probes_back_online():
    """Many failing tabs make one offline change; the probe restores online by itself."""

    async def go():
        fake = FakeTime()
        answers = [DOWN, DOWN, None]
        changes = []

        async def probe():
            answer = answers.pop(0)
            if answer is not None:
                raise answer

        conn = Connectivity(probe, on_change=changes.append, sleep=fake.sleep)
        assert conn.note_error(DOWN) and conn.note_error(DOWN) and conn.note_error(DOWN)
        assert conn.reach is Reach.OFFLINE and conn.offline_since is not None
        while conn.reach is not Reach.ONLINE:
            await asyncio.sleep(0)
        assert changes == [Reach.OFFLINE, Reach.ONLINE]
        assert len(fake.sleeps) == 3
        for slept, ceiling in zip(fake.sleeps, (2, 4, 8), strict=True):
            assert ceiling / 2 <= slept <= ceiling  # doubling backoff with jitter
        assert conn.offline_since is None

    run(go())


def test_http_errors_do_not_mean_offline():
    """A 500 or 401 is an answer from the API: the app stays online."""
    conn = Connectivity(lambda: asyncio.sleep(0))
    err = MakiniError(500, "INTERNAL_ERROR", "api_error", "boom")
    assert conn.note_error(err) is False
    assert conn.note_error(ValueError("bug")) is False
    assert conn.reach is Reach.ONLINE


def test_a_probe_answered_with_an_http_error_counts_as_back_online():
    """A probe that gets any HTTP answer ends offline mode."""

    async def go():
        async def probe():
            raise MakiniError(503, "SERVICE_UNAVAILABLE", "unavailable", "later")

        conn = Connectivity(probe, sleep=FakeTime().sleep)
        conn.note_error(DOWN)
        while conn.reach is not Reach.ONLINE:
            await asyncio.sleep(0)

    run(go())


def test_work_offline_stops_probing_until_turned_off():
    """"Work offline" holds the app offline with no probe; turning it off goes online."""

    async def go():
        calls = []

        async def probe():
            calls.append(1)

        conn = Connectivity(probe, sleep=FakeTime().sleep)
        conn.set_work_offline(True)
        assert conn.reach is Reach.WORK_OFFLINE
        assert conn.note_error(DOWN)  # still a connectivity error, but no probe starts
        for _ in range(10):
            await asyncio.sleep(0)
        assert calls == [] and conn.reach is Reach.WORK_OFFLINE
        conn.set_work_offline(False)
        assert conn.reach is Reach.ONLINE
        await conn.aclose()

    run(go())


def test_a_success_while_offline_goes_online_and_stops_the_probe():
    """Any request that gets through ends offline mode at once."""

    async def go():
        never = asyncio.Event()

        async def probe():
            await never.wait()

        conn = Connectivity(probe, sleep=FakeTime().sleep)
        conn.note_error(DOWN)
        await asyncio.sleep(0)
        conn.note_success()
        assert conn.reach is Reach.ONLINE
        await conn.aclose()

    run(go())


def test_try_now_probes_once_and_goes_online_when_answered():
    """"Try now" while offline probes at once; an answer brings the app back online."""

    async def go():
        answers = [DOWN, None]

        async def probe():
            answer = answers.pop(0)
            if answer is not None:
                raise answer

        never = asyncio.Event()

        async def slow_sleep(seconds):
            await never.wait()  # the background probe never gets its turn here

        conn = Connectivity(probe, sleep=slow_sleep)
        conn.note_error(DOWN)
        assert await conn.probe_now() is False and conn.reach is Reach.OFFLINE
        assert conn.last_error is DOWN
        assert await conn.probe_now() is True and conn.reach is Reach.ONLINE
        await conn.aclose()

    run(go())
