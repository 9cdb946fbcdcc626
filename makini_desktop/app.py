"""The window: what ``makini-desktop`` without a sub-command runs.

    makini-desktop                      the last active saved connection (or the manager)
    makini-desktop --connection NAME    a saved connection
    makini-desktop --base-url URL       an unsaved connection (token from $MAKINI_API_TOKEN)
    makini-desktop --demo               the built-in sandbox, as "Demo (sandbox)"
    makini-desktop --demo --screenshots DIR    render every window to PNG files and exit

The app runs on a qasync event loop inside Qt's: asyncio tasks (loading, refreshing) and Qt
events share one thread, so nothing here may block. Shutdown is explicit: when the main
window closes, every load is cancelled, the session's HTTP pool and cache are closed and the
sandbox (if any) is stopped, before :func:`run` returns.

The command line is parsed in :mod:`makini_desktop.cli` only, which calls :func:`run` with
the namespace; this module never imports it.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from PySide6.QtWidgets import QApplication, QWidget

    from makini_desktop.sandbox.server import SandboxServer
    from makini_desktop.ui.main_window import MainWindow

from makini_desktop import runtime
from makini_desktop.usage import EXIT_FAILED, EXIT_OK, EXIT_USAGE

log = logging.getLogger(__name__)

DEMO_TOKEN = "sandbox-token"
DEMO_SCALE = "medium"
DEMO_SEED = 42
SCREENSHOT_SIZE = (1280, 800)
SCREENSHOT_LOAD_TIMEOUT_S = 300.0
BENCH_FIRST_PAINT_ENV = "MAKINI_DESKTOP_BENCH_EXIT_AFTER_FIRST_PAINT"
"""Benchmark hook: set to a tab's view name (``assets``), the app shows that tab, prints
``first-cached-paint <unix time> <rows> <CPU seconds>`` when its table first paints cached
rows, and quits. (CPU seconds: this process's user + system time so far, a figure a busy
machine changes far less than the wall-clock time.)
"""
BENCH_ALL_TABS_ENV = "MAKINI_DESKTOP_BENCH_WAIT_ALL_TABS"
"""Benchmark hook, with :data:`BENCH_FIRST_PAINT_ENV`: after the first paint the app goes on
until every tab shows its cached rows and prints ``all-tabs-filled <unix time> <rows> <CPU
seconds>``; then until the detail pane's index holds every row (indexed after the tabs are
filled, see :meth:`RelatedIndex.catch_up`), prints ``index-ready <unix time> <CPU seconds>``
and ``peak-rss-kb <VmHWM>`` (the peak with the index built), and quits.
"""


def peak_rss_kb() -> int:
    """This process's peak resident set size in KiB (``VmHWM`` on Linux, else the OS's
    ``ru_maxrss``): what the benchmark hooks report."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    import resource

    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


class StartupError(Exception):
    """The app cannot start as asked (exit code in :attr:`code`, message for stderr)."""

    def __init__(self, message: str, code: int = EXIT_USAGE) -> None:
        super().__init__(message)
        self.code = code


def run(ns: argparse.Namespace) -> int:
    """Run the GUI until its main window is closed (see :func:`_run_window`), with the
    start's settings of :mod:`~makini_desktop.runtime` (no automatic garbage collection)."""
    with runtime.collections_off(), runtime.until_built():
        return _run_window(ns)


