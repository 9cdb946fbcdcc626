"""The window's first load of every tab against a bare httpx loop, for the benchmark script.

:func:`measure_first_load` starts the sandbox (``large``: 50k spaces, 100k assets, 5k moves,
12.5k visits) in a process of its own, then, alternately, ``runs`` times:

* **bare**: a new process fetching every page of sites, locations, assets, moves and visits
  with one ``httpx.AsyncClient`` and at most ``concurrency`` requests in flight (the same
  window as the app's client), parsing each page's JSON and keeping nothing;
* **window**: a new process showing the main window offscreen with an empty cache, opening
  the connection and waiting until every tab says "Up to date", with the event-loop stall
  meter of :mod:`tests.perf.bench_ui` ticking, then until the detail pane's index (built
  after the load) is whole, and reading its peak RSS (``VmHWM``) then; the CPU and peak
  RSS of its HTTP helper process (``api/http_helper.py``) are read once it has ended.

Each side runs in its own process so its peak memory and its interpreter are its own.
Nothing here asserts a time: the figures are printed, with their ratios and spread.

Run directly: ``python -m tests.perf.bench_load [scale] [runs]``.
"""

from __future__ import annotations

import asyncio
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

TOKEN = "bench-token"
CONCURRENCY = 4


def peak_rss_mb() -> float:
    """This process's peak resident set size in MB (the app's own reader)."""
    from makini_desktop.app import peak_rss_kb

    return peak_rss_kb() / 1024


# -- the bare loop (child process) ----------------------------------------------------------


async def _bare(url: str, concurrency: int) -> dict[str, Any]:
    import httpx

    from makini_desktop.api import resources as res

    paths = [d.path for d in (res.SITES, res.LOCATIONS, res.ASSETS, res.MOVES, res.VISITS)]
    headers = {"Authorization": f"Bearer {TOKEN}", "Accept": "application/json"}
    limits = httpx.Limits(max_connections=concurrency + 2)
    per_page = res.MAX_PER_PAGE
    sem = asyncio.Semaphore(concurrency)
    rows = 0
    started = time.perf_counter()
    async with httpx.AsyncClient(base_url=url, headers=headers, limits=limits,
                                 timeout=60) as http:

        async def one(path: str, page: int) -> dict[str, Any]:
            async with sem:
                r = await http.get(path, params={"page": page, "per_page": per_page})
                r.raise_for_status()
                doc: dict[str, Any] = r.json()
                return doc

        async def whole(path: str) -> int:
            first = await one(path, 1)
            last = int(first["meta"]["last_page"])
            docs = await asyncio.gather(*(one(path, p) for p in range(2, last + 1)))
            return len(first["data"]) + sum(len(d["data"]) for d in docs)

        counts = await asyncio.gather(*(whole(p) for p in paths))
        rows = sum(counts)
    return {"seconds": time.perf_counter() - started, "rows": rows}


# -- the window (child process) -------------------------------------------------------------


