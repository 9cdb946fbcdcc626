"""Per-token rate limiting of the sandbox (contract §5)."""

from __future__ import annotations

import time

import httpx
import pytest

from makini_desktop.api import resources as res
from makini_desktop.sandbox.ratelimit import UNLIMITED, RateLimiter
from makini_desktop.sandbox.server import SandboxServer
from tests.unit.sandbox.support import AUTH, make_server


class FakeClock:
    """A clock that moves only when told to."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def limiter(per_minute: int | None) -> tuple[RateLimiter, FakeClock]:
    clock = FakeClock()
    return RateLimiter(per_minute, clock=clock, wall=lambda: 1_700_000_000.0), clock


def test_burst_is_about_one_second_of_the_limit() -> None:
    """600/min allows a burst of 10, then refuses until tokens refill."""
    rl, clock = limiter(600)
    assert rl.capacity == 10
    assert [rl.take("t").allowed for _ in range(11)] == [True] * 10 + [False]
    clock.now += 0.1  # 600/min = 10/s: one token per 0.1 s
    assert rl.take("t").allowed
    assert not rl.take("t").allowed


def test_small_limits_have_a_burst_of_one() -> None:
    """Below 60/min the bucket holds a single request."""
    rl, _ = limiter(30)
    assert rl.capacity == 1
    assert rl.take("t").allowed
    assert not rl.take("t").allowed


def test_refusal_carries_retry_after_and_reset() -> None:
    """A refusal says how long until one token and when the bucket is full (ceil, >= 1)."""
    rl, clock = limiter(30)  # one token every 2 s
    first = rl.take("t")
    assert (first.limit, first.remaining) == (30, 0)
    clock.now += 0.5
    refused = rl.take("t")
    assert not refused.allowed
    assert refused.retry_after == 2  # 1.5 s left, rounded up
    assert refused.reset == 1_700_000_002  # 1.5 s to full, rounded up
    assert dict(refused.headers())["Retry-After"] == "2"


def test_buckets_are_per_token() -> None:
    """One token's exhaustion does not affect another's."""
    rl, _ = limiter(60)
    assert rl.take("a").allowed
    assert not rl.take("a").allowed
    assert rl.take("b").allowed


def test_changing_the_limit_refills_buckets() -> None:
    """set_limit starts every bucket full; None removes the limit."""
    rl, _ = limiter(60)
    rl.take("a")
    rl.set_limit(120)
    assert rl.take("a").allowed
    rl.set_limit(None)
    decision = rl.take("a")
    assert decision.allowed and decision.limit == UNLIMITED == decision.remaining
    with pytest.raises(ValueError):
        rl.set_limit(0)


def test_http_429_with_headers(server: SandboxServer, client: httpx.Client) -> None:
    """Over the limit the API answers 429 RATE_LIMIT_EXCEEDED with Retry-After and Reset."""
    server.set_rate_limit(1)
    ok = client.get(res.SITES.path)
    assert ok.status_code == 200
    assert ok.headers["x-ratelimit-limit"] == "1"
    assert ok.headers["x-ratelimit-remaining"] == "0"
    refused = client.get(res.SITES.path)
    assert refused.status_code == 429
    body = refused.json()
    assert body["error"]["code"] == "RATE_LIMIT_EXCEEDED"
    assert body["error"]["type"] == "rate_limit"
    assert body["error"]["request_id"] == refused.headers["x-request-id"]
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    assert int(refused.headers["x-ratelimit-reset"]) > time.time()
    assert refused.headers["x-ratelimit-remaining"] == "0"
    assert server.stats.rate_limited == 1
    assert server.stats.responses[429] == 1


def test_http_limit_is_per_token_and_spares_admin(server: SandboxServer,
                                                  client: httpx.Client) -> None:
    """Another token still gets through, and admin paths are never limited."""
    server.set_rate_limit(1)
    server.add_token("other")
    client.get(res.SITES.path)
    assert client.get(res.SITES.path).status_code == 429
    other = client.get(res.SITES.path, headers={"Authorization": "Bearer other"})
    assert other.status_code == 200
    for _ in range(3):
        assert client.get("/__sandbox__/stats").status_code == 200


def test_limit_from_config_binds_on_paging() -> None:
    """A configured limit stops a client paging faster than it allows."""
    srv = make_server(rate_limit=60)
    try:
        with httpx.Client(base_url=srv.url, headers=AUTH) as c:
            statuses = [c.get(res.ASSETS.path, params={"page": p}).status_code
                        for p in range(1, 6)]
        assert statuses[0] == 200
        assert 429 in statuses
    finally:
        srv.stop()