def _run_window(ns: argparse.Namespace) -> int:
    """Run the GUI until its main window is closed.

    Args:
        ns: the command line as :func:`makini_desktop.cli.build_parser` parsed it (no
            sub-command); :func:`makini_desktop.cli.main` has pinned ``QT_API`` already.

    Returns:
        The exit code: 0 when the window was closed (or the screenshots were written),
        1 when the app could not start, 2 for a usage error.
    """
    from PySide6.QtWidgets import QApplication

    runtime.import_quickly()  # before the app's own modules are imported
    if ns.screenshots and QApplication.instance() is None:
        # Render without a display and without flashing windows on one, unless a platform
        # is named (CI renders on xcb under Xvfb to prove the real platform starts).
        if not os.environ.get("QT_QPA_PLATFORM"):
            os.environ["QT_QPA_PLATFORM"] = "offscreen"
    try:
        token = _adhoc_token(ns)
    except StartupError as exc:
        report_startup_error(exc)
        return exc.code

    import qasync
    from PySide6.QtCore import QCoreApplication, QEvent

    from makini_desktop.logs import setup_logging, teardown_logging
    from makini_desktop.platform_check import startup_problem

    log_path = setup_logging()  # <log folder>/makini-desktop.log, scrubbed of secrets
    log.info("makini-desktop %s starting (log %s)", _version(), log_path)
    app = QApplication.instance()
    created = app is None
    if app is None and (problem := startup_problem()) is not None:
        # Qt would abort: say why instead, before paying for the imports below.
        log.error("%s", problem)
        print(problem, file=sys.stderr)
        teardown_logging()
        return EXIT_FAILED
    runtime.share_the_interpreter()
    runtime.use_memory_sparingly()  # before the worker threads start
    if app is None:
        app = _create_application()
    assert isinstance(app, QApplication)
    quit_on_close = app.quitOnLastWindowClosed()
    # The loop ends when the main window closes, not when the last window (an error
    # dialog, say) does.
    app.setQuitOnLastWindowClosed(False)
    from makini_desktop.ui.gc_guard import GuiThreadCollector

    collector = GuiThreadCollector()
    collector.start()
    loop = qasync.QEventLoop(app)
    previous_loop = _current_event_loop()
    asyncio.set_event_loop(loop)
    try:
        code: int = loop.run_until_complete(_run(app, ns, token))
        return code
    except StartupError as exc:
        report_startup_error(exc)
        return exc.code
    finally:
        _cancel_leftover_tasks(loop)
        loop.close()
        delete_loop_timers(loop)
        collector.stop()
        collector.deleteLater()
        asyncio.set_event_loop(previous_loop)
        app.setQuitOnLastWindowClosed(quit_on_close)
        # Windows closed on the way out are deleted now, not at some later event loop.
        QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
        if created:
            log.debug("application shut down")
        log.info("makini-desktop stopped")
        teardown_logging()


_HEADLESS_PLATFORMS = ("offscreen", "minimal", "vnc")


def report_startup_error(exc: StartupError) -> None:
    """Say why the window cannot start: on stderr, and in a message box, since a desktop
    shortcut shows no terminal."""
    print(f"makini-desktop: error: {exc}", file=sys.stderr)
    show_startup_error_box(str(exc))


def show_startup_error_box(message: str) -> None:
    """Show a start-up error in a message box and wait until it is closed.

    Runs outside the event loop (before it starts or after it ended), where a modal
    ``exec()`` blocks nothing else. Left out on platforms without a screen (offscreen,
    as in tests and ``--screenshots`` runs), where nobody could see or close the box.
    """
    from makini_desktop.platform_check import requested_platform, startup_problem

    if requested_platform(os.environ) in _HEADLESS_PLATFORMS:
        return
    from PySide6.QtWidgets import QApplication

    if QApplication.instance() is None:
        if startup_problem() is not None:  # no box can open; stderr already said why
            return
        _create_application()
    startup_error_box(message).exec()


def startup_error_box(message: str) -> Any:
    """The message box of a start-up error (not yet shown)."""
    from PySide6.QtWidgets import QMessageBox

    box = QMessageBox(QMessageBox.Icon.Critical, "makini-desktop",
                      "makini-desktop could not start.")
    box.setObjectName("startupErrorBox")
    box.setAccessibleName("makini-desktop could not start")
    detail = message[:1].upper() + message[1:]
    box.setInformativeText(detail if detail.endswith(".") else detail + ".")
    box.setStandardButtons(QMessageBox.StandardButton.Close)
    return box


def _cancel_leftover_tasks(loop: asyncio.AbstractEventLoop) -> None:
    """Shutdown cancels everything it started; a task still pending here is a bug."""
    pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
    if not pending:
        return
    log.warning("tasks still running at exit: %s", ", ".join(t.get_name() for t in pending))
    for task in pending:
        task.cancel()
    loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))


def _version() -> str:
    from makini_desktop import __version__

    return __version__


def delete_loop_timers(loop: Any) -> None:
    """Destroy qasync's timer object now, on this (the GUI) thread.

    ``QEventLoop.close()`` only flags its internal ``_SimpleTimer`` as stopped: timers of
    callbacks still scheduled (a keep-alive, a cancelled sleep) stay registered. Left to
    the garbage collector, the object may be destroyed on another thread, where Qt warns
    "Timers cannot be stopped from another thread" and can crash.
    """
    import shiboken6

    timer = getattr(loop, "_timer", None)  # qasync internals, checked defensively
    if timer is not None and shiboken6.isValid(timer):
        shiboken6.delete(timer)


def _current_event_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_event_loop_policy().get_event_loop()
    except RuntimeError:
        return None


