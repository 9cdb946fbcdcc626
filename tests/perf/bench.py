"""makini-desktop benchmark: prints figures and ratios against baselines measured in the same run.

Run: ``python -m tests.perf.bench [--quick] [--only NAME ...]``

Not a test: nothing here asserts a time. The machines are shared and noisy, so every goal is
a ratio against a baseline measured in the same run, on the same loopback sandbox:

* ``client``: the client's time to fetch and parse every assets page of the ``large``
  sandbox, divided by a bare httpx loop fetching the same pages with the same concurrency
  (goal <= 1.3).
* ``ratelimit``: with the sandbox limited to 600 requests/min and a list of 100 pages, the
  achieved request rate as a share of the limit (goal >= 90 %) and 429s as a share of
  requests (goal <= 2 %).
* ``incremental``: a refresh after 1 % of the assets changed, in time and bytes, as a share
  of a full sync (goal <= 10 %).
* ``ui``: the longest event-loop stall while the window loads every tab (goal <= 50 ms),
  the UI block of a search keystroke over 100k assets (goal <= 50 ms) and of a header-click
  sort, cold start to the first cached rows painted against a bare PySide6 window started
  in the same run, and the longest stall while a 100k-row cached list opens (goal <= 100 ms).
* ``overview``: the Overview's figures over the ``large`` rows (goal < 200 ms) against a bare
  loop over the same rows, and the longest event-loop stall while they are recomputed in
  their worker thread (goal <= 50 ms).

The sandbox runs in its own process (``makini-desktop sandbox``) so that it does not share
the client's interpreter lock.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx

TOKEN = "bench-token"
RESULTS: list[tuple[str, str]] = []


def report(name: str, value: str) -> None:
    """Print one figure and keep it for the summary."""
    RESULTS.append((name, value))
    print(f"  {name:<58} {value}", flush=True)


@contextlib.contextmanager
def sandbox_process(*extra: str, scale: str = "large") -> Iterator[str]:
    """Run ``makini-desktop sandbox`` in a subprocess; yield its URL."""
    cmd = [sys.executable, "-m", "makini_desktop.cli", "sandbox", "--scale", scale,
           "--port", "0", "--token", TOKEN, *extra]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        url = next(w for w in line.split() if w.startswith("http"))
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()


def _median_of(runs: int, fn: Callable[[], float]) -> tuple[float, list[float]]:
    values = [fn() for _ in range(runs)]
    return statistics.median(values), values


# -- client vs bare httpx -------------------------------------------------------------------


async def _client_fetch(url: str, concurrency: int) -> tuple[float, int]:
    from makini_desktop.api.client import MakiniClient
    from makini_desktop.api.resources import ASSETS

    started = time.perf_counter()
    count = 0
    async with MakiniClient(url, TOKEN, concurrency=concurrency) as client:
        async for page in client.iter_pages(ASSETS.path):
            count += len(page.rows)
    return time.perf_counter() - started, count


async def _bare_fetch(url: str, concurrency: int) -> tuple[float, int]:
    from makini_desktop.api.resources import ASSETS

    started = time.perf_counter()
    headers = {"Authorization": f"Bearer {TOKEN}", "Accept": "application/json"}
    limits = httpx.Limits(max_connections=concurrency + 2)
    async with httpx.AsyncClient(base_url=url, headers=headers, limits=limits) as http:
        first = (await http.get(ASSETS.path, params={"page": 1, "per_page": 100})).json()
        count = len(first["data"])
        sem = asyncio.Semaphore(concurrency)

        async def one(page: int) -> int:
            async with sem:
                r = await http.get(ASSETS.path, params={"page": page, "per_page": 100})
                return len(r.json()["data"])

        last = first["meta"]["last_page"]
        counts = await asyncio.gather(*(one(p) for p in range(2, last + 1)))
        count += sum(counts)
    return time.perf_counter() - started, count


def bench_client(quick: bool) -> None:
    """Client fetch-and-parse of every assets page vs a bare httpx loop."""
    print("client: fetch and parse every assets page of the large sandbox", flush=True)
    concurrency = 4
    runs = 1 if quick else 3
    with sandbox_process(scale="medium" if quick else "large") as url:
        asyncio.run(_bare_fetch(url, concurrency))  # warm the server's page cache
        bare_times, client_times = [], []
        rows = 0
        for _ in range(runs):  # interleaved, so drift hits both alike
            t, rows = asyncio.run(_bare_fetch(url, concurrency))
            bare_times.append(t)
            t, client_rows = asyncio.run(_client_fetch(url, concurrency))
            client_times.append(t)
            assert client_rows == rows, (client_rows, rows)
    bare, client = statistics.median(bare_times), statistics.median(client_times)
    report("assets rows fetched", f"{rows:,}")
    report("bare httpx loop, median s", f"{bare:.2f}  (runs: {_fmt(bare_times)})")
    report("makini client, median s", f"{client:.2f}  (runs: {_fmt(client_times)})")
    report("client / bare (goal <= 1.3)", f"{client / bare:.2f}")


def _fmt(values: list[float]) -> str:
    return ", ".join(f"{v:.2f}" for v in values)


# -- rate limit -----------------------------------------------------------------------------


async def _rate_limited_fetch(url: str) -> dict[str, Any]:
    from makini_desktop.api.client import MakiniClient
    from makini_desktop.api.resources import MOVES

    async with MakiniClient(url, TOKEN, per_page=50, concurrency=4) as client:
        started = time.perf_counter()
        pages = 0
        async for _ in client.iter_pages(MOVES.path):
            pages += 1
        elapsed = time.perf_counter() - started
        return {
            "pages": pages,
            "elapsed": elapsed,
            "requests": client.stats.requests,
            "429": client.stats.by_status.get(429, 0),
        }


def bench_ratelimit(quick: bool) -> None:
    """Achieved request rate and 429 share against a 600/min limit, 100-page list."""
    del quick
    print("ratelimit: 100 pages of moves against a sandbox limited to 600 requests/min",
          flush=True)
    limit = 600
    with sandbox_process("--rate-limit", str(limit), scale="large") as url:
        out = asyncio.run(_rate_limited_fetch(url))
    rate = out["requests"] / out["elapsed"] * 60
    report("pages fetched", str(out["pages"]))
    report("requests / 429 responses", f"{out['requests']} / {out['429']}")
    report("elapsed s", f"{out['elapsed']:.1f}")
    report("achieved rate / limit (goal >= 90 %)", f"{rate / limit:.0%}  ({rate:.0f}/min)")
    report("429s / requests (goal <= 2 %)", f"{out['429'] / out['requests']:.1%}")


# -- incremental sync -----------------------------------------------------------------------


async def _sync_assets(url: str, full: bool) -> Any:
    from makini_desktop.sync.session import ConnectionInfo, Session

    session = Session(ConnectionInfo("bench", url, "bench"), TOKEN)
    try:
        started = time.perf_counter()
        result = await session.repository("assets").refresh(full=full)
        result.elapsed = time.perf_counter() - started
        return result
    finally:
        await session.aclose()


def bench_incremental(quick: bool) -> None:
    """An incremental refresh after 1 % of the assets changed, vs a full sync."""
    import tempfile

    print("incremental: refresh after 1 % of the large sandbox's assets changed", flush=True)
    with tempfile.TemporaryDirectory() as home, sandbox_process(
        scale="medium" if quick else "large"
    ) as url:
        os.environ["MAKINI_DESKTOP_HOME"] = home
        full = asyncio.run(_sync_assets(url, full=True))
        count = max(1, len(full.keys) // 100)
        r = httpx.post(f"{url}/__sandbox__/mutate",
                       json={"dataset": "assets", "count": count, "delete_share": 0.2})
        r.raise_for_status()
        inc = asyncio.run(_sync_assets(url, full=False))
        del os.environ["MAKINI_DESKTOP_HOME"]
    assert inc.mode == "incremental", inc.mode
    report("assets in the list / changed", f"{len(full.keys):,} / {count:,}")
    report("full sync: s / MB / requests",
           f"{full.elapsed:.2f} / {full.nbytes / 1e6:.1f} / {full.requests}")
    report("incremental: s / MB / requests",
           f"{inc.elapsed:.2f} / {inc.nbytes / 1e6:.2f} / {inc.requests}")
    report("incremental / full, time (goal <= 10 %)", f"{inc.elapsed / full.elapsed:.1%}")
    report("incremental / full, bytes (goal <= 10 %)", f"{inc.nbytes / full.nbytes:.1%}")


# -- the window -----------------------------------------------------------------------------


def bench_ui(quick: bool) -> None:
    """Event-loop stalls while loading, keystroke and sort blocking, cold start from cache."""
    from tests.perf import bench_ui as ui

    scale = "medium" if quick else "large"
    print(f"ui: the main window against the {scale} sandbox (offscreen)", flush=True)
    stalls = ui.measure_load_stalls(scale)
    for label in ("cold", "warm"):
        fig = stalls[label]
        report(f"loading every tab, {label} cache: longest stall ms (goal <= 50)",
               f"{fig['max_stall_ms']}  (p99 {fig['p99_stall_ms']}, "
               f"{fig['stalls_over_50ms']} over 50 ms, {fig['seconds']} s)")
    keys = ui.measure_search_keystrokes(scale)
    report("search keystroke on assets: median / max ms (goal <= 50)",
           f"{keys['median_ms']} / {keys['max_ms']}  ({keys['rows']:,} rows)")
    chosen = ui.measure_filter_changes(scale)
    report("filter box choice on assets: median / max ms (goal <= 50)",
           f"{chosen['median_ms']} / {chosen['max_ms']}  ({chosen['changes']} choices, "
           f"{chosen['rows']:,} rows)")
    sorts = ui.measure_sort_clicks(scale)
    worst = max(sorts.items(), key=lambda kv: kv[1])
    report("header click sort: longest block ms, worst column", f"{worst[1]}  ({worst[0]})")
    cold = ui.measure_cold_start(scale, runs=1 if quick else 3)
    report("cold start to first cached rows painted, ms", f"{cold['app_ms']}  "
           f"(runs {cold['app_runs_ms']})")
    report("bare PySide6 window start, ms", f"{cold['bare_ms']}  (runs {cold['bare_runs_ms']})")
    report("cold start / bare window", f"{cold['ratio']:.2f}")
    report("opening the whole cached list: longest stall ms (goal <= 100)",
           f"{cold['max_stall_ms']}  (p99 {cold['p99_stall_ms']}, "
           f"{sum(cold['rows'].values()):,} rows)")


def bench_cachestart(quick: bool) -> None:
    """Start from the cache: first rows / bare window, every tab filled, peak RSS."""
    from tests.perf import bench_cache

    bench_cache.measure("medium" if quick else "large", runs=1 if quick else 3)


def bench_overview(quick: bool) -> None:
    """The Overview's figures on the large sandbox's rows, and the loop's stall meanwhile."""
    from tests.perf import bench_overview

    bench_overview.report_overview(report, quick)


