"""A child process that stores check-ins in the outbox and sends them, for kill tests.

Usage: python -m tests.helpers.outbox_worker BASE_URL TOKEN CACHE_FILE [KEY ...]

Opens the cache file's outbox as the app does, stores a check-in of each KEY (an expected
visitor) and prints ``stored KEY IDEMPOTENCY_KEY`` (flushed) once it is committed; then
sends everything in the outbox (what an earlier, killed run left included), printing
``confirmed KEY`` for each confirmation and ``drained`` at the end. A kill may come at any
point.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from makini_desktop.api.client import MakiniClient
from makini_desktop.store.cache import Cache
from makini_desktop.store.outbox import OutboxStore
from makini_desktop.sync.outbox import Backoff, Outbox
from makini_desktop.sync.outbox_link import client_sender


async def _main(base_url: str, token: str, path: str, keys: list[str]) -> None:
    cache = Cache.open(Path(path))
    client = MakiniClient(base_url, token)
    box = Outbox(OutboxStore.open(cache.path), client_sender(client),
                 backoff=Backoff(first=0.05, longest=0.5))
    box.on_confirmed = lambda c, row: print(f"confirmed {c.record_key}", flush=True)
    try:
        for key in keys:
            change = box.change_status(
                "visits", {"key": key, "status": "expected"}, "checked_in", "check_in"
            )
            print(f"stored {key} {change.idempotency_key}", flush=True)
        print("sending", flush=True)
        box.resume()
        await box.drain()
        print(f"drained {box.waiting_count()}", flush=True)
    finally:
        await box.aclose()
        await client.aclose()
        cache.close()


if __name__ == "__main__":
    asyncio.run(_main(sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]))
