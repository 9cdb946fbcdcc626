"""UI responsiveness figures for the benchmark script.

* :func:`measure_load_stalls` loads every tab of the main window from a sandbox (``large``:
  100,000 assets) over loopback and records the longest time the event loop did not turn
  (a QTimer ticking every 5 ms; any gap beyond the tick is a stall the user would feel).
  It measures a cold load (empty cache: rows stream in page by page) and a warm one (cached
  rows first, then a refresh).
* :func:`measure_cold_start` starts the app in a new process on a cached 100k-asset list
  (server down) until its first cached rows are painted, against a bare PySide6 window
  started the same way, and records the longest UI stall while the window opens the cache.
* :func:`measure_search_keystrokes` types into the Assets search box over 100,000 rows and
  records how long each keystroke plus its debounced filter blocks the UI.

Run directly: ``python -m tests.perf.bench_ui [scale]``. Both functions print their figures
and return them as a dict.
"""

from __future__ import annotations

import asyncio
import gc
import os
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

os.environ["QT_API"] = "pyside6"
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

TICK_MS = 5
_COLLECTOR: Any = None
SEARCH_TEXT = "monitor dell"


def _app() -> Any:
    from PySide6.QtWidgets import QApplication

    from makini_desktop.runtime import (
        import_quickly,
        share_the_interpreter,
        use_memory_sparingly,
    )

    import_quickly()  # as app.run does, after PySide6's import
    # httpx is not imported here: as in the app, a window's first request imports it and
    # builds its client in a worker thread (MakiniClient._ready_http), inside the figures.
    share_the_interpreter()  # the process-wide settings app.run applies
    use_memory_sparingly()
    app = QApplication.instance() or QApplication([sys.argv[0]])
    global _COLLECTOR
    if _COLLECTOR is None:  # as app.main does: garbage is collected on the GUI thread
        from makini_desktop.ui.gc_guard import GuiThreadCollector

        _COLLECTOR = GuiThreadCollector()
        _COLLECTOR.start()
    return app


class _StallMeter:
    """Records the gaps between ticks of a fast QTimer."""

    def __init__(self) -> None:
        from PySide6.QtCore import QTimer

        self.gaps: list[float] = []
        self._last = 0.0
        self.timer = QTimer()
        self.timer.setInterval(TICK_MS)
        self.timer.timeout.connect(self._tick)

    def start(self) -> None:
        self.gaps.clear()
        self._last = time.perf_counter()
        self.timer.start()

    def stop(self) -> None:
        self.timer.stop()

    def _tick(self) -> None:
        now = time.perf_counter()
        self.gaps.append((now - self._last) * 1000 - TICK_MS)
        self._last = now

    def summary(self) -> dict[str, float]:
        gaps = sorted(self.gaps) or [0.0]
        p99 = gaps[max(0, int(len(gaps) * 0.99) - 1)]
        return {
            "max_stall_ms": round(max(0.0, gaps[-1]), 1),
            "p99_stall_ms": round(max(0.0, p99), 1),
            "stalls_over_50ms": sum(1 for g in gaps if g > 50),
            "ticks": len(self.gaps),
        }


def _run_then_close(app: Any, coro: Any, window: Any) -> None:
    """Run a coroutine on a fresh qasync loop, then close and delete the window."""
    import qasync

    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    try:
        loop.run_until_complete(coro)
    finally:
        loop.close()
        asyncio.set_event_loop(None)
    dispose(app, window)


def dispose(app: Any, window: Any) -> None:
    """Close a bench's window and destroy it now, with what it holds. A deleteLater()
    runs only when an event loop next turns: the next figure's loop would spend a quarter
    of a second tearing down this window's tables and count it as its own stall."""
    from PySide6.QtCore import QCoreApplication, QEvent

    window.close()
    window.deleteLater()
    app.processEvents()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    gc.collect()


def _memory_tokens() -> Any:
    from makini_desktop.store.secrets import TokenStore
    from tests.helpers.memkeyring import MemoryKeyring

    return TokenStore(backend=MemoryKeyring())


def _window(home: Path) -> Any:
    from PySide6.QtCore import QSettings

    from makini_desktop.runtime import window_built
    from makini_desktop.store.profiles import ProfileStore
    from makini_desktop.ui.main_window import MainWindow

    settings = QSettings(str(home / "settings.ini"), QSettings.Format.IniFormat)
    window = MainWindow(ProfileStore(home / "connections.json"), _memory_tokens(),
                        settings=settings, show_error_dialogs=False)
    window_built()  # as the app's start does (its objects frozen, PySide's source reads gone)
    window.resize(1280, 800)
    window.show()
    return window


