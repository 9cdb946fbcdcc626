"""The client's HTTP exchanges on a thread of their own, with a plain asyncio event loop.

In the app the caller's event loop is Qt's (qasync), where every ``call_soon`` and every
socket callback goes through a Qt timer or notifier in Python: httpx and httpcore make
dozens of them per request, and a first load of 1,750 pages spent about a third of the
interpreter's time there, on the thread that paints the window. :class:`HttpThread` runs
them on a standard asyncio loop in one worker thread instead, and decodes each answer's
JSON there too (:func:`~makini_desktop.api.exchange.perform`). The window's client goes
one step further, to a process of its own (:mod:`~makini_desktop.api.http_helper`); this
thread serves the command line and the tests' clients. The caller keeps everything that
decides (the concurrency window, the pacer, retries, typed errors): it awaits one future
per exchange.

The ``httpx.AsyncClient`` is used on the worker's loop only, from its first request to
its ``aclose``. Cancelling the caller's await cancels the exchange on the worker's loop.
No Qt, no widgets.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

__all__ = ["HttpThread"]

_T = TypeVar("_T")


class HttpThread:
    """A worker thread running an asyncio event loop for one client's exchanges.

    Started on the first :meth:`run`; :meth:`stop` ends it (and joins it). Daemonic, so a
    client never closed does not keep the process alive.

    Args:
        name: the thread's name.
    """

    def __init__(self, name: str = "makini-http") -> None:
        self._name = name
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _start(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None:
                loop = asyncio.new_event_loop()
                ready = threading.Event()

                def main() -> None:
                    asyncio.set_event_loop(loop)
                    loop.call_soon(ready.set)
                    try:
                        loop.run_forever()
                    finally:
                        # Whatever was still running when the client closed (a request the
                        # caller gave up on) ends here, before the loop closes.
                        pending = asyncio.all_tasks(loop)
                        for task in pending:
                            task.cancel()
                        if pending:
                            loop.run_until_complete(
                                asyncio.gather(*pending, return_exceptions=True))
                        loop.run_until_complete(loop.shutdown_asyncgens())
                        loop.close()

                self._thread = threading.Thread(target=main, name=self._name, daemon=True)
                self._thread.start()
                ready.wait()
                self._loop = loop
            return self._loop

    async def run(self, coro: Coroutine[Any, Any, _T], timeout: float | None = None) -> _T:
        """Run ``coro`` on the worker's loop and await its result from the caller's loop.

        Cancelling the caller's await cancels ``coro`` too. With ``timeout``, ``coro`` is
        cancelled after that many seconds and ``TimeoutError`` raised, as
        ``asyncio.timeout`` around the await would; the timer runs on the worker's loop,
        where it costs a heap entry, not a Qt timer started and killed on the window's
        thread for every request (about 3% of a first load's GUI-thread time).
        """
        loop = self._start()
        work = coro if timeout is None else _within(timeout, coro)
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(work, loop))

    def stop(self) -> None:
        """Stop the loop once what it runs now has been cancelled, and join the thread."""
        with self._lock:
            loop, thread = self._loop, self._thread
            self._loop = self._thread = None
        if loop is None or thread is None:
            return
        if thread is threading.current_thread():  # never join oneself
            loop.call_soon(loop.stop)
            return
        loop.call_soon_threadsafe(loop.stop)
        thread.join()


async def _within(seconds: float, coro: Coroutine[Any, Any, _T]) -> _T:
    async with asyncio.timeout(seconds):
        return await coro