def _window_first_load(url: str) -> dict[str, Any]:
    import qasync

    from makini_desktop.sync.session import ConnectionInfo
    from makini_desktop.sync.tab_status import Phase
    from tests.perf import bench_ui as ui

    app = ui._app()
    home = Path(os.environ["MAKINI_DESKTOP_HOME"])
    window = ui._window(home)
    meter = ui._StallMeter()
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    out: dict[str, Any] = {}

    async def run() -> None:
        info = ConnectionInfo("Bench", url, "bench-load")
        tabs = window.workspace.tabs
        meter.start()
        started = time.perf_counter()
        cpu_started = time.process_time()
        task = window.open_connection(info, TOKEN)
        while not all(t.status.phase is Phase.UP_TO_DATE for t in tabs.values()):
            if task.done() and all(t.task is None or t.task.done() for t in tabs.values()):
                break  # a tab ended otherwise: reported below
            await asyncio.sleep(0.005)
        out["seconds"] = time.perf_counter() - started
        out["cpu_s"] = round(time.process_time() - cpu_started, 2)  # every thread's
        # The detail pane's index is built once every tab is up to date (a slice per
        # turn, stalls measured): the peak RSS below is read with it whole.
        related = window.workspace.related
        while related.waiting and time.perf_counter() - started < 600:
            await asyncio.sleep(0.005)
        out["index_s"] = round(time.perf_counter() - started, 2)
        await asyncio.sleep(0.05)  # the last paint
        meter.stop()
        out["phases"] = {n: t.status.phase.value for n, t in tabs.items()}
        out["rows"] = {n: m.total for n, m in window.workspace.models.items()}
        out["rss_mb"] = round(peak_rss_mb(), 1)
        await window.shutdown()
        # The HTTP helper process (api/http_helper.py) ended with the last session: its
        # CPU and peak memory, counted apart from the window's.
        helper = resource.getrusage(resource.RUSAGE_CHILDREN)
        out["helper_cpu_s"] = round(helper.ru_utime + helper.ru_stime, 2)
        out["helper_rss_mb"] = round(helper.ru_maxrss / 1024, 1)

    try:
        loop.run_until_complete(run())
    finally:
        loop.close()
        asyncio.set_event_loop(None)
    out.update(meter.summary())
    window.close()
    return out


def _child(argv: list[str]) -> int:
    """``--child bare URL`` or ``--child window URL``: print one JSON line of figures."""
    kind, url = argv[0], argv[1]
    if kind == "bare":
        figures = asyncio.run(_bare(url, CONCURRENCY))
        figures["rss_mb"] = round(peak_rss_mb(), 1)
    else:
        figures = _window_first_load(url)
    print("FIGURES " + json.dumps(figures), flush=True)
    return 0


def _run_child(kind: str, url: str, home: Path) -> dict[str, Any]:
    env = dict(os.environ, MAKINI_DESKTOP_HOME=str(home), QT_QPA_PLATFORM="offscreen",
               QT_API="pyside6")
    proc = subprocess.run(
        [sys.executable, "-m", "tests.perf.bench_load", "--child", kind, url],
        env=env, capture_output=True, text=True, timeout=600,
    )
    for line in proc.stdout.splitlines():
        if line.startswith("FIGURES "):
            figures: dict[str, Any] = json.loads(line[len("FIGURES "):])
            return figures
    raise RuntimeError(f"the {kind} run printed no figures: {proc.stderr[-2000:]}")


# -- the measurement ------------------------------------------------------------------------


