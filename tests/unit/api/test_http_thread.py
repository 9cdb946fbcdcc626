"""HttpThread: coroutines run on the worker's loop, awaited from the caller's."""

from __future__ import annotations

import asyncio
import threading

import pytest

from makini_desktop.api.http_thread import HttpThread


def test_a_timeout_cancels_the_work_on_the_worker_and_raises_timeout_error():
    """Past its timeout the coroutine is cancelled on the worker's loop and the caller gets
    TimeoutError; within it, the result comes back from the worker's thread."""
    worker = HttpThread("test-http")
    cancelled = threading.Event()
    ran_on: list[str] = []

    async def slow() -> str:
        ran_on.append(threading.current_thread().name)
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            cancelled.set()
            raise
        return "late"

    async def quick() -> str:
        await asyncio.sleep(0)
        return threading.current_thread().name

    async def main() -> str:
        with pytest.raises(TimeoutError):
            await worker.run(slow(), timeout=0.05)
        return await worker.run(quick(), timeout=5)

    try:
        assert asyncio.run(main()) == "test-http"
    finally:
        worker.stop()
    assert ran_on == ["test-http"]
    assert cancelled.is_set()
