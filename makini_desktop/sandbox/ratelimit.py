"""Per-token rate limiting for the sandbox (contract §5).

A token bucket per token: it refills at ``limit / 60`` tokens a second and holds at most
``max(1, ceil(limit / 60))``, about one second's worth. A real API's minute window would let a
client burst a whole minute's allowance and never see a 429 during a short test; the small
bucket makes the limit bind as soon as a client pages faster than the limit allows.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

UNLIMITED: Final = 100_000
"""The X-RateLimit-Limit/Remaining figure sent when no limit is configured."""


@dataclass(frozen=True)
class RateDecision:
    """The outcome of one request against its token's bucket.

    Attributes:
        allowed: the request may proceed.
        limit: the per-minute figure for ``X-RateLimit-Limit``.
        remaining: whole tokens left, for ``X-RateLimit-Remaining``.
        retry_after: seconds until a token is available (only when refused).
        reset: Unix seconds when the bucket is full again (only when refused).
    """

    allowed: bool
    limit: int
    remaining: int
    retry_after: int = 0
    reset: int = 0

    def headers(self) -> list[tuple[str, str]]:
        """The rate-limit headers for a response."""
        out = [("X-RateLimit-Limit", str(self.limit)),
               ("X-RateLimit-Remaining", str(self.remaining))]
        if not self.allowed:
            out += [("Retry-After", str(self.retry_after)),
                    ("X-RateLimit-Reset", str(self.reset))]
        return out


class RateLimiter:
    """Token buckets per bearer token, thread-safe.

    Args:
        per_minute: the limit, or None for none.
        clock: monotonic seconds (injectable so tests need no sleeping).
        wall: Unix seconds, for ``X-RateLimit-Reset``.
    """

    def __init__(
        self,
        per_minute: int | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self._clock = clock
        self._wall = wall
        self._lock = threading.Lock()
        self._buckets: dict[str, tuple[float, float]] = {}  # token -> (tokens, at)
        self._per_minute: int | None = None
        self.set_limit(per_minute)

    @property
    def per_minute(self) -> int | None:
        """The configured limit (None: unlimited)."""
        return self._per_minute

    @property
    def capacity(self) -> int:
        """Bucket size: about one second's worth, at least one request."""
        return max(1, math.ceil((self._per_minute or UNLIMITED) / 60))

    def set_limit(self, per_minute: int | None) -> None:
        """Change the limit; every bucket starts full again.

        Raises:
            ValueError: a limit below 1.
        """
        if per_minute is not None and per_minute < 1:
            raise ValueError("a rate limit must be at least 1 request per minute")
        with self._lock:
            self._per_minute = per_minute
            self._buckets.clear()

    def _level(self, token: str, now: float) -> float:
        """Tokens in the bucket now (the caller holds the lock and a limit is set)."""
        rate = (self._per_minute or UNLIMITED) / 60.0
        tokens, at = self._buckets.get(token, (float(self.capacity), now))
        return min(float(self.capacity), tokens + (now - at) * rate)

    def peek(self, token: str | None) -> RateDecision:
        """The headers' figures without spending a token (e.g. for a 401)."""
        limit = self._per_minute
        if limit is None:
            return RateDecision(True, UNLIMITED, UNLIMITED)
        with self._lock:
            level = self._level(token, self._clock()) if token else float(self.capacity)
        return RateDecision(True, limit, math.floor(level))

    def take(self, token: str) -> RateDecision:
        """Spend one token for a request, or refuse it with the figures for a 429."""
        limit = self._per_minute
        if limit is None:
            return RateDecision(True, UNLIMITED, UNLIMITED)
        rate = limit / 60.0
        with self._lock:
            now = self._clock()
            level = self._level(token, now)
            if level >= 1.0:
                level -= 1.0
                self._buckets[token] = (level, now)
                return RateDecision(True, limit, math.floor(level))
            self._buckets[token] = (level, now)
        retry_after = max(1, math.ceil((1.0 - level) / rate))
        reset = math.ceil(self._wall() + (self.capacity - level) / rate)
        return RateDecision(False, limit, 0, retry_after, reset)