def measure_first_load(scale: str = "large", runs: int = 3) -> dict[str, Any]:
    """First load of every tab in the window (empty cache) ÷ a bare httpx loop.

    Returns:
        ``{"bare_s", "window_s", "ratio", "max_stall_ms", "p99_stall_ms", "rss_mb", ...}``
        (medians, and the runs behind them).
    """
    from tests.perf.bench_ui import _SandboxProcess

    print(f"starting the {scale} sandbox…", flush=True)
    server = _SandboxProcess(scale, TOKEN)
    bare: list[dict[str, Any]] = []
    window: list[dict[str, Any]] = []
    try:
        with tempfile.TemporaryDirectory(prefix="makini-bench-load-") as tmp:
            _run_child("bare", server.url, Path(tmp))  # warm the server's page cache
            for n in range(runs):  # interleaved, so drift hits both alike
                bare.append(_run_child("bare", server.url, Path(tmp)))
                home = Path(tmp) / f"home{n}"  # an empty cache every time
                home.mkdir()
                window.append(_run_child("window", server.url, home))
                print(f"  run {n + 1}: bare {bare[-1]['seconds']:.2f} s, window "
                      f"{window[-1]['seconds']:.2f} s (CPU {window[-1]['cpu_s']} s; index whole "
                      f"at {window[-1]['index_s']} s), stall max "
                      f"{window[-1]['max_stall_ms']} ms p99 {window[-1]['p99_stall_ms']} ms, "
                      f"peak RSS "
                      f"{window[-1]['rss_mb']} MB (HTTP helper: CPU {window[-1]['helper_cpu_s']} "
                      f"s, peak RSS {window[-1]['helper_rss_mb']} MB), tabs "
                      f"{window[-1]['phases']}", flush=True)
    finally:
        server.stop()
    bare_s = statistics.median(r["seconds"] for r in bare)
    window_s = statistics.median(r["seconds"] for r in window)
    ratios = [w["seconds"] / b["seconds"] for w, b in zip(window, bare, strict=True)]
    result = {
        "scale": scale,
        "rows": window[-1]["rows"],
        "bare_rows": bare[-1]["rows"],
        "bare_s": round(bare_s, 2),
        "window_s": round(window_s, 2),
        "ratio": round(window_s / bare_s, 2),
        "ratios": [round(r, 2) for r in ratios],
        "bare_runs_s": [round(r["seconds"], 2) for r in bare],
        "window_runs_s": [round(r["seconds"], 2) for r in window],
        "window_cpu_s": statistics.median(r["cpu_s"] for r in window),
        "window_cpu_runs_s": [r["cpu_s"] for r in window],
        "index_s": statistics.median(r["index_s"] for r in window),
        "index_runs_s": [r["index_s"] for r in window],
        "max_stall_ms": statistics.median(r["max_stall_ms"] for r in window),
        "max_stall_runs_ms": [r["max_stall_ms"] for r in window],
        "p99_stall_ms": statistics.median(r["p99_stall_ms"] for r in window),
        "p99_stall_runs_ms": [r["p99_stall_ms"] for r in window],
        "rss_mb": statistics.median(r["rss_mb"] for r in window),
        "rss_runs_mb": [r["rss_mb"] for r in window],
        "helper_cpu_s": statistics.median(r["helper_cpu_s"] for r in window),
        "helper_rss_mb": statistics.median(r["helper_rss_mb"] for r in window),
        "phases": window[-1]["phases"],
    }
    return result


def report_first_load(report: Any, quick: bool) -> None:
    """The ``firstload`` figures through ``bench.report``."""
    scale = "medium" if quick else "large"
    print(f"firstload: every tab of the window, empty cache, against the {scale} sandbox",
          flush=True)
    r = measure_first_load(scale, runs=1 if quick else 3)
    report("rows per tab", ", ".join(f"{k} {v:,}" for k, v in r["rows"].items()))
    report("bare httpx loop, every page of 5 lists at 4, median s",
           f"{r['bare_s']:.2f}  (runs: {r['bare_runs_s']})")
    report("window first load to every tab Up to date, median s",
           f"{r['window_s']:.2f}  (runs: {r['window_runs_s']})")
    report("window first load, process CPU (every thread), median s",
           f"{r['window_cpu_s']:.2f}  (runs: {r['window_cpu_runs_s']})")
    report("… the detail pane's index whole (built after the load), median s",
           f"{r['index_s']:.2f}  (runs: {r['index_runs_s']})")
    report("first load / bare (goal <= 1.5)", f"{r['ratio']:.2f}  (runs: {r['ratios']})")
    report("first load: longest stall ms (goal <= 50)",
           f"{r['max_stall_ms']}  (runs: {r['max_stall_runs_ms']})")
    report("first load: p99 stall ms (goal <= 16)",
           f"{r['p99_stall_ms']}  (runs: {r['p99_stall_runs_ms']})")
    report("first load: peak RSS MB, index built (goal <= 350)",
           f"{r['rss_mb']}  (runs: {r['rss_runs_mb']})")
    report("first load: the HTTP helper process, median CPU s and peak RSS MB",
           f"{r['helper_cpu_s']}, {r['helper_rss_mb']}")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        sys.exit(_child(sys.argv[2:]))
    chosen = sys.argv[1] if len(sys.argv) > 1 else "large"
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    print(json.dumps(measure_first_load(chosen, count), indent=1))
