"""Start from the cache: figures for issue 8's goals, against a baseline in the same run.

The cache of a connection is filled once with the ``large`` sandbox data (50k spaces, 100k
assets, 5k moves, 12.5k visits), in a process of its own. Then, ``runs`` times, alternating,
each in a fresh process started from compiled bytecode, as an installed app is (one
untimed start of each compiles it first):

* a bare PySide6 window (a QMainWindow with one empty QTableView) until its first paint;
* the app, offscreen, on that cache with the server down (a port nothing listens on), until
  the Assets tab has painted its first cached rows, then until every tab shows its cached
  rows; and the peak RSS of that process (``VmHWM``) at that moment. The untimed start
  before the runs read every list whole, so these starts read the row images it wrote
  (``store/row_image.py``), as every start after the first on an unchanged cache does;
* the app again, after the row images were dropped: a start that decodes every list's
  JSON (after a sync changed every list and the app quit before it had written their
  images again in the background).

Goals: first rows painted / bare window <= 2.5; every tab filled <= 1.5 s; peak RSS
<= 350 MB. Nothing here asserts a time: the figures are printed.

On a machine shared with other work the wall-clock figures swing by a factor of several;
the CPU seconds of each process (the bare window's whole life, the app's at its first
cached paint and when every tab is filled, as it reports them) are printed beside them:
they say how much work there is, whatever else runs.

Run: ``python -m tests.perf.bench_cache [--scale large] [--runs 3]``, or
``python -m tests.perf.bench --only cachestart``.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from tests.perf.bench_ui import as_installed, free_url

_FILL = """
import sys
from tests.perf.bench_ui import _fill_cache
counts = _fill_cache(sys.argv[1], sys.argv[2])
print("filled", sum(counts.values()), flush=True)
"""


def _lines(cmd: list[str], env: dict[str, str], prefixes: tuple[str, ...]) -> dict[str, Any]:
    """Start ``cmd``; per prefix, (seconds since the start, the rest of its line's words)."""
    started = time.time()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            text=True)
    assert proc.stdout is not None
    found: dict[str, Any] = {}
    for line in proc.stdout:
        words = line.split()
        if words and words[0] in prefixes:
            found[words[0]] = words[1:]
            if len(found) == len(prefixes):
                break
    try:
        proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    missing = [p for p in prefixes if p not in found]
    if missing:
        raise RuntimeError(f"{cmd[:3]} printed no {missing} line")
    found["started"] = started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)  # the process has been waited for
    found["cpu"] = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return found


def _spread(values: list[float], unit: str, digits: int = 0) -> str:
    med = statistics.median(values)
    runs = ", ".join(f"{v:.{digits}f}" for v in values)
    return f"{med:.{digits}f} {unit}  (runs {runs}; spread {min(values):.{digits}f}–" \
           f"{max(values):.{digits}f})"


