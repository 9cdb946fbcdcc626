"""UI responsiveness figures for the benchmark script.

* :func:`measure_load_stalls` loads every tab of the main window from a sandbox (``large``:
  100,000 assets) over loopback and records the longest time the event loop did not turn
  (a QTimer ticking every 5 ms; any gap beyond the tick is a stall the user would feel).
  It measures a cold load (empty cache: rows stream in page by page) and a warm one (cached
  rows first, then a refresh).
* :func:`measure_search_keystrokes` types into the Assets search box over 100,000 rows and
  records how long each keystroke plus its debounced filter blocks the UI.

Run directly: ``python -m tests.perf.bench_ui [scale]``. Both functions print their figures
and return them as a dict.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

os.environ["QT_API"] = "pyside6"
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

TICK_MS = 5
_COLLECTOR: Any = None
SEARCH_TEXT = "monitor dell"


def _app() -> Any:
    from PySide6.QtWidgets import QApplication

    import makini_desktop.ui  # noqa: F401  # PySide6 work-arounds
    from makini_desktop.app import preload_modules

    preload_modules()  # as the app does before its window shows
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


def _memory_tokens() -> Any:
    from keyring.backend import KeyringBackend

    from makini_desktop.store.secrets import TokenStore

    class _Memory(KeyringBackend):
        priority = 1  # type: ignore[assignment]

        def __init__(self) -> None:
            super().__init__()
            self.store: dict[tuple[str, str], str] = {}

        def get_password(self, service: str, username: str) -> str | None:
            return self.store.get((service, username))

        def set_password(self, service: str, username: str, password: str) -> None:
            self.store[(service, username)] = password

        def delete_password(self, service: str, username: str) -> None:
            self.store.pop((service, username), None)

    return TokenStore(backend=_Memory())


def _window(home: Path) -> Any:
    from PySide6.QtCore import QSettings

    from makini_desktop.store.profiles import ProfileStore
    from makini_desktop.ui.main_window import MainWindow

    settings = QSettings(str(home / "settings.ini"), QSettings.Format.IniFormat)
    window = MainWindow(ProfileStore(home / "connections.json"), _memory_tokens(),
                        settings=settings, show_error_dialogs=False)
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
            window.close()
            window.deleteLater()
            app.processEvents()
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
    import qasync
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest

    app = _app()
    window, model, tab = _assets_window(scale)
    rows = model.all_rows()
    meter = _StallMeter()
    timings: list[float] = []
    # Type the text, then delete it again (deleting widens the result: the slow direction).
    keys: list[str | None] = [*text] + [None] * len(text)

    async def type_all() -> None:
        for ch in keys:
            meter.start()
            if ch is None:
                QTest.keyClick(tab.search, Qt.Key.Key_Backspace)
            else:
                QTest.keyClicks(tab.search, ch)
            while tab.search_pending:
                await asyncio.sleep(0.001)
            await asyncio.sleep(0.02)  # the repaint after the filter
            meter.stop()
            timings.append(max(0.0, max(meter.gaps, default=0.0)))

    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    try:
        loop.run_until_complete(type_all())
    finally:
        loop.close()
        asyncio.set_event_loop(None)
    window.close()
    window.deleteLater()
    app.processEvents()
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


def _assets_window(scale: str) -> tuple[Any, Any, Any]:
    """A shown main window whose Assets tab holds the sandbox's assets (no server)."""
    from makini_desktop.api import resources as res
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
    for start in range(0, len(rows), 5000):
        model.append_rows(rows[start:start + 5000])
    window.resource_tabs.setCurrentIndex(res.TAB_VIEWS.index("assets"))
    app.processEvents()
    return window, model, window.tabs["assets"]


def measure_sort_clicks(scale: str = "large") -> dict[str, Any]:
    """The longest UI block (ms) when a header click sorts 100k assets, per column."""
    import qasync
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

    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    try:
        loop.run_until_complete(click_all())
    finally:
        loop.close()
        asyncio.set_event_loop(None)
    window.close()
    window.deleteLater()
    app.processEvents()
    print(f"sort clicks ({model.total:,} assets), longest UI block in ms: {figures}", flush=True)
    return figures


if __name__ == "__main__":
    chosen = sys.argv[1] if len(sys.argv) > 1 else "large"
    measure_search_keystrokes(chosen)
    measure_sort_clicks(chosen)
    measure_load_stalls(chosen)
    print("threads left:", [t.name for t in threading.enumerate()])
