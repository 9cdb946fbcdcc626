"""The Overview's figures on the ``large`` sandbox data, for the benchmark script.

The rows are the sandbox's own (``makini_desktop.sandbox.data.generate("large")``: 50k
spaces, 100k assets, 5k moves, 20k visits), put in a connection's Qt models and lookups as
the tabs hold them. Then:

* **compute**: :func:`makini_desktop.table.overview.compute` on that snapshot, the median
  of ``runs`` (goal < 200 ms), against a baseline measured in the same run: one bare loop
  reading one field of every row (the least any figure over these rows can cost);
* **after a check-in**: the same, with the tab's cache (``overview.OverviewCache``)
  warm, after one visitor was checked in (through the Visitors model, not timed): only the
  changed list is counted again, as when the tab follows a list that changed (the median of
  ``runs`` check-ins; **compute** above stays the cold case, every list counted);
* **snapshot**: the part that runs on the GUI thread, taking the rows from the models
  (:func:`makini_desktop.ui.overview_tab.overview_input`);
* **stall**: the longest gap between ticks of a 5 ms QTimer while the overview is
  recomputed in its worker thread on the qasync loop, snapshot included (goal <= 50 ms),
  against the same loop left idle for as long (the machine's own noise).

Nothing here asserts a time: the figures are printed. Run directly:
``python -m tests.perf.bench_overview [scale] [runs]``, or
``python -m tests.perf.bench --only overview``.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

from tests.perf.bench_ui import _app, _StallMeter


def _workspace(scale: str) -> Any:
    from makini_desktop.api import resources as res
    from makini_desktop.sandbox.data import generate
    from makini_desktop.ui.controllers import Workspace

    data = generate(scale)
    views = [res.VIEWS[name] for name in res.TAB_VIEWS]
    ws = Workspace(views)
    ws.lookups.set_rows("sites", data.sites)
    ws.lookups.set_rows("locations", data.locations)
    ws.models["spaces"].set_rows(data.locations)
    ws.models["assets"].set_rows(data.assets)
    ws.models["moves"].set_rows(data.moves)
    ws.models["visitors"].set_rows(data.visits)
    return ws, data


def _median_ms(runs: int, fn: Callable[[], Any]) -> tuple[float, list[float]]:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), times


def measure(scale: str = "large", runs: int = 5) -> dict[str, Any]:
    """The figures' cost on ``scale`` data (see the module's docstring)."""
    import qasync

    from makini_desktop.table import overview as ov
    from makini_desktop.ui.overview_tab import known_floors, overview_input

    app = _app()
    ws, data = _workspace(scale)
    from makini_desktop.sync.page_feed import settle_garbage

    settle_garbage()  # as the app does once rows are stored: they are frozen for the gc
    inp = overview_input(ws, None, now=data.now)
    rows = [r for r in (*inp.spaces, *inp.visits, *inp.moves, *inp.assets) if r is not None]

    def bare() -> int:
        return sum(1 for r in rows if r.get("key"))

    compute_ms, compute_all = _median_ms(runs, lambda: ov.compute(inp))
    bare_ms, _ = _median_ms(runs, bare)
    one = data.sites[0]["key"]
    floors = known_floors(ws)
    one_ms, _ = _median_ms(runs, lambda: ov.compute(
        overview_input(ws, one, now=data.now, floors=floors)))
    snapshot_ms, _ = _median_ms(runs, lambda: overview_input(ws, None, now=data.now,
                                                             floors=floors))
    floors_ms, _ = _median_ms(runs, lambda: known_floors(ws))
    changed_ms = _after_check_ins(ws, data, floors, runs)

    meter, idle = _StallMeter(), _StallMeter()
    spent = [0.0]

    async def recompute() -> None:
        started = time.perf_counter()
        meter.start()
        for _ in range(runs):
            snapshot = overview_input(ws, None, now=data.now, floors=floors)
            await asyncio.to_thread(ov.compute, snapshot)
            await asyncio.sleep(0.02)
        meter.stop()
        spent[0] = time.perf_counter() - started
        # The baseline: the same loop for as long, doing nothing (the machine's own noise).
        idle.start()
        await asyncio.sleep(spent[0])
        idle.stop()

    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    try:
        loop.run_until_complete(recompute())
    finally:
        loop.close()
        asyncio.set_event_loop(None)
    return {
        "rows": len(rows),
        "compute_ms": round(compute_ms, 1),
        "compute_runs_ms": [round(t, 1) for t in compute_all],
        "one_building_ms": round(one_ms, 1),
        "bare_loop_ms": round(bare_ms, 1),
        "after_check_in_ms": round(changed_ms, 1),
        "snapshot_ms": round(snapshot_ms, 1),
        "floors_ms": round(floors_ms, 1),
        **meter.summary(),
        "idle_max_stall_ms": idle.summary()["max_stall_ms"],
        "idle_p99_stall_ms": idle.summary()["p99_stall_ms"],
    }


def _after_check_ins(ws: Any, data: Any, floors: Any, runs: int) -> float:
    """The median time of a recompute with a warm cache after one visitor checked in."""
    from makini_desktop.api import resources as res
    from makini_desktop.table import overview as ov
    from makini_desktop.ui.overview_tab import overview_input

    cache = ov.OverviewCache()
    ov.compute(overview_input(ws, None, now=data.now, floors=floors), cache)
    waiting = [v for v in data.visits if v.get(res.F_STATUS) == res.VISIT_EXPECTED][:runs]
    arrived = data.now.strftime("%Y-%m-%dT%H:%M:%SZ")
    times = []
    for visit in waiting:
        ws.models["visitors"].apply_changes(
            [{**visit, res.F_STATUS: res.VISIT_ON_SITE, res.F_CHECKED_IN: arrived}], ())
        snapshot = overview_input(ws, None, now=data.now, floors=floors)
        started = time.perf_counter()
        figures = ov.compute(snapshot, cache)
        times.append((time.perf_counter() - started) * 1000)
    assert figures.visitors.by_status["on_site"] > 0
    return statistics.median(times)


def report_overview(report: Callable[[str, str], None], quick: bool) -> None:
    """Print the figures through the benchmark script's ``report``."""
    scale = "medium" if quick else "large"
    print(f"overview: the figures on the {scale} sandbox's rows", flush=True)
    r = measure(scale, runs=3 if quick else 5)
    report("rows counted", f"{r['rows']:,}")
    report("compute, all buildings: ms (goal < 200)",
           f"{r['compute_ms']} (runs {r['compute_runs_ms']})")
    report("compute, one building: ms", f"{r['one_building_ms']}")
    report("recompute after a check-in (only that list counted again): ms",
           f"{r['after_check_in_ms']}")
    report("bare loop over the same rows: ms", f"{r['bare_loop_ms']}")
    report("compute / bare loop", f"{r['compute_ms'] / max(r['bare_loop_ms'], 0.1):.1f}x")
    report("snapshot on the GUI thread: ms", f"{r['snapshot_ms']}")
    report("floors from the lookups (GUI thread, when names change): ms", f"{r['floors_ms']}")
    report("longest event-loop stall while recomputing: ms (goal <= 50)",
           f"{r['max_stall_ms']} (p99 {r['p99_stall_ms']}, {r['ticks']} ticks)")
    report("the same loop idle as long (baseline): longest / p99 stall, ms",
           f"{r['idle_max_stall_ms']} / {r['idle_p99_stall_ms']}")


if __name__ == "__main__":
    args = sys.argv[1:]
    print(measure(args[0] if args else "large", int(args[1]) if len(args) > 1 else 5))
