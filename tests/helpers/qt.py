"""Running asyncio code on Qt in tests.

The app runs on a qasync loop driven by ``QApplication.exec()``. In a test nothing calls
``exec()``; pytest-qt spins the Qt event loop inside ``qtbot.waitUntil``/``waitSignal``.
The ``qasync_loop`` fixture installs a qasync loop and marks it as the running asyncio loop
for the test's duration, so tasks started by ``@asyncSlot`` handlers (or by the test) make
progress whenever the test waits on a side effect. This is the one place that touches
asyncio's private ``_set_running_loop``: qasync's own ``run_forever`` does exactly this
around ``exec()``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Iterator
from typing import Any

import qasync


def install_running_loop(app: Any) -> qasync.QEventLoop:
    loop = qasync.QEventLoop(app, already_running=False)
    asyncio.set_event_loop(loop)
    asyncio.events._set_running_loop(loop)
    return loop


def drain(loop: qasync.QEventLoop, qtbot: Any, timeout_ms: int = 5000) -> None:
    """Cancel every task still pending on the loop and wait until they have finished."""
    tasks = [t for t in asyncio.all_tasks(loop) if not t.done()]
    for task in tasks:
        task.cancel()
    if tasks:
        qtbot.waitUntil(lambda: all(t.done() for t in tasks), timeout=timeout_ms)


def uninstall(loop: qasync.QEventLoop) -> None:
    from makini_desktop.app import delete_loop_timers

    asyncio.events._set_running_loop(None)
    asyncio.set_event_loop(None)
    loop.close()
    delete_loop_timers(loop)  # never leave its timers for the GC to free on another thread


def run_task(loop: qasync.QEventLoop, qtbot: Any, coro: Coroutine[Any, Any, Any],
             timeout_ms: int = 20000) -> Any:
    """Run a coroutine as a task on the Qt loop and wait (spinning Qt) for its result."""
    task = loop.create_task(coro)
    qtbot.waitUntil(task.done, timeout=timeout_ms)
    return task.result()


def iter_tasks(loop: qasync.QEventLoop) -> Iterator[asyncio.Task[Any]]:
    yield from (t for t in asyncio.all_tasks(loop) if not t.done())


def fast_retries(info: Any, token: str, **kwargs: Any) -> Any:
    """A Session whose client gives up after one quick retry (tests need no 90 s policy)."""
    from makini_desktop.api.client import RetryPolicy
    from makini_desktop.sync.session import Session

    session = Session(info, token, **kwargs)
    session.client.retry = RetryPolicy(max_attempts=2, backoff_base=0.01, backoff_cap=0.05)
    return session


def wait_loaded(qtbot: Any, window: Any, timeout_ms: int = 30_000) -> None:
    """Wait until the main window's load of every tab has finished and nothing is busy."""
    ws = window.workspace
    qtbot.waitUntil(lambda: ws.load_task is not None and ws.load_task.done(), timeout=timeout_ms)
    qtbot.waitUntil(lambda: not ws.busy, timeout=timeout_ms)


def quit_window(qtbot: Any, loop: Any, win: Any) -> None:
    """Shut a window down as the app does (session closed), unless it is already gone."""
    import shiboken6

    if not shiboken6.isValid(win):
        return
    from PySide6.QtCore import QCoreApplication, QEvent

    run_task(loop, qtbot, win.shutdown())
    if shiboken6.isValid(win):
        win.close()
        win.deleteLater()
        # Deleted now, as the app's own shutdown does: left to a later turn of the loop, a
        # second quit (the fixture's, after the test's own) found the window still valid
        # and was inside its shutdown when the deletion ran.
        QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