class _SandboxProcess:
    """The sandbox in a process of its own, as a real server would be.

    In-process, its request threads would compete with the UI thread for the GIL, and the
    figures would measure the server as much as the app.
    """

    def __init__(self, scale: str, token: str) -> None:
        import subprocess

        self.proc = subprocess.Popen(
            [sys.executable, "-m", "makini_desktop.cli", "sandbox", "--scale", scale,
             "--token", token, "--port", "0"],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line.startswith("Makini sandbox on "):
            self.stop()
            raise RuntimeError(f"the sandbox did not start: {line!r}")
        self.url = line.split()[3]

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except Exception:
            self.proc.kill()
            self.proc.wait()


def measure_load_stalls(scale: str = "large") -> dict[str, Any]:
    """Max event-loop stall (ms) while the window loads every tab from a sandbox.

    Returns:
        ``{"cold": {...}, "warm": {...}, "rows": {...}}`` with ``max_stall_ms``,
        ``p99_stall_ms``, ``stalls_over_50ms`` and ``seconds`` per pass.
    """
    import qasync

    from makini_desktop.sync.session import ConnectionInfo

    app = _app()
    home = Path(tempfile.mkdtemp(prefix="makini-bench-ui-"))
    os.environ["MAKINI_DESKTOP_HOME"] = str(home)
    print(f"starting the {scale} sandbox…", flush=True)
    server = _SandboxProcess(scale, "bench-token")
    results: dict[str, Any] = {"scale": scale}
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    try:
        for label in ("cold", "warm"):
            window = _window(home)
            meter = _StallMeter()

            async def run(window: Any = window, meter: _StallMeter = meter) -> float:
                info = ConnectionInfo("Bench", server.url, "bench-ui")
                meter.start()
                started = time.perf_counter()
                task = window.open_connection(info, "bench-token")
                await task
                for tab in window.workspace.tabs.values():
                    await tab.wait()
                elapsed = time.perf_counter() - started
                meter.stop()
                await window.shutdown()
                return elapsed

            seconds = loop.run_until_complete(run())
            figures = meter.summary()
            figures["seconds"] = round(seconds, 1)
            results[label] = figures
            results["rows"] = {n: m.total for n, m in window.workspace.models.items()}
            print(f"load stalls ({scale}, {label}): max {figures['max_stall_ms']} ms, "
                  f"p99 {figures['p99_stall_ms']} ms, {figures['stalls_over_50ms']} over 50 ms, "
                  f"{figures['seconds']} s", flush=True)
            dispose(app, window)
    finally:
        loop.close()
        asyncio.set_event_loop(None)
        server.stop()
    print(f"rows: {results['rows']}")
    return results


def measure_search_keystrokes(scale: str = "large", text: str = SEARCH_TEXT) -> dict[str, Any]:
    """Median and max ms one keystroke plus its debounced filter blocks the UI (Assets tab).

    Each keystroke is typed into the real search box on a running qasync loop; the figure
    for a keystroke is the longest gap between two 5 ms ticks from the key press until its
    filter has been applied and painted. The assets come straight from the sandbox's
    generator (no server): this measures the model and the view, not the network.
    """
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest

    app = _app()
    window, model, tab = _assets_window(scale)
    rows = model.all_rows()
    meter = _StallMeter()
    timings: list[float] = []
    # Type the text, then delete it again (deleting widens the result: the slow direction).
    keys: list[str | None] = [*text] + [None] * len(text)

    def press(ch: str | None) -> None:
        if ch is None:
            QTest.keyClick(tab.search, Qt.Key.Key_Backspace)
        else:
            QTest.keyClicks(tab.search, ch)

    async def type_all() -> None:
        for ch in keys:
            timings.append(await _longest_block(
                meter, lambda c=ch: press(c), lambda: tab.search_pending))

    _run_then_close(app, type_all(), window)
    figures = {
        "rows": len(rows),
        "median_ms": round(statistics.median(timings), 1),
        "max_ms": round(max(timings), 1),
        "keystrokes": len(timings),
    }
    print(f"search keystrokes ({len(rows):,} assets): longest UI block per keystroke: median "
          f"{figures['median_ms']} ms, max {figures['max_ms']} ms over {len(timings)} keystrokes",
          flush=True)
    return figures


async def _longest_block(meter: Any, act: Callable[[], object],
                         pending: Callable[[], bool]) -> float:
    """Do one user step and return the longest UI block (ms) until the table has applied
    it (``pending`` false) and repainted."""
    meter.start()
    act()
    while pending():
        await asyncio.sleep(0.001)
    await asyncio.sleep(0.02)  # the repaint after the filter
    meter.stop()
    return max(0.0, max(meter.gaps, default=0.0))


def measure_filter_changes(scale: str = "large") -> dict[str, Any]:
    """The longest UI block (ms) while a filter box's choice is applied to 100k assets
    (issue 9: filters apply in the row index in slices): each category, then each floor of
    the first building, chosen in turn as a user would, then All again."""
    from makini_desktop.api import resources as res
    from makini_desktop.table import filters

    app = _app()
    window, model, tab = _assets_window(scale)
    rows = model.all_rows()
    categories = sorted({str(r.get(res.F_CATEGORY)) for r in rows if r.get(res.F_CATEGORY)})
    lookups = window.workspace.lookups
    floors = lookups.floors(lookups.site_of(rows[0].get(res.F_LOCATION_KEY)))
    states = ([{filters.CATEGORY: c} for c in categories[:8]]
              + [{filters.FLOOR: f} for f in floors[:8]] + [{}])
    meter = _StallMeter()
    timings: list[float] = []

    async def choose_all() -> None:
        for state in states:
            timings.append(await _longest_block(
                meter, lambda s=state: tab.apply_filter_state(s), lambda: tab.filter_pending))

    _run_then_close(app, choose_all(), window)
    figures = {"rows": len(rows), "changes": len(timings),
               "median_ms": round(statistics.median(timings), 1),
               "max_ms": round(max(timings), 1)}
    print(f"filter changes ({len(rows):,} assets): longest UI block per change: median "
          f"{figures['median_ms']} ms, max {figures['max_ms']} ms over {len(timings)}",
          flush=True)
    return figures


def _assets_window(scale: str) -> tuple[Any, Any, Any]:
    """A shown main window whose Assets tab holds the sandbox's assets (no server)."""
    from makini_desktop.sandbox.data import generate

    app = _app()
    home = Path(tempfile.mkdtemp(prefix="makini-bench-ui-"))
    os.environ["MAKINI_DESKTOP_HOME"] = str(home)
    data = generate(scale, 42)
    window = _window(home)
    ws = window.workspace
    ws.lookups.set_rows("sites", data.visible("sites"))
    ws.lookups.set_rows("locations", data.visible("locations"))
    model = ws.models["assets"]
    rows = data.visible("assets")
    from makini_desktop.ui.controllers import settle_garbage

    for start in range(0, len(rows), 5000):
        model.append_rows(rows[start:start + 5000])
        settle_garbage()  # as the tab controller does after each chunk it stores
    window.resource_tabs.setCurrentWidget(window.tabs["assets"])
    app.processEvents()
    return window, model, window.tabs["assets"]


def measure_sort_clicks(scale: str = "large") -> dict[str, Any]:
    """The longest UI block (ms) when a header click sorts 100k assets, per column."""
    from PySide6.QtCore import Qt

    from makini_desktop.api import resources as res

    app = _app()
    window, model, tab = _assets_window(scale)
    header = tab.table.horizontalHeader()
    meter = _StallMeter()
    figures: dict[str, float] = {}
    columns = ["name", "serial", "building", "audited", "name"]

    async def click_all() -> None:
        for n, column_id in enumerate(columns):
            column = [c.id for c in res.ASSETS_VIEW.columns].index(column_id)
            meter.start()
            header.setSortIndicator(column, Qt.SortOrder.AscendingOrder)  # what a click does
            while tab.table.sort_pending:
                await asyncio.sleep(0.001)
            await asyncio.sleep(0.02)
            meter.stop()
            label = column_id if n < len(columns) - 1 else f"{column_id} (again)"
            figures[label] = round(max(meter.gaps, default=0.0), 1)

    _run_then_close(app, click_all(), window)
    print(f"sort clicks ({model.total:,} assets), longest UI block in ms: {figures}", flush=True)
    return figures


_BARE_WINDOW = """
import sys, time
from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication, QMainWindow, QTableView
app = QApplication(sys.argv[:1])
window = QMainWindow()
table = QTableView(window)
window.setCentralWidget(table)
window.resize(1280, 800)

class FirstPaint(QObject):
    def eventFilter(self, watched, event):
        if event.type() == QEvent.Type.Paint:
            table.viewport().removeEventFilter(self)
            QTimer.singleShot(0, report)
        return False

def report():
    print(f"first-paint {time.time():.6f}", flush=True)
    app.quit()

probe = FirstPaint()
table.viewport().installEventFilter(probe)
window.show()
app.exec()
"""


def _fill_cache(key: str, scale: str) -> dict[str, int]:
    """Write the sandbox's ``scale`` data into a connection's offline cache, as a sync would."""
    from datetime import UTC, datetime

    from makini_desktop.api import resources as res
    from makini_desktop.sandbox.data import generate
    from makini_desktop.store.cache import Cache, max_updated_at

    data = generate(scale, 42)
    synced = datetime.now(UTC)
    counts = {}
    with Cache.open_for(key) as cache:
        for name in res.DATASETS:
            rows = data.visible(name)
            with cache.begin_snapshot(name) as writer:
                for start in range(0, len(rows), 5000):
                    writer.add(rows[start:start + 5000])
                writer.commit(server_total=len(rows), watermark=max_updated_at(rows),
                              synced_at=synced)
            counts[name] = len(rows)
    return counts


def _time_to_line(cmd: list[str], env: dict[str, str], prefix: str) -> tuple[float, str]:
    """Start ``cmd`` and return (seconds until it printed ``prefix <unix time> ...``, line)."""
    import subprocess

    started = time.time()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            text=True)
    assert proc.stdout is not None
    line = ""
    for line in proc.stdout:
        if line.startswith(prefix):
            break
    try:
        proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    if not line.startswith(prefix):
        raise RuntimeError(f"{cmd[:3]} printed no {prefix!r} line")
    return float(line.split()[1]) - started, line.strip()


