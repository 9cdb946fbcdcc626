"""How hard and how fast the client asks: retries, backoff, ``Retry-After`` and the window.

* :class:`RetryPolicy` and the rules of contract §4-§5 (:func:`is_retryable`,
  :func:`backoff_seconds`, :func:`server_wait`): which failures are retried and after how
  long. :class:`~makini_desktop.api.client.MakiniClient.request` applies them.
* :class:`AdaptiveLimiter`: the concurrency window of one connection, halved on a 429 and
  grown back slowly.
* :class:`Pacer`: spaces request starts by the server's ``X-RateLimit-*`` headers and holds
  new requests after a 429 until its ``Retry-After`` has passed.

Nothing here sends a request.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from makini_desktop.api.errors import MakiniError
from makini_desktop.api.values import as_int

if TYPE_CHECKING:  # annotations only: httpx is imported at a client's first request
    import httpx

__all__ = [
    "AdaptiveLimiter",
    "Pacer",
    "RetryCallback",
    "RetryEvent",
    "RetryPolicy",
    "backoff_seconds",
    "is_retryable",
    "parse_retry_after",
    "server_wait",
]


@dataclass(frozen=True)
class RetryPolicy:
    """How hard the client tries before an error reaches the user.

    Attributes:
        max_attempts: attempts in all, the first one included.
        max_total_seconds: no retry is started that would end after this much time.
        backoff_base: first backoff ceiling in seconds (full jitter: uniform in [0, ceiling]).
        backoff_cap: the largest backoff ceiling.
        retry_after_cap: a server's ``Retry-After`` is clamped to this.
    """

    max_attempts: int = 5
    max_total_seconds: float = 90.0
    backoff_base: float = 0.5
    backoff_cap: float = 20.0
    retry_after_cap: float = 60.0


@dataclass(frozen=True)
class RetryEvent:
    """What the client tells its caller before it waits to retry.

    Attributes:
        attempt: the retry about to be made (1 for the first retry).
        delay: seconds until it.
        status: the HTTP status that caused it (0 for a connection failure).
        code: the error code that caused it.
        request_id: the failed request's ID.
        method: the request's method.
        path: the request's path.
    """

    attempt: int
    delay: float
    status: int
    code: str
    request_id: str
    method: str
    path: str

    @property
    def is_rate_limit(self) -> bool:
        return self.status == 429

    def describe(self) -> str:
        """E.g. "Rate limited — retrying in 4 s"."""
        secs = max(1, round(self.delay))
        if self.status == 429:
            what = "Rate limited"
        elif self.status == 0:
            what = "Connection problem"
        else:
            what = f"Server error {self.status}"
        return f"{what} — retrying in {secs} s"



RetryCallback = Callable[[RetryEvent], None]


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header: delta-seconds or an HTTP-date."""
    if not value:
        return None
    text = value.strip()
    try:
        secs = float(text)
    except ValueError:
        import email.utils  # an HTTP-date: rare, and never before the first answer

        try:
            when = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
        if when is None:
            return None
        secs = when.timestamp() - (time.time() if now is None else now)
    if secs != secs:  # NaN
        return None
    return max(0.0, secs)



def is_retryable(err: MakiniError, *, idempotent: bool) -> bool:
    """Whether a failed request may be sent again (contract §4-§5).

    A 429 always (the server did not act); a connection failure when the request is
    idempotent or never reached the server; other errors when both the request is
    idempotent and the error is retryable (5xx, timeouts). Never 400, 401, 403, 404, 409, 422.
    """
    if err.status == 429:
        return True
    if err.is_connection:
        # Unless retrying cannot help (this computer's own settings: LocalSetupError).
        return err.retryable and (idempotent or err.code == "CONNECTION_FAILED")
    return idempotent and err.retryable


def backoff_seconds(policy: RetryPolicy, retries: int, rng: random.Random) -> float:
    """Exponential backoff with full jitter: uniform in [0, base * 2**retries], capped."""
    return rng.uniform(0, min(policy.backoff_cap, policy.backoff_base * 2**retries))


def server_wait(err: MakiniError, policy: RetryPolicy) -> float | None:
    """The server's ``Retry-After`` on a 429 or 503, clamped; None when it gave none."""
    if err.retry_after is not None and err.status in (429, 503):
        return min(err.retry_after, policy.retry_after_cap)
    return None


class AdaptiveLimiter:
    """Requests in flight for one connection: halves on a 429, grows back by one slowly.

    Shared by every request of a client, because the server's rate limit is per connection:
    five tabs loading at once share one budget.
    """

    def __init__(self, size: int) -> None:
        self.maximum = max(1, size)
        self.size = self.maximum
        self.in_flight = 0
        self._successes = 0
        self._cond = asyncio.Condition()

    async def __aenter__(self) -> None:
        async with self._cond:
            await self._cond.wait_for(lambda: self.in_flight < self.size)
            self.in_flight += 1

    async def __aexit__(self, *exc: object) -> None:
        async with self._cond:
            self.in_flight -= 1
            self._cond.notify_all()

    def on_success(self) -> None:
        self._successes += 1
        if self.size < self.maximum and self._successes >= self.size * 8:
            self.size += 1
            self._successes = 0

    def on_rate_limited(self) -> None:
        self.size = max(1, self.size // 2)
        self._successes = 0


class Pacer:
    """Spaces request starts so a connection stays under its rate limit instead of hitting it.

    It reads ``X-RateLimit-Limit``/``-Remaining`` from every response: while the remaining
    budget is low it starts requests no faster than the limit allows, and after a 429 it
    holds every new request until the server's ``Retry-After`` has passed.
    """

    def __init__(self, clock: Callable[[], float], sleep: Callable[[float], Awaitable[None]]):
        self._clock = clock
        self._sleep = sleep
        self._lock = asyncio.Lock()
        self._interval = 0.0
        self._next_start = 0.0
        self._blocked_until = 0.0
        self.low_water = 10

    async def acquire(self) -> None:
        async with self._lock:
            now = self._clock()
            start = max(now, self._blocked_until)
            if self._interval:
                start = max(start, self._next_start)
            if start > now:
                await self._sleep(start - now)
            self._next_start = max(self._clock(), start) + self._interval

    def observe(self, headers: httpx.Headers) -> None:
        limit = as_int(headers.get("x-ratelimit-limit"))
        remaining = as_int(headers.get("x-ratelimit-remaining"))
        if not limit or remaining is None:
            return
        self._interval = 60.0 / limit if remaining <= self.low_water else 0.0

    def block_for(self, seconds: float) -> None:
        self._blocked_until = max(self._blocked_until, self._clock() + seconds)