def bench_firstload(quick: bool) -> None:
    """The window's first load of every tab (empty cache) vs a bare httpx loop."""
    from tests.perf import bench_load

    bench_load.report_first_load(report, quick)


def bench_outbox(quick: bool) -> None:
    """500 queued changes replayed against a 600/min limit: time and 429 share."""
    from tests.perf import bench_outbox

    bench_outbox.run(report, sandbox_process, quick)


def bench_desk(quick: bool) -> None:
    """A front-desk action until its row is repainted (median, max)."""
    from tests.perf import bench_desk

    bench_desk.run(report, quick)


BENCHES: dict[str, Callable[[bool], None]] = {
    "client": bench_client,
    "ratelimit": bench_ratelimit,
    "incremental": bench_incremental,
    "ui": bench_ui,
    "cachestart": bench_cachestart,
    "firstload": bench_firstload,
    "outbox": bench_outbox,
    "desk": bench_desk,
    "overview": bench_overview,
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller data, one run each")
    parser.add_argument("--only", nargs="*", choices=list(BENCHES), help="run only these")
    ns = parser.parse_args(argv)
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python "
          f"{platform.python_version()}, {platform.platform()}", flush=True)
    for name in ns.only or BENCHES:
        BENCHES[name](ns.quick)
    print("\nsummary")
    for name, value in RESULTS:
        print(f"  {name:<58} {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