def measure_cold_start(scale: str = "large", runs: int = 3) -> dict[str, Any]:
    """Cold start to the first cached rows painted, against a bare PySide6 window start.

    The Assets tab's cache holds the ``scale`` data (``large``: 100,000 assets) and the
    server is down, so what is measured is the start on the cache alone: a new process of
    ``python -m makini_desktop.cli --base-url URL`` (with the benchmark hook
    ``MAKINI_DESKTOP_BENCH_EXIT_AFTER_FIRST_PAINT=assets``) until the Assets table has
    painted its first cached rows, and a new process showing a QMainWindow with one empty
    QTableView until that table has painted, each the median of ``runs`` alternating runs.
    Then, in this process, the longest UI stall while the window opens the whole cache.

    Returns:
        ``{"app_ms", "bare_ms", "ratio", "max_stall_ms", ...}``.
    """
    from makini_desktop.sync.session import ConnectionInfo

    home = Path(tempfile.mkdtemp(prefix="makini-bench-cold-"))
    os.environ["MAKINI_DESKTOP_HOME"] = str(home)
    url = free_url()
    token = "bench-token"
    info = ConnectionInfo.adhoc(url, token)
    try:
        return _measure_cold_start(home, url, token, info, scale, runs)
    finally:
        import shutil

        shutil.rmtree(home, ignore_errors=True)  # ~160 MB of cache at the large scale


