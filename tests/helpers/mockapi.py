"""Fine-grained fault scripts for the API client over ``httpx.MockTransport``."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from makini_desktop.api.client import MakiniClient, RetryPolicy

BASE = "https://api.example-makini.test"
TOKEN = "tok_secret_123"


def error_body(status: int, code: str, message: str, request_id: str = "req_test") -> bytes:
    return json.dumps({
        "message": message,
        "error": {"code": code, "type": "x", "message": message, "request_id": request_id},
    }).encode()


def list_page(rows: list[dict[str, Any]], page: int, last: int, total: int) -> dict[str, Any]:
    return {
        "data": rows,
        "links": {"next": None if page >= last else f"{BASE}/x?page={page + 1}"},
        "meta": {"current_page": page, "last_page": last, "total": total, "per_page": len(rows)},
    }


@dataclass
class FakeTime:
    """A clock and sleep that advance instantly, recording every wait."""

    now: float = 1000.0
    sleeps: list[float] = field(default_factory=list)

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        await asyncio.sleep(0)


@dataclass
class Recorder:
    """Wraps a handler, keeping every request it saw."""

    handler: Callable[[httpx.Request], Any]
    requests: list[httpx.Request] = field(default_factory=list)

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        result = self.handler(request)
        if asyncio.iscoroutine(result):
            result = await result
        return result  # type: ignore[no-any-return]


def make_client(
    handler: Callable[[httpx.Request], Any],
    *,
    fake: FakeTime | None = None,
    base_url: str = BASE,
    **kwargs: Any,
) -> tuple[MakiniClient, Recorder, FakeTime]:
    """A client on a mock transport, with instant sleeps and a seeded jitter."""
    import random

    fake = fake or FakeTime()
    rec = Recorder(handler)
    kwargs.setdefault("retry", RetryPolicy(max_attempts=4, max_total_seconds=600))
    client = MakiniClient(
        base_url,
        TOKEN,
        transport=httpx.MockTransport(rec),
        sleep=fake.sleep,
        clock=fake.clock,
        rng=random.Random(7),
        **kwargs,
    )
    return client, rec, fake


def run(coro: Any) -> Any:
    """Run a coroutine to completion in a fresh event loop."""
    return asyncio.run(coro)
