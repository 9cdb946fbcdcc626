"""Retries (contract §4-§5): Retry-After, backoff, the time budget, what is never retried."""

from __future__ import annotations

import email.utils
import json

import httpx
import pytest

from makini_desktop.api.errors import MakiniConnectionError, MakiniError
from makini_desktop.api.ratecontrol import RetryEvent, RetryPolicy, parse_retry_after
from tests.helpers.mockapi import TOKEN, error_body, make_client, run


async def _get(client):
    async with client:
        return await client.request("GET", "/api/eam/assets")


@pytest.mark.parametrize(
    ("header", "expected"),
    [("7", 7.0), ("0", 0.0), ("2.5", 2.5), ("garbage", None), ("", None), ("-5", 0.0)],
)
def test_retry_after_delta_seconds(header, expected):
    """Retry-After delta-seconds parse; garbage is ignored; negatives mean now."""
    assert parse_retry_after(header) == expected


def test_retry_after_http_date():
    """Retry-After as an HTTP-date gives the seconds until then."""
    now = 1_800_000_000.0
    header = email.utils.formatdate(now + 30, usegmt=True)
    assert parse_retry_after(header, now=now) == pytest.approx(30, abs=1)


def test_429_waits_retry_after_then_succeeds_and_reports_each_retry():
    """A 429 is retried after its Retry-After, and the callback hears of each retry."""
    answers = iter([
        httpx.Response(429, content=error_body(429, "RATE_LIMIT_EXCEEDED", "slow", "req_a"),
                       headers={"Retry-After": "3"}),
        httpx.Response(429, content=error_body(429, "RATE_LIMIT_EXCEEDED", "slow", "req_b"),
                       headers={"Retry-After": email.utils.formatdate(usegmt=True)}),
        httpx.Response(200, json={"data": {"id": 1}}),
    ])
    events: list[RetryEvent] = []
    client, rec, fake = make_client(lambda r: next(answers), on_retry=events.append)
    response, doc = run(_get(client))
    assert doc == {"data": {"id": 1}}
    assert [e.request_id for e in events] == ["req_a", "req_b"]
    assert events[0].delay == 3.0 and events[0].is_rate_limit
    assert events[0].describe() == "Rate limited — retrying in 3 s"
    assert fake.sleeps[0] == 3.0


def test_retry_after_is_clamped():
    """An absurd Retry-After is clamped to the policy's maximum."""
    answers = iter([
        httpx.Response(429, headers={"Retry-After": "86400"}),
        httpx.Response(200, json={}),
    ])
    client, _, fake = make_client(
        lambda r: next(answers), retry=RetryPolicy(retry_after_cap=30, max_total_seconds=999))
    run(_get(client))
    assert fake.sleeps == [30]


def test_5xx_backoff_is_exponential_with_full_jitter_and_bounded():
    """5xx waits are random in [0, base*2^n], never above the cap."""
    client, rec, fake = make_client(
        lambda r: httpx.Response(500),
        retry=RetryPolicy(max_attempts=8, backoff_base=1, backoff_cap=4, max_total_seconds=999),
    )
    with pytest.raises(MakiniError):
        run(_get(client))
    assert len(fake.sleeps) == 7
    ceilings = [1, 2, 4, 4, 4, 4, 4]
    assert all(0 <= s <= c for s, c in zip(fake.sleeps, ceilings, strict=True))
    assert len(set(fake.sleeps)) > 1  # jittered, not a fixed schedule


def test_retries_stop_at_the_total_time_budget():
    """No retry starts that would end after the total time budget."""
    client, rec, fake = make_client(
        lambda r: httpx.Response(503, headers={"Retry-After": "10"}),
        retry=RetryPolicy(max_attempts=100, max_total_seconds=35),
    )
    with pytest.raises(MakiniError) as info:
        run(_get(client))
    assert len(rec.requests) == 4  # waits 10+10+10 = 30 s, a fourth wait would pass 35 s
    assert info.value.retries == 3
    assert info.value.retry_seconds == pytest.approx(30)
    assert info.value.what_was_done() == "Retried 3 times over 30 s."


def test_connection_errors_and_timeouts_are_retried_for_get():
    """A refused connection and a timeout on a GET are retried, then succeed."""
    answers = iter(["connect", "timeout", "ok"])

    def handler(request):
        what = next(answers)
        if what == "connect":
            raise httpx.ConnectError("refused", request=request)
        if what == "timeout":
            raise httpx.ReadTimeout("slow", request=request)
        return httpx.Response(200, json={"ok": True})

    client, rec, _ = make_client(handler)
    _, doc = run(_get(client))
    assert doc == {"ok": True} and len(rec.requests) == 3


def test_connection_error_that_survives_retries_is_a_connection_error():
    """Persistent failure to connect ends in a MakiniConnectionError the app can go offline on."""

    def handler(request):
        raise httpx.ConnectError("[Errno 111] Connection refused", request=request)

    client, rec, _ = make_client(handler)
    with pytest.raises(MakiniConnectionError) as info:
        run(_get(client))
    assert info.value.is_connection and info.value.code == "CONNECTION_FAILED"
    assert TOKEN not in str(info.value)


def test_put_is_not_retried_on_5xx_or_a_broken_response():
    """A non-idempotent request is not repeated when the server may have acted on it."""
    for make in (lambda r: httpx.Response(500),
                 lambda r: (_ for _ in ()).throw(httpx.ReadError("reset", request=r))):
        client, rec, _ = make_client(make)

        async def put(c=client):
            async with c:
                await c.request("PUT", "/api/iwms/visitors/1", body={"status": "checked_in"})

        with pytest.raises(MakiniError):
            run(put())
        assert len(rec.requests) == 1


def test_put_is_retried_after_429_since_the_server_did_not_act():
    """A 429 on a PUT is retried: the server refused it before acting."""
    answers = iter([httpx.Response(429, headers={"Retry-After": "1"}),
                    httpx.Response(200, json={"data": {"key": "1", "status": "checked_in"}})])
    client, rec, _ = make_client(lambda r: next(answers))

    async def put():
        async with client:
            from makini_desktop.api.resources import VISITS
            return await client.set_status(VISITS, "1", "checked_in")

    assert run(put())["status"] == "checked_in"
    assert len(rec.requests) == 2
    assert json.loads(rec.requests[1].content) == {"status": "checked_in"}