def as_installed(env: dict[str, str], home: Path) -> None:
    """Make the processes of ``env`` start from compiled bytecode, as an installed app does.

    pip compiles what it installs (PySide6 included), but an editable checkout's modules
    are compiled at each start when PYTHONDONTWRITEBYTECODE is set (as on CI machines),
    0.12-0.15 s of CPU no user pays. So the bytecode goes to a folder of the run (under
    ``home``); the caller starts each command once, untimed, to fill it.
    """
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(home / "pycache")


def _measure_cold_start(
    home: Path, url: str, token: str, info: Any, scale: str, runs: int
) -> dict[str, Any]:
    from makini_desktop.app import BENCH_FIRST_PAINT_ENV
    from makini_desktop.cli import TOKEN_ENV

    print(f"filling the offline cache with the {scale} data…", flush=True)
    counts = _fill_cache(info.cache_key, scale)

    env = dict(os.environ, MAKINI_DESKTOP_HOME=str(home), QT_QPA_PLATFORM="offscreen",
               QT_API="pyside6", **{TOKEN_ENV: token, BENCH_FIRST_PAINT_ENV: "assets"})
    app_cmd = [sys.executable, "-m", "makini_desktop.cli", "--base-url", url]
    bare_cmd = [sys.executable, "-c", _BARE_WINDOW]
    as_installed(env, home)
    _time_to_line(bare_cmd, env, "first-paint")  # untimed: compiles the bytecode
    _time_to_line(app_cmd, env, "first-cached-paint")
    app_times: list[float] = []
    bare_times: list[float] = []
    rows_painted = ""
    for _ in range(runs):
        seconds, _line = _time_to_line(bare_cmd, env, "first-paint")
        bare_times.append(seconds * 1000)
        seconds, line = _time_to_line(app_cmd, env, "first-cached-paint")
        app_times.append(seconds * 1000)
        rows_painted = line.split()[2]
    app_ms = statistics.median(app_times)
    bare_ms = statistics.median(bare_times)
    results: dict[str, Any] = {
        "scale": scale,
        "cached_rows": counts,
        "app_ms": round(app_ms),
        "bare_ms": round(bare_ms),
        "ratio": round(app_ms / bare_ms, 2),
        "app_runs_ms": [round(t) for t in app_times],
        "bare_runs_ms": [round(t) for t in bare_times],
    }
    print(f"cold start to first cached rows painted ({counts.get('assets', 0):,} cached assets,"
          f" {rows_painted} rows in the first paint): {results['app_ms']} ms; bare PySide6 "
          f"window: {results['bare_ms']} ms; ratio {results['ratio']} "
          f"(runs: app {results['app_runs_ms']}, bare {results['bare_runs_ms']})", flush=True)
    results.update(_measure_cached_open(home, info, token))
    return results