def _create_application() -> QApplication:
    from PySide6.QtGui import QGuiApplication
    from PySide6.QtWidgets import QApplication

    from makini_desktop import __version__

    # Qt 6 scales for high DPI by itself; fractional factors (150 %) stay exact.
    QGuiApplication.setHighDpiScaleFactorRoundingPolicy(
        QGuiApplication.highDpiScaleFactorRoundingPolicy().PassThrough
    )
    app = QApplication([sys.argv[0] if sys.argv else "makini-desktop"])
    app.setApplicationName("makini-desktop")
    app.setOrganizationName("Makini")
    app.setOrganizationDomain("makini.io")
    app.setApplicationVersion(__version__)
    app.setDesktopFileName("makini-desktop")
    app.setWindowIcon(app_icon())
    # No setStyle and no palette: the platform's native style and its light or dark mode.
    return app


def app_icon() -> Any:
    """The app icon with every size shipped, so each screen's scale picks a sharp one."""
    from PySide6.QtGui import QIcon

    icon = QIcon()
    try:
        folder = icon_folder()
        for size in (16, 32, 48, 64, 128, 256, 512):
            png = folder.joinpath(f"makini-desktop-{size}.png")
            if png.is_file():
                icon.addFile(str(png))
    except (ModuleNotFoundError, OSError) as exc:  # an incomplete install: no icon, no crash
        log.warning("app icon not found: %s", exc)
    return icon


def icon_folder() -> Any:
    """The icons' folder, beside the resources package; importlib.resources (9 ms) for a zip."""
    import makini_desktop.resources as package

    where = getattr(package, "__file__", None)
    if where and (folder := Path(where).parent / "icons").is_dir():
        return folder
    from importlib import resources

    return resources.files(package).joinpath("icons")


def _adhoc_token(ns: argparse.Namespace) -> str | None:
    """The token of ``--base-url`` from the environment, checked before any window opens."""
    if not ns.gui_base_url:
        return None
    from makini_desktop.api.urls import InsecureUrlError, InvalidBaseUrl, validate_base_url
    from makini_desktop.usage import UsageError, read_token_from_env

    try:
        validate_base_url(ns.gui_base_url)
        return read_token_from_env()  # also registers it with the scrubber
    except (InsecureUrlError, InvalidBaseUrl, UsageError) as exc:
        raise StartupError(str(exc)) from None


async def _run(app: QApplication, ns: argparse.Namespace, token: str | None) -> int:
    """Open the window on the connection asked for and wait until it is closed."""
    import shiboken6
    from PySide6.QtCore import QSettings

    from makini_desktop.store.profiles import ProfileStore
    from makini_desktop.store.secrets import TokenStore
    from makini_desktop.sync.session import DEMO_CACHE_KEY, DEMO_NAME, ConnectionInfo
    from makini_desktop.ui.crash_dialog import install_excepthook
    from makini_desktop.ui.main_window import MainWindow

    loop = asyncio.get_running_loop()
    screenshots = Path(ns.screenshots) if ns.screenshots else None
    scratch: tempfile.TemporaryDirectory[str] | None = None
    if screenshots is not None:
        # Screenshots never touch the user's saved connections, keyring or window
        # settings (their column widths would make the pictures differ from run to run).
        from makini_desktop.store.memory_keyring import MemoryKeyring

        scratch = tempfile.TemporaryDirectory(prefix="makini-shots-")
        profiles = ProfileStore(Path(scratch.name) / "connections.json")
        tokens = TokenStore(backend=MemoryKeyring("the system keychain"))
        settings: QSettings | None = QSettings(
            str(Path(scratch.name) / "settings.ini"), QSettings.Format.IniFormat
        )
    else:
        profiles = ProfileStore()
        tokens = TokenStore()
        settings = None
    window = MainWindow(profiles, tokens, settings=settings)
    runtime.window_built()  # its objects out of every collection; PySide's source reads forgotten
    crash = install_excepthook(
        lambda: window if shiboken6.isValid(window) else None,
        loop=loop,
        show_dialogs=screenshots is None,
    )
    closed: asyncio.Future[None] = loop.create_future()
    def on_closed() -> None:
        if not closed.done():
            closed.set_result(None)

    window.sig_closed.connect(on_closed)
    bench_view = os.environ.get(BENCH_FIRST_PAINT_ENV)
    if bench_view:
        _exit_after_first_paint(window, bench_view)
    sandbox: SandboxServer | None = None
    try:
        load: asyncio.Task[None] | None = None
        want_manager = False
        if ns.demo:
            window.tell("Starting the demo sandbox…", lasting=True)
            sandbox = await asyncio.to_thread(_start_sandbox)
            window.tell("Demo: the sample data is new at every start; changes last until you quit.")
            info = ConnectionInfo(DEMO_NAME, sandbox.url, DEMO_CACHE_KEY, demo=True)  # one cache

            load = window.open_connection(info, DEMO_TOKEN)
        elif ns.gui_base_url:
            assert token is not None
            load = window.open_connection(ConnectionInfo.adhoc(ns.gui_base_url, token), token)
        elif ns.gui_connection:
            profile = profiles.find_by_name(ns.gui_connection)
            if profile is None:
                raise StartupError(f"no saved connection named {ns.gui_connection!r}")
            load = window.activate_profile(profile.id)
            want_manager = load is None  # no token stored: the manager asks for one
        elif profiles.active_id is not None and profiles.get(profiles.active_id) is not None:
            load = window.activate_profile(profiles.active_id)
            want_manager = load is None
        else:
            want_manager = True  # first run: nothing to open yet

        if screenshots is not None:
            await _take_screenshots(window, load, screenshots, sandbox, profiles, tokens)
            return EXIT_OK
        window.show()
        if want_manager and (window.connection_dialog is None or
                             not window.connection_dialog.isVisible()):
            window.show_connections()
        await closed
        return EXIT_OK
    finally:
        if shiboken6.isValid(window):
            if window.isVisible():
                window.close()
            await window.shutdown()
        if sandbox is not None:
            await asyncio.to_thread(sandbox.stop)
        crash.uninstall()
        if shiboken6.isValid(window):
            window.deleteLater()
        if scratch is not None:
            scratch.cleanup()


