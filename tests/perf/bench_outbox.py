"""The outbox's benchmarks (issue 10 item 7): a queue of changes replayed against a
rate-limited sandbox, and the Qt-free part of "action -> row repainted".

Run: ``python -m tests.perf.bench --only outbox``.

* **Replay.** 500 check-ins are stored while the outbox is paused (as if made offline), then
  it is resumed against a sandbox limited to 600 requests/min: the time until every change
  is confirmed, and the share of 429 answers among the requests (goal <= 2 %). Every
  change is checked on the server afterwards (its visitor is checked in).
* **Action -> row.** What a check-in costs before its row can repaint, without Qt: storing
  the change (committed, synced to disk) and computing the row shown (the overlay).
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

CHANGES = 500
LIMIT = 600
LIST_TOKEN = "bench-list-token"  # its own rate budget: listing does not eat the replay's
SEND_TOKEN = "bench-send-token"


def _pages(url: str, params: dict[str, Any], enough: int | None = None) -> list[dict[str, Any]]:
    """Rows of the visitors list (the benchmark's own reads, waiting out any 429)."""
    rows: list[dict[str, Any]] = []
    page = 1
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {LIST_TOKEN}"}) as http:
        while enough is None or len(rows) < enough:
            answer = http.get("/api/iwms/visitors", params={**params, "per_page": 100,
                                                             "page": page})
            if answer.status_code == 429:
                time.sleep(float(answer.headers.get("retry-after", "1")))
                continue
            doc = answer.json()
            rows += doc["data"]
            if doc["meta"]["current_page"] >= doc["meta"]["last_page"]:
                break
            page += 1
    return rows


def _expected_visits(url: str, count: int) -> list[dict[str, Any]]:
    rows = _pages(url, {"filter[status]": "expected"}, enough=count)
    if len(rows) < count:
        raise SystemExit(f"the sandbox has only {len(rows)} expected visits")
    return rows[:count]


def _checked_in(url: str) -> set[str]:
    return {str(r["key"]) for r in _pages(url, {"filter[status]": "checked_in"})}


async def _replay(url: str, rows: list[dict[str, Any]], folder: Path) -> dict[str, Any]:
    from makini_desktop.api.client import MakiniClient
    from makini_desktop.store.cache import Cache
    from makini_desktop.store.outbox import OutboxStore
    from makini_desktop.sync.outbox import Outbox
    from makini_desktop.sync.outbox_link import client_sender

    cache = Cache.open(folder / "bench.sqlite3")
    client = MakiniClient(url, SEND_TOKEN)
    box = Outbox(OutboxStore.open(cache.path), client_sender(client))
    action_ms: list[float] = []
    for row in rows:  # made "offline": stored, not sent
        started = time.perf_counter()
        box.change_status("visits", row, "checked_in", "check_in")
        shown = box.overlay_row("visits", row)
        action_ms.append((time.perf_counter() - started) * 1000)
        assert shown["status"] == "checked_in"
    started = time.perf_counter()
    box.resume()
    await box.drain()
    elapsed = time.perf_counter() - started
    left = box.waiting_count() + len(box.changes())
    await box.aclose()
    await client.aclose()
    cache.close()
    return {
        "elapsed": elapsed, "left": left, "action_ms": action_ms,
        "requests": client.stats.requests, "429": client.stats.by_status.get(429, 0),
    }


def run(report: Callable[[str, str], None], sandbox_process: Any, quick: bool) -> None:
    """Measure and report (``bench.report``), against a ``bench.sandbox_process``."""
    count = 100 if quick else CHANGES
    print(f"outbox: {count} queued check-ins replayed against a sandbox limited to "
          f"{LIMIT} requests/min", flush=True)
    with sandbox_process("--rate-limit", str(LIMIT), "--token", LIST_TOKEN, "--token",
                         SEND_TOKEN, scale="large") as url:
        rows = _expected_visits(url, count)
        with tempfile.TemporaryDirectory() as tmp:
            out = asyncio.run(_replay(url, rows, Path(tmp)))
        checked_in = _checked_in(url)
    done = sum(1 for r in rows if str(r["key"]) in checked_in)
    ms = out["action_ms"]
    report("changes confirmed / checked in on the server",
           f"{count - out['left']} / {done} of {count}")
    report("replay time s (limit allows " f"{count / LIMIT * 60:.0f} s)", f"{out['elapsed']:.1f}")
    report("replay rate / limit", f"{out['requests'] / out['elapsed'] * 60 / LIMIT:.0%}")
    report("requests / 429 responses", f"{out['requests']} / {out['429']}")
    report("429s / requests (goal <= 2 %)", f"{out['429'] / max(1, out['requests']):.1%}")
    report("action -> row shown (store + overlay), median / max ms",
           f"{statistics.median(ms):.2f} / {max(ms):.2f}")