def _measure_cached_open(home: Path, info: Any, token: str) -> dict[str, Any]:
    """The longest UI stall while a window opens a connection's whole cache (server down)."""

    from makini_desktop.ui.controllers import Phase

    app = _app()
    window = _window(home)
    window.workspace.probe_delays = (600.0, 600.0)  # no background probe during the figure
    window.resource_tabs.setCurrentWidget(window.tabs["assets"])
    meter = _StallMeter()
    marks: dict[str, float] = {}

    async def run() -> None:
        assets = window.workspace.tabs["assets"]
        meter.start()
        started = time.perf_counter()
        task = window.open_connection(info, token)
        while not task.done():
            if "first_assets" not in marks and assets.model.rowCount():
                marks["first_assets"] = time.perf_counter() - started
            if "assets" not in marks and assets.status.phase is Phase.OFFLINE:
                marks["assets"] = time.perf_counter() - started
            await asyncio.sleep(0.002)
        marks["all"] = time.perf_counter() - started
        await asyncio.sleep(0.05)  # the last paint
        meter.stop()
        await window.shutdown()

    rows: dict[str, int] = {}

    async def run_and_count() -> None:
        await run()
        rows.update({n: m.total for n, m in window.workspace.models.items()})

    _run_then_close(app, run_and_count(), window)
    figures = meter.summary()
    result = {
        "max_stall_ms": figures["max_stall_ms"],
        "p99_stall_ms": figures["p99_stall_ms"],
        "stalls_over_50ms": figures["stalls_over_50ms"],
        "first_assets_ms": round(marks.get("first_assets", 0.0) * 1000),
        "all_cached_s": round(marks["all"], 2),
        "rows": rows,
    }
    print(f"opening the whole cache in the window ({rows['assets']:,} assets, "
          f"{sum(rows.values()):,} rows in all, server down): longest UI stall "
          f"{result['max_stall_ms']} ms, p99 {result['p99_stall_ms']} ms, "
          f"{result['stalls_over_50ms']} over 50 ms; first assets after "
          f"{result['first_assets_ms']} ms, everything in {result['all_cached_s']} s",
          flush=True)
    return result


if __name__ == "__main__":
    chosen = sys.argv[1] if len(sys.argv) > 1 else "large"
    measure_cold_start(chosen)
    measure_search_keystrokes(chosen)
    measure_sort_clicks(chosen)
    measure_load_stalls(chosen)
    print("threads left:", [t.name for t in threading.enumerate()])


def free_url() -> str:
    """A loopback URL nothing listens on: a server that is down."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"