def measure(scale: str = "large", runs: int = 3) -> dict[str, Any]:
    """Fill a cache, then time the bare window and the app's start from it ``runs`` times."""
    from makini_desktop.app import BENCH_ALL_TABS_ENV, BENCH_FIRST_PAINT_ENV
    from makini_desktop.cli import TOKEN_ENV
    from makini_desktop.sync.session import ConnectionInfo

    home = Path(tempfile.mkdtemp(prefix="makini-bench-cache-"))
    url, token = free_url(), "bench-token"
    info = ConnectionInfo.adhoc(url, token)
    env = dict(os.environ, MAKINI_DESKTOP_HOME=str(home), QT_QPA_PLATFORM="offscreen",
               QT_API="pyside6", **{TOKEN_ENV: token, BENCH_FIRST_PAINT_ENV: "assets",
                                    BENCH_ALL_TABS_ENV: "1"})
    as_installed(env, home)  # both start from compiled bytecode, as an installed app
    try:
        print(f"filling the offline cache with the {scale} data (own process)…", flush=True)
        fill = subprocess.run([sys.executable, "-c", _FILL, info.cache_key, scale], env=env,
                              capture_output=True, text=True, check=True)
        print(f"  {fill.stdout.strip()} rows", flush=True)
        bare_cmd = [sys.executable, "-c", _bare_window()]
        app_cmd = [sys.executable, "-m", "makini_desktop.cli", "--base-url", url]
        bare, first, filled, indexed, rss = [], [], [], [], []
        bare_cpu, first_cpu, filled_cpu = [], [], []
        cold_filled, cold_rss, cold_cpu = [], [], []  # without row images
        rows = ""
        _lines(bare_cmd, env, ("first-paint",))  # untimed: compiles the bytecode
        _lines(app_cmd, env, _APP_LINES)
        for n in range(runs):
            b = _lines(bare_cmd, env, ("first-paint",))
            bare.append((float(b["first-paint"][0]) - b["started"]) * 1000)
            bare_cpu.append(b["cpu"])
            a = _lines(app_cmd, env, _APP_LINES)
            first.append((float(a["first-cached-paint"][0]) - a["started"]) * 1000)
            filled.append(float(a["all-tabs-filled"][0]) - a["started"])
            indexed.append(float(a["index-ready"][0]) - a["started"])
            rss.append(int(a["peak-rss-kb"][0]) / 1024)
            rows = a["all-tabs-filled"][1]
            first_cpu.append(_cpu(a["first-cached-paint"], 2))
            filled_cpu.append(_cpu(a["all-tabs-filled"], 2))
            _drop_row_images(home)  # a start that decodes every list's JSON
            c = _lines(app_cmd, env, _APP_LINES)
            cold_filled.append(float(c["all-tabs-filled"][0]) - c["started"])
            cold_rss.append(int(c["peak-rss-kb"][0]) / 1024)
            cold_cpu.append(_cpu(c["all-tabs-filled"], 2))
            print(f"  run {n + 1}: bare {bare[-1]:.0f} ms, first cached rows {first[-1]:.0f} ms"
                  f" ({first[-1] / bare[-1]:.2f}x), every tab {filled[-1]:.2f} s, "
                  f"peak RSS {rss[-1]:.0f} MB; CPU: bare {bare_cpu[-1]:.2f} s, first rows "
                  f"{first_cpu[-1]:.2f} s, every tab {filled_cpu[-1]:.2f} s; without row "
                  f"images: every tab {cold_filled[-1]:.2f} s (CPU {cold_cpu[-1]:.2f} s), "
                  f"peak RSS {cold_rss[-1]:.0f} MB", flush=True)
    finally:
        shutil.rmtree(home, ignore_errors=True)
    ratios = [f / b for f, b in zip(first, bare, strict=True)]
    out = {
        "rows": rows,
        "bare_ms": bare,
        "first_ms": first,
        "ratio": ratios,
        "filled_s": filled,
        "index_s": indexed,
        "rss_mb": rss,
        "bare_cpu_s": bare_cpu,
        "first_cpu_s": first_cpu,
        "filled_cpu_s": filled_cpu,
        "no_image_filled_s": cold_filled,
        "no_image_rss_mb": cold_rss,
        "no_image_cpu_s": cold_cpu,
    }
    ratio = statistics.median(first) / statistics.median(bare)
    print(f"start from the cache ({scale}, {rows} rows, server down, {runs} runs):")
    print(f"  bare PySide6 window to first paint             {_spread(bare, 'ms')}")
    print(f"  app to first cached rows painted               {_spread(first, 'ms')}")
    print(f"  first rows / bare window (goal <= 2.5)         {ratio:.2f}  "
          f"(per run {', '.join(f'{r:.2f}' for r in ratios)})")
    print(f"  every tab filled (goal <= 1.5 s)               {_spread(filled, 's', 2)}")
    print(f"  detail pane's index whole (after the tabs)     {_spread(indexed, 's', 2)}")
    print(f"  peak RSS, VmHWM, index built (goal <= 350 MB)  {_spread(rss, 'MB')}")
    print(f"  CPU: bare window, whole process                {_spread(bare_cpu, 's', 2)}")
    print(f"  CPU: app to first cached rows painted          {_spread(first_cpu, 's', 2)}  "
          f"(ratio {statistics.median(first_cpu) / statistics.median(bare_cpu):.2f})")
    print(f"  CPU: app until every tab is filled             {_spread(filled_cpu, 's', 2)}")
    print("  a start without row images (every list's JSON decoded):")
    print(f"    every tab filled                             {_spread(cold_filled, 's', 2)}")
    print(f"    CPU until every tab is filled                {_spread(cold_cpu, 's', 2)}")
    print(f"    peak RSS, VmHWM                              {_spread(cold_rss, 'MB')}",
          flush=True)
    return out


_APP_LINES = ("first-cached-paint", "all-tabs-filled", "index-ready", "peak-rss-kb")
"""What the app prints on its way (makini_desktop.app's benchmark hooks)."""


def _drop_row_images(home: Path) -> None:
    """Forget the row images of the caches under ``home`` (as a sync's changes do), so the
    next start decodes every list's JSON (and writes the images again)."""
    import sqlite3

    for path in (home / "cache").glob("*.sqlite3"):
        with contextlib.closing(sqlite3.connect(path)) as conn, conn:
            conn.execute("DELETE FROM row_images")


def _cpu(words: list[str], index: int) -> float:
    """The CPU seconds the app printed on a line (NaN from an app that prints none)."""
    return float(words[index]) if len(words) > index else float("nan")


def _bare_window() -> str:
    from tests.perf.bench_ui import _BARE_WINDOW

    return _BARE_WINDOW


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", default="large")
    parser.add_argument("--runs", type=int, default=3)
    ns = parser.parse_args(argv)
    measure(ns.scale, ns.runs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