def _exit_after_first_paint(window: MainWindow, view_name: str) -> None:
    """The benchmark hook (see :data:`BENCH_FIRST_PAINT_ENV`): never installed otherwise."""
    import time

    from PySide6.QtCore import QEvent, QObject, QTimer

    tab = window.tabs.get(view_name) or window.current_tab()
    window.resource_tabs.setCurrentWidget(tab)
    viewport = tab.table.viewport()

    class FirstPaint(QObject):
        def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
            if event.type() == QEvent.Type.Paint and tab.model.rowCount() > 0:
                viewport.removeEventFilter(self)
                QTimer.singleShot(0, report)  # after this paint has been done
            return False

    def report() -> None:
        print(f"first-cached-paint {time.time():.6f} {tab.model.rowCount()} "
              f"{time.process_time():.3f}", flush=True)
        if os.environ.get(BENCH_ALL_TABS_ENV):
            _exit_when_all_tabs_filled(window)
        else:
            window.close()

    probe = FirstPaint(window)
    viewport.installEventFilter(probe)


def _exit_when_all_tabs_filled(window: MainWindow) -> None:
    """The benchmark hook (see :data:`BENCH_ALL_TABS_ENV`): never installed otherwise."""
    import time

    from PySide6.QtCore import QTimer

    from makini_desktop.sync.tab_status import Phase

    def poll() -> None:
        tabs = window.workspace.tabs.values()
        if any(t.status.phase in (Phase.IDLE, Phase.READING_CACHE) for t in tabs):
            QTimer.singleShot(5, poll)
            return
        rows = sum(t.model.total for t in tabs)
        print(f"all-tabs-filled {time.time():.6f} {rows} {time.process_time():.3f}", flush=True)
        index_ready()

    def index_ready() -> None:
        if window.workspace.related.waiting:
            QTimer.singleShot(5, index_ready)
            return
        print(f"index-ready {time.time():.6f} {time.process_time():.3f}", flush=True)
        print(f"peak-rss-kb {peak_rss_kb()}", flush=True)
        window.close()

    poll()


def _start_sandbox() -> SandboxServer:
    from makini_desktop.sandbox.server import SandboxConfig, SandboxServer

    config = SandboxConfig(scale=DEMO_SCALE, seed=DEMO_SEED, tokens=(DEMO_TOKEN,), port=0)
    return SandboxServer(config).start()


# -- screenshots ------------------------------------------------------------------------------


async def _settle(app: QApplication, turns: int = 5) -> None:
    """Let queued events and paints run (a few loop turns)."""
    for _ in range(turns):
        app.processEvents()
        await asyncio.sleep(0)


def _save(widget: QWidget, path: Path) -> None:
    pixmap = widget.grab()
    if pixmap.isNull() or not pixmap.save(str(path), "PNG"):
        raise StartupError(f"could not write {path}", EXIT_FAILED)
    log.info("wrote %s", path)


async def _take_screenshots(
    window: MainWindow,
    load: asyncio.Task[None] | None,
    folder: Path,
    sandbox: SandboxServer | None,
    profiles: Any,
    tokens: Any,
) -> None:
    """Load every tab fully, then render each tab, the connection manager and an error."""
    from PySide6.QtWidgets import QApplication

    from makini_desktop.api.client import MakiniClient, RetryPolicy
    from makini_desktop.api.errors import MakiniError

    app = QApplication.instance()
    assert isinstance(app, QApplication)
    folder.mkdir(parents=True, exist_ok=True)
    window.resize(*SCREENSHOT_SIZE)
    window.show()
    if load is not None:
        await asyncio.wait_for(asyncio.shield(load), SCREENSHOT_LOAD_TIMEOUT_S)
        for tab in window.workspace.tabs.values():
            await tab.wait()
    await _settle(app)
    window.resource_tabs.setCurrentWidget(window.overview)
    await window.overview.ensure_current()
    await _settle(app)
    _save(window, folder / "overview.png")
    for view in window.views:
        window.resource_tabs.setCurrentWidget(window.tabs[view.name])
        await _settle(app)
        _save(window, folder / f"{view.name}.png")
    window.resource_tabs.setCurrentIndex(0)

    info = window.workspace.info
    if info is not None:
        # Saved connections as a facilities team would have them; the demo one selected.
        demo = profiles.add(info.name, info.base_url, demo=info.demo)
        tokens.set(demo.id, DEMO_TOKEN)
        for name, url in (("Headquarters — iOffice", "https://api.makini.io"),
                          ("EMEA offices — Eptura", "https://eu.api.makini.io")):
            try:
                profiles.add(name, url)
            except Exception as exc:  # a screenshot detail, never a reason to fail
                log.debug("sample profile not added: %s", exc)
        profiles.set_active(demo.id)
    dialog = window.show_connections(profiles.active_id)
    await _settle(app)
    _save(dialog, folder / "connections.png")
    dialog.close()

    # A real failed request: the status call with a token the server does not know.
    if info is not None:
        err: MakiniError | None = None
        policy = RetryPolicy(max_attempts=1)
        try:
            async with MakiniClient(info.base_url, "expired-demo-token", retry=policy) as client:
                await client.integration()
        except MakiniError as exc:
            err = exc
        if err is not None:
            error_dialog = window.reporter.report(
                err, connection_name=info.name, base_url=info.base_url
            )
            if error_dialog is not None:
                await _settle(app)
                _save(error_dialog, folder / "error.png")
                error_dialog.close()
    await _settle(app)
    if info is not None:
        await _offline_dark_shot(window, folder)
    _ = sandbox  # kept running until every shot is taken


async def _offline_dark_shot(window: MainWindow, folder: Path) -> None:
    """The window working offline, in dark mode: the banner says the rows are the cached
    ones. (Work offline, not a stopped server: no background probe is left running.)"""
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    assert isinstance(app, QApplication)
    window.work_offline_action.setChecked(True)  # as the user does; scratch settings only
    previous = app.palette()
    app.setPalette(dark_palette())
    try:
        await _settle(app, 10)
        _save(window, folder / "offline-dark.png")
    finally:
        app.setPalette(previous)
        await _settle(app)


def dark_palette() -> Any:
    """A dark palette like the desktops' dark modes (Breeze Dark's colours)."""
    from PySide6.QtGui import QColor, QPalette

    role = QPalette.ColorRole
    palette = QPalette()
    for r, rgb in (
        (role.Window, 0x202326), (role.WindowText, 0xFCFCFC), (role.Base, 0x141618),
        (role.AlternateBase, 0x1D1F22), (role.Text, 0xFCFCFC), (role.Button, 0x292C30),
        (role.ButtonText, 0xFCFCFC), (role.Highlight, 0x3DAEE9),
        (role.HighlightedText, 0xFCFCFC), (role.ToolTipBase, 0x292C30),
        (role.ToolTipText, 0xFCFCFC), (role.PlaceholderText, 0xA1A9B1),
        (role.Link, 0x1D99F3), (role.Mid, 0x3B4045), (role.Dark, 0x141618),
        (role.Light, 0x3B4045), (role.BrightText, 0xFCFCFC),
    ):
        palette.setColor(r, QColor(rgb))
    for r in (role.WindowText, role.Text, role.ButtonText):
        palette.setColor(QPalette.ColorGroup.Disabled, r, QColor(0x6E, 0x74, 0x7A))
    return palette
